#!/usr/bin/env bash
# Installs Debian's rabbitmq-server when absent and runs it on 127.0.0.1:5672 for tests and
# `make dev`. Usage: hack/rabbitmq.sh start|stop|status. "start" is a no-op when it answers.
set -euo pipefail

log() { echo "rabbitmq: $*" >&2; }

ready() { rabbitmqctl -q await_startup --timeout 2 >/dev/null 2>&1; }

install() {
  command -v rabbitmq-server >/dev/null 2>&1 && return 0
  log "installing rabbitmq-server with apt-get (first run only, ~15 s)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || { log "apt-get update failed"; exit 1; }
  # policy-rc.d keeps the package's service scripts from starting a broker bound to every
  # interface; we start our own, bound to loopback, below.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' RETURN
  apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null ||
    { log "apt-get install rabbitmq-server failed: RabbitMQ is not installable here"; exit 1; }
}

configure() {
  mkdir -p /etc/rabbitmq
  cat > /etc/rabbitmq/rabbitmq-env.conf <<'CONF'
NODE_IP_ADDRESS=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
NODENAME=rabbit@localhost
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
CONF
  cat > /etc/rabbitmq/rabbitmq.conf <<'CONF'
listeners.tcp.default = 127.0.0.1:5672
loopback_users = none
CONF
  if [[ -x /usr/lib/rabbitmq/bin/rabbitmq-plugins ]] || command -v rabbitmq-plugins >/dev/null; then
    rabbitmq-plugins --offline enable rabbitmq_management >/dev/null 2>&1 || true
  fi
  # rabbitmq_prometheus serves the metrics the operator's broker serves on 15692: the
  # Grafana dashboard's test (services/internal/metrics) reads the real metric names here.
  echo '[rabbitmq_management,rabbitmq_prometheus].' > /etc/rabbitmq/enabled_plugins
  cat >> /etc/rabbitmq/rabbitmq.conf <<'CONF'
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = 15692
CONF
}

# ensure_prometheus enables rabbitmq_prometheus on a broker started before this script
# enabled it, without a restart (other tests may be using the broker): the listener is
# configured in the running node first, so that it binds to loopback as configure's
# rabbitmq.conf says for the next start.
ensure_prometheus() {
  curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:15692/metrics 2>/dev/null && return 0
  log "enabling rabbitmq_prometheus on 127.0.0.1:15692"
  rabbitmqctl -q eval 'application:set_env(rabbitmq_prometheus, tcp_config, [{ip, "127.0.0.1"}, {port, 15692}]).' >/dev/null &&
    rabbitmq-plugins -q enable rabbitmq_prometheus >/dev/null ||
    log "could not enable rabbitmq_prometheus; the dashboard test will skip its RabbitMQ names"
}

start() {
  if ready; then
    ensure_prometheus
    return 0
  fi
  install
  configure
  log "starting rabbitmq-server on 127.0.0.1:5672"
  rabbitmq-server -detached >/dev/null 2>&1 || true
  for _ in $(seq 1 120); do
    if ready; then
      log "ready"
      return 0
    fi
    sleep 0.5
  done
  log "did not start within 60 s; see /var/log/rabbitmq/"
  exit 1
}

stop() {
  ready || return 0
  local pid
  pid="$(rabbitmqctl -q eval 'list_to_integer(os:getpid()).' 2>/dev/null || true)"
  rabbitmqctl -q stop >/dev/null 2>&1 || true
  # rabbitmqctl stop returns before the VM exits; wait for it so the port is free.
  if [[ -n "$pid" ]]; then
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  # The broker started Erlang's port mapper and leaves it running; stop it too unless
  # another Erlang node still uses it.
  if command -v epmd >/dev/null && ! epmd -names 2>/dev/null | grep -q '^name '; then
    epmd -kill >/dev/null 2>&1 || true
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) ready && echo running || { echo stopped; exit 1; } ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
