#!/usr/bin/env bash
# Installs a Go tool at a pinned version into bin/<name>-<version> and links bin/<name> to it.
# Usage: hack/tools.sh <name> <package> <version>. A second run with the tool present does nothing.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
name="$1" pkg="$2" version="$3"
bin="$root/bin"
target="$bin/$name-$version"

mkdir -p "$bin"
if [[ ! -x "$target" ]]; then
  echo "tools: installing $pkg@$version" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  GOBIN="$tmp" GOFLAGS=-mod=mod go install "$pkg@$version"
  mv "$tmp/$(basename "${pkg%/v[0-9]*}")" "$target" 2>/dev/null || mv "$tmp"/* "$target"
fi
ln -sf "$(basename "$target")" "$bin/$name"
