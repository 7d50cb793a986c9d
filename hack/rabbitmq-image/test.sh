#!/usr/bin/env bash
# Runs the littleecom/rabbitmq root filesystem the way the operator's broker pod runs the
# image, without a cluster, and checks that it works: the pod's volumes, security context,
# init container, environment and probes come from the operator's builders
# (hack/rabbitmq-image/render); the image's Env, Cmd and WorkingDir from config.json.
#
# Each container gets an overlay of the rootfs, its volumes bind-mounted in, /proc, /dev and
# the kubelet's /etc/hosts, and then a read-only root, inside private mount, PID, UTS, IPC and
# network namespaces (loopback only: the host broker's ports are never in the way, and
# nothing listens outside). Processes run chrooted as the pod's user with only its groups.
# When the namespaces' first process exits the kernel kills everything left in them.
#
# Usage: hack/rabbitmq-image/test.sh <image-dir>   (the directory hack/rabbitmq-image.sh wrote)
# KEEP_WORK=1 keeps the work directory (the volumes and the broker's logs) for a look after.
# Needs root, unshare, overlayfs, jq and curl.
#
# The pod's variables (pod_name, volumes, main_mounts, ...) come from the rendered pod.sh.
# shellcheck disable=SC2154
set -euo pipefail

log() { echo "rabbitmq-image test: $*" >&2; }
die() {
  [[ -n ${broker_log:-} && -f $broker_log ]] && tail -n 40 "$broker_log" >&2
  log "FAIL: $*"
  exit 1
}

# elapsed prints the milliseconds since start (a date +%s%3N value).
elapsed() { echo "$(($(date +%s%3N) - $1))"; }

# --- outside the namespaces -------------------------------------------------------------

outer() {
  local image root work
  image="$(cd "$1" && pwd)"
  root="$(cd "$(dirname "$0")/../.." && pwd)"
  [[ -d $image/rootfs && -f $image/config.json ]] || die "$image has no rootfs and config.json; run hack/rabbitmq-image.sh first"
  ((EUID == 0)) || die "run as root (namespaces, mounts, chroot)"
  command -v jq >/dev/null || die "jq is needed to read config.json"

  work="$(mktemp -d /tmp/rabbitmq-image-test.XXXXXX)"
  if [[ -n ${KEEP_WORK:-} ]]; then
    log "keeping $work (volumes, broker logs)"
  else
    # shellcheck disable=SC2064 # expand now: work is local
    trap "rm -rf '$work'" EXIT
  fi
  log "rendering the operator's broker pod"
  (cd "$root" && go run ./hack/rabbitmq-image/render "$work/pod")
  # shellcheck source=/dev/null
  source "$work/pod/pod.sh"
  prepare_volumes "$work"
  unshare --mount --uts --ipc --net --pid --fork --kill-child -- "$0" --inside "$image" "$work"
}

# prepare_volumes creates each volume's directory with the ownership the kubelet gives it
# under fsGroup: group fs_group, setgid directories, group-readable files.
prepare_volumes() {
  local work=$1 v name kind dir
  mkdir -p "$work/volumes"
  for v in "${volumes[@]}"; do
    name=${v%%:*} kind=${v#*:} dir="$work/volumes/$name"
    case $kind in
      files)
        cp -a "$work/pod/volumes/$name" "$dir"
        chown -R "0:$fs_group" "$dir"
        find "$dir" -type d -exec chmod 2755 {} +
        find "$dir" -type f -exec chmod g+r {} +
        ;;
      emptyDir | claim)
        mkdir -p "$dir"
        chown "0:$fs_group" "$dir"
        chmod 2777 "$dir"
        ;;
      *) die "volume $name: unknown kind $kind" ;;
    esac
  done
}

# --- inside the namespaces --------------------------------------------------------------

inside() {
  image=$1 work=$2
  # shellcheck source=/dev/null
  source "$work/pod/pod.sh"
  mapfile -t image_env < <(jq -r '.Env[]' "$image/config.json")
  mapfile -t image_cmd < <(jq -r '.Cmd[]' "$image/config.json")
  workdir="$(jq -r '.WorkingDir // "/"' "$image/config.json")"

  mount --make-rprivate /
  hostname "$pod_name"
  ip link set lo up
  # What the kubelet writes for a StatefulSet pod with a subdomain: its FQDN and short name.
  mkdir -p "$work/etc"
  printf '127.0.0.1\tlocalhost\n127.0.0.1\t%s %s\n' "$pod_fqdn" "$pod_name" > "$work/etc/hosts"
  echo "$pod_name" > "$work/etc/hostname"
  echo "# no nameserver: the test resolves through /etc/hosts only" > "$work/etc/resolv.conf"

  run_init_container
  run_broker
}

# container_root mounts a container's root filesystem at $work/<name>/root: an overlay of the
# image (the runtime's snapshot), the given "volume:path:ro|rw" mounts in order, /proc, /dev,
# /sys and the kubelet's files, then makes the root itself read-only if asked.
container_root() {
  local name=$1 read_only=$2 m vol path mode
  shift 2
  local dir="$work/containers/$name"
  local root="$dir/root"
  mkdir -p "$dir/upper" "$dir/work" "$root"
  mount -t overlay overlay -o "lowerdir=$image/rootfs,upperdir=$dir/upper,workdir=$dir/work" "$root"
  for m in "$@"; do
    IFS=: read -r vol path mode <<< "$m"
    # The runtime creates missing mount points, inside earlier volumes too, as root.
    mkdir -p "$root$path"
    mount --bind "$work/volumes/$vol" "$root$path"
    [[ $mode == ro ]] && mount -o remount,bind,ro "$root$path"
  done
  mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
  mount -t tmpfs -o nosuid,mode=755 tmpfs "$root/dev"
  local n
  for n in null zero full random urandom tty; do
    touch "$root/dev/$n"
    mount --bind "/dev/$n" "$root/dev/$n"
  done
  for n in hosts hostname resolv.conf; do
    touch "$root/etc/$n"
    mount --bind "$work/etc/$n" "$root/etc/$n"
  done
  # Read-only for this mount point only: the volumes mounted inside stay as they are.
  if [[ $read_only == true ]]; then
    mount -o remount,bind,ro "$root"
  fi
  echo "$root"
}

# container_command sets cmd to the command line that runs its arguments in a container root
# as the pod's user, with the image's and the container's environment and the image's working
# directory, as the runtime would (and as kubectl exec does for the probes). Each process in
# the chain execs the next, so a background job's $! is the container's process.
container_command() {
  local root=$1
  shift
  # shellcheck disable=SC2016 # the container's shell expands $1 and $@
  cmd=(env -i "${image_env[@]}" HOSTNAME="$pod_name" "${container_env[@]}"
    /usr/sbin/chroot --userspec="$run_as_user:$run_as_group" --groups="$fs_group" "$root"
    /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$workdir" "$@")
}

in_container() {
  local cmd
  container_command "$@"
  "${cmd[@]}"
}

run_init_container() {
  local root
  root="$(container_root init "$init_read_only_root" "${init_mounts[@]}")"
  container_env=()
  log "init container: ${init_command[*]}"
  in_container "$root" "${init_command[@]}" || die "the init container failed"
  local cookie="$work/volumes/home/.erlang.cookie"
  [[ "$(stat -c '%a %u' "$cookie")" == "400 $run_as_user" ]] ||
    die "the cookie is $(stat -c '%a %u:%g' "$cookie"), want 400 owned by $run_as_user"
}

# run_broker boots the broker container, checks it, stops it as the kubelet does (SIGTERM),
# then boots it again on the same volumes, as a container restart in the same pod would.
run_broker() {
  local root
  root="$(container_root main "$main_read_only_root" "${main_mounts[@]}")"
  container_env=("${main_env[@]}")
  log "broker: ${image_cmd[*]} as $run_as_user:$run_as_group, env ${main_env[*]}"

  start_broker "$root" first
  check_probes "$root"
  check_definitions "$root"
  check_users "$root"
  check_listeners
  check_http
  check_logs
  check_read_only "$root"
  stop_broker

  start_broker "$root" restart
  check_definitions "$root"
  stop_broker
}

start_broker() {
  local root=$1 boot=$2 start cmd
  broker_log="$work/broker-$boot.log"
  start="$(date +%s%3N)"
  container_command "$root" "${image_cmd[@]}"
  "${cmd[@]}" > "$broker_log" 2>&1 &
  broker_pid=$!
  wait_ready "$root" "$broker_pid" || die "the broker did not pass its readiness probe ($boot boot)"
  log "ready after $(elapsed "$start") ms ($boot boot)"
}

stop_broker() {
  local start status=0
  start="$(date +%s%3N)"
  kill -TERM "$broker_pid"
  wait "$broker_pid" || status=$?
  ((status == 0)) || die "the broker exited $status on SIGTERM, want 0"
  log "stopped on SIGTERM in $(elapsed "$start") ms"
}

wait_ready() {
  local root=$1 pid=$2 _
  for _ in $(seq 1 90); do
    kill -0 "$pid" 2>/dev/null || return 1
    if in_container "$root" "${readiness_command[@]}" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

check_probes() {
  local root=$1 probe start probe_cmd
  for probe in readiness liveness; do
    case $probe in
      readiness) probe_cmd=("${readiness_command[@]}") ;;
      liveness) probe_cmd=("${liveness_command[@]}") ;;
    esac
    start="$(date +%s%3N)"
    in_container "$root" "${probe_cmd[@]}" > "$work/$probe.out" 2>&1 || {
      cat "$work/$probe.out" >&2
      die "$probe probe ${probe_cmd[*]} failed"
    }
    log "ok: $probe probe (${probe_cmd[*]}) in $(elapsed "$start") ms"
  done
  # The disk monitor runs df and the memory monitor reads /proc: both must work in the image.
  grep -Eq '^Free disk space: [0-9.]+ gb' "$work/liveness.out" || die "status shows no free disk space"
  grep -Eq '^Total memory used: [0-9.]+ gb' "$work/liveness.out" || die "status shows no memory use"
  log "ok: status reports $(grep -E '^Free disk space' "$work/liveness.out") and $(grep -E '^Total memory used' "$work/liveness.out")"
}

# check_definitions: definitions.json was imported at boot.
check_definitions() {
  local root=$1 name
  local -A have=()
  while read -r name; do have["exchange $name"]=1; done < <(in_container "$root" rabbitmqctl -q list_exchanges name --no-table-headers)
  while read -r name; do have["queue $name"]=1; done < <(in_container "$root" rabbitmqctl -q list_queues name --no-table-headers)
  for name in "${exchanges[@]}"; do [[ -n ${have["exchange $name"]:-} ]] || die "exchange $name was not imported"; done
  for name in "${queues[@]}"; do [[ -n ${have["queue $name"]:-} ]] || die "queue $name was not imported"; done
  log "ok: ${#exchanges[@]} exchanges and ${#queues[@]} queues imported from definitions.json"
  local users
  users="$(in_container "$root" rabbitmqctl -q list_users --no-table-headers | cut -f1 | sort | tr '\n' ' ')"
  [[ " $users" != *" guest "* ]] || die "the default guest user exists (users: $users)"
  log "ok: users $users(no guest)"
}

# check_users: the definitions' password hashes work (the operator computes them itself).
check_users() {
  local root=$1 user
  for user in "${users[@]}"; do
    in_container "$root" rabbitmqctl -q authenticate_user "${user%%:*}" "${user#*:}" >/dev/null ||
      die "user ${user%%:*} cannot authenticate with its password"
  done
  log "ok: ${#users[@]} users authenticate with their passwords"
}

# check_http: the management API answers the administrator, prometheus serves metrics.
check_http() {
  local admin=${users[0]}
  curl -fsS -o /dev/null -u "$admin" "http://127.0.0.1:${port_management}/api/overview" ||
    die "the management API refused the administrator"
  local metrics
  metrics="$(curl -fsS "http://127.0.0.1:${port_prometheus}/metrics")" || die "no metrics on port $port_prometheus"
  grep -q '^rabbitmq_' <<< "$metrics" || die "no rabbitmq_ metrics on port $port_prometheus"
  log "ok: management API on $port_management, metrics on $port_prometheus"
}

# check_listeners: every port the StatefulSet declares is listened on.
check_listeners() {
  local port listening
  listening="$(ss -Hltn | awk '{print $4}' | sed 's/.*://' | sort -u | tr '\n' ' ')"
  for port in "${ports[@]}"; do
    [[ " $listening" == *" $port "* ]] || die "nothing listens on container port $port (listening: $listening)"
  done
  log "ok: listening on ${ports[*]}"
}

# check_logs: once configured, the broker logs JSON lines to stdout (log.console.formatter =
# json; what comes before, the prelaunch and the banner, is plain text), and none is an error.
check_logs() {
  local lines other errors
  lines="$(grep -c '^{' "$broker_log" || true)"
  ((lines > 0)) || die "no JSON log lines on stdout"
  grep '^{' "$broker_log" | jq -e . >/dev/null || die "a log line is not JSON"
  other="$(grep -vc '^{' "$broker_log" || true)"
  errors="$(grep '^{' "$broker_log" | jq -r 'select(.level == "error" or .level == "critical") | .msg')"
  [[ -z $errors ]] || die "errors logged: $errors"
  log "ok: $lines JSON log lines on stdout, no errors ($other plain lines before logging is configured)"
}

check_read_only() {
  local root=$1
  if in_container "$root" touch /usr/lib/rabbitmq/x 2>/dev/null; then
    die "the root filesystem is writable"
  fi
  log "ok: root filesystem read-only"
}

if [[ ${1:-} == --inside ]]; then
  shift
  inside "$@"
else
  (($# == 1)) || { echo "usage: $0 <image-dir>" >&2; exit 2; }
  outer "$1"
fi
