#!/usr/bin/env bash
# Builds the original little-ecom backend (github.com/cassiozareck/little-ecom, directory
# backend/, measured at commit bff7156) for the load generator's side-by-side run
# (loadgen -original BINARY). Its four hard-coded addresses become environment variables;
# nothing else changes:
#   ORIGINAL_MONGODB_URI  MongoDB (the replica set's DNS names)
#   ORIGINAL_AMQP_URL     RabbitMQ
#   ORIGINAL_AUTH_URL     auth's /auth/validate, which it calls for every authenticated request
#   ORIGINAL_ADDR         its listen address (":8080")
# Usage: build.sh <checkout of little-ecom> <output binary>. Its source stays out of this
# repository; the Go module proxy serves its dependencies (go.sum pins them).
set -euo pipefail
src=${1:?usage: build.sh <little-ecom checkout> <output binary>}
out=$(realpath -m "${2:?usage: build.sh <little-ecom checkout> <output binary>}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/backend/." "$work/"
cd "$work"

# replace FILE LITERAL ENV: the quoted literal becomes os.Getenv("ENV"); "os" is imported.
replace() {
  local file=$1 literal=$2 env=$3
  grep -qF "\"$literal\"" "$file" || { echo "build.sh: $literal not found in $file (another version?)" >&2; exit 1; }
  LIT="\"$literal\"" REP="os.Getenv(\"$env\")" perl -0pi -e 's/\Q$ENV{LIT}\E/$ENV{REP}/; s/^import \(\n/import (\n\t"os"\n/m' "$file"
}
replace setup.go 'mongodb://mongo-mongodb-0.mongo-mongodb-headless.default.svc.cluster.local,mongo-mongodb-1.mongo-mongodb-headless.default.svc.cluster.local/?replicaSet=rs0' ORIGINAL_MONGODB_URI
replace setup_mq.go 'amqp://user:123@rabbitmq.default.svc.cluster.local:5672/' ORIGINAL_AMQP_URL
replace token.go 'http://auth-svc:8080/auth/validate' ORIGINAL_AUTH_URL
replace main.go ':8080' ORIGINAL_ADDR
gofmt -l . >/dev/null
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o "$out" .
echo "built $out"
