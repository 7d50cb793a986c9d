#!/usr/bin/env bash
# Builds the root filesystem and image config of littleecom/rabbitmq from Debian's
# rabbitmq-server package, laid out so that it keeps the contract of the official rabbitmq
# image that the operator's StatefulSet relies on: user 999:999, HOME /var/lib/rabbitmq with
# the Erlang cookie in it, the broker and its CLI tools on PATH running as that user without
# su, logs to stdout, management and prometheus plugins enabled, coreutils' install for the
# cookie init container. No Docker engine or registry is reachable here: Debian packages are
# fetched with apt-get download from the host's configured mirror and unpacked with
# dpkg-deb -x; no maintainer script runs, so what they would have done is done here.
#
# Usage: hack/rabbitmq-image.sh <dir>
# Writes <dir>/rootfs, <dir>/config.json (the "config" object of an OCI image config),
# <dir>/version (the upstream RabbitMQ version, e.g. 3.10.8) and <dir>/packages (the Debian
# packages and versions inside); <dir>/.apt holds apt's private state while it runs. A second
# run with the result present does nothing. Needs root (files owned by uid 999), apt-get
# and dpkg-deb; takes about 1.5 min.
# RABBITMQ_VERSION, when set, is the version the package must have (the build fails
# otherwise): the image tag the operator's default names must not drift silently.
set -euo pipefail

# The root set. dash is /bin/sh for the Debian scripts (rabbitmq-server, rabbitmqctl, erl are
# shell scripts); coreutils has what they call (dirname, readlink, expr, date, df for the disk
# monitor) and install, which the operator's init container runs; libc-bin has getconf, which
# the memory monitor asks for the page size. All three are Essential in Debian, so no
# package lists them as dependencies.
readonly ROOT_PACKAGES=(rabbitmq-server dash coreutils libc-bin)

# Dependencies left out, with what they would bring: maintainer-script and admin tooling the
# broker never runs. adduser, dpkg, debianutils: install-time helpers (users are written
# below). logrotate, lsb-base: the init.d service. openssl, socat: the postinst's cookie and
# nothing at runtime (erlang-crypto links libssl itself). procps (ps, and perl through
# init-system-helpers): Erlang reads /proc on Linux. python3: rabbitmqadmin, which is removed.
readonly EXCLUDED_PACKAGES=(adduser debianutils dpkg logrotate lsb-base openssl procps python3 socat)

# The official image's rabbitmq user and group.
readonly RABBITMQ_UID=999 RABBITMQ_GID=999

log() { echo "rabbitmq-image: $*" >&2; }
die() { log "$*"; exit 1; }

usage() { echo "usage: $0 <dir>" >&2; exit 2; }

# apt_ runs an apt command against a private state under $apt_dir: its own package lists,
# an empty dpkg status and its own archive cache, so the host's apt state is neither read
# nor changed. Sources, keys and apt.conf.d (a proxy, say) are the host's.
apt_() {
  local cmd=$1
  shift
  "$cmd" -q \
    -o Dir::State="$apt_dir/state" \
    -o Dir::State::status="$apt_dir/state/status" \
    -o Dir::Cache="$apt_dir/cache" \
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
    "$@"
}

apt_setup() {
  mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
  : > "$apt_dir/state/status"
  # apt downloads as the unprivileged _apt user where it exists.
  if id _apt >/dev/null 2>&1; then
    chown -R _apt "$apt_dir/state/lists" "$apt_dir/debs"
  fi
  log "refreshing package lists (private copy)"
  apt_ apt-get update >/dev/null || die "apt-get update failed"
}

# dependencies prints, one a line, the package that satisfies each Depends and Pre-Depends
# of the given packages: the first alternative, or for a virtual package its first provider.
dependencies() {
  apt_ apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" | awk '
    # A group of alternatives is a run of " |Depends: x" lines closed by a "  Depends: y".
    function flush(  i) {
      for (i = 1; i <= n; i++) if (pick[i] != "") { print pick[i]; break }
      n = 0; open = 0
    }
    /^[^ ]/ { flush(); next }
    /^ [ |][A-Za-z-]+: / {
      if (!open) flush()
      n++; name = $2; sub(/:any$/, "", name)
      pick[n] = (name ~ /^</) ? "" : name
      open = ($0 ~ /^ \|/)
      next
    }
    /^    [^ ]/ { if (n && pick[n] == "") { pick[n] = $1; sub(/:any$/, "", pick[n]) } }
    END { flush() }'
}

is_excluded() {
  local p
  for p in "${EXCLUDED_PACKAGES[@]}"; do [[ $1 == "$p" ]] && return 0; done
  return 1
}

# closure prints the root packages and their dependency closure, sorted, without the
# excluded packages and whatever only they would have pulled in.
closure() {
  local -A seen=()
  local queue=("${ROOT_PACKAGES[@]}") next p
  while ((${#queue[@]})); do
    for p in "${queue[@]}"; do seen[$p]=1; done
    mapfile -t next < <(dependencies "${queue[@]}" | sort -u)
    queue=()
    for p in "${next[@]}"; do
      is_excluded "$p" || [[ -n ${seen[$p]:-} ]] || queue+=("$p")
    done
  done
  printf '%s\n' "${!seen[@]}" | sort
}

# download fetches the packages' candidate versions; apt checks them against the signed
# indexes. Debs of an earlier, failed run go first: the mirror may have moved on since.
download() {
  rm -f "$apt_dir/debs/"*.deb
  (cd "$apt_dir/debs" && apt_ apt-get download "$@" >/dev/null) || die "apt-get download failed"
}

deb_of() {
  local debs=("$apt_dir/debs/$1"_*.deb)
  if ((${#debs[@]} != 1)) || [[ ! -f ${debs[0]} ]]; then
    die "expected one .deb of $1 in $apt_dir/debs, found ${#debs[@]}"
  fi
  echo "${debs[0]}"
}

# unpack extracts every package into the root filesystem and records its control fields in
# var/lib/dpkg/status.d/ (as distroless images do) so scanners can tell what is inside.
unpack() {
  local rootfs=$1 p deb
  shift
  mkdir -p "$rootfs/var/lib/dpkg/status.d"
  for p in "$@"; do
    deb="$(deb_of "$p")"
    dpkg-deb -x "$deb" "$rootfs"
    dpkg-deb -f "$deb" > "$rootfs/var/lib/dpkg/status.d/$p"
    echo "$p $(dpkg-deb -f "$deb" Version)"
  done
}

# configure does what the maintainer scripts and the official image's Dockerfile do.
configure() {
  local rootfs=$1
  cd "$rootfs"
  # dash's postinst makes it /bin/sh.
  [[ -e bin/sh ]] || ln -s dash bin/sh

  mkdir -p etc
  cat > etc/passwd <<EOF
root:x:0:0:root:/root:/bin/sh
rabbitmq:x:$RABBITMQ_UID:$RABBITMQ_GID:RabbitMQ messaging server:/var/lib/rabbitmq:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat > etc/group <<EOF
root:x:0:
rabbitmq:x:$RABBITMQ_GID:
nogroup:x:65534:
EOF
  # The node's long name resolves through DNS (the headless Service) and /etc/hosts.
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > etc/nsswitch.conf

  # Debian's /usr/sbin/rabbitmq* are wrappers that switch to the rabbitmq user with su or
  # runuser, refuse any other user, and send the server's output to
  # /var/log/rabbitmq/startup_log. Here the process already is that user (or any uid, as in
  # the official image) and logs go to stdout: link the upstream scripts instead, and their
  # rabbitmq-env and rabbitmq-defaults, which they source from their own directory.
  local bin=usr/lib/rabbitmq/bin script
  rm -f usr/sbin/rabbitmq* "$bin/rabbitmq-script-wrapper" "$bin/rabbitmq-server-wait"
  for script in "$bin"/rabbitmq*; do
    ln -s "../lib/rabbitmq/bin/${script##*/}" "usr/sbin/${script##*/}"
  done

  # The official management image's defaults; the operator mounts its own /etc/rabbitmq
  # over them. Logs go to stdout through log.console, as the official image does since 3.9:
  # RABBITMQ_LOGS=- would replace the configured console output and drop its settings (the
  # operator's log.console.formatter = json). Unlike the official image, guest stays
  # restricted to loopback (no loopback_users.guest = false).
  mkdir -p etc/rabbitmq/conf.d
  echo '[rabbitmq_management,rabbitmq_prometheus].' > etc/rabbitmq/enabled_plugins
  printf 'log.console = true\nlog.console.level = info\n' > etc/rabbitmq/conf.d/10-defaults.conf

  # The writable paths, owned by the rabbitmq user as the postinst and the official image
  # leave them. In the operator's pods they are volumes; without volumes they still work.
  mkdir -p var/lib/rabbitmq/mnesia var/log/rabbitmq tmp
  chmod 1777 tmp
  chown -R "$RABBITMQ_UID:$RABBITMQ_GID" var/lib/rabbitmq var/log/rabbitmq etc/rabbitmq
  chmod 0750 var/lib/rabbitmq/mnesia
  cd - >/dev/null
}

# prune removes what neither the broker nor its CLI tools use: documentation, translations,
# the init.d/systemd/logrotate/OCF service glue, shell completion and rabbitmqadmin (python).
prune() {
  local rootfs=$1
  rm -rf "$rootfs"/usr/share/{doc,man,info,locale,lintian,bash-completion,zsh,bug} \
    "$rootfs"/etc/{init.d,default,logrotate.d} "$rootfs"/lib/systemd "$rootfs"/usr/lib/ocf \
    "$rootfs"/usr/lib/rabbitmq/autocomplete "$rootfs"/usr/bin/rabbitmqadmin
  # Erlang's C headers, the rabbitmq-env.conf template nothing reads, and glibc's iconv
  # modules (8 MB): Erlang converts text itself and C.UTF-8 is built into glibc.
  rm -rf "$rootfs"/usr/lib/erlang/usr/include "$rootfs"/usr/share/rabbitmq \
    "$rootfs"/usr/lib/*-linux-gnu/gconv
  find "$rootfs" -depth -type d -empty ! -path "$rootfs/tmp" ! -path "$rootfs/var/*" -delete
  # Mount points the runtime fills; with them present it need not create any in the image.
  mkdir -p "$rootfs"/{dev,proc,sys,run}
}

# config_json prints the OCI image config's "config" object.
config_json() {
  cat <<EOF
{
  "User": "$RABBITMQ_UID:$RABBITMQ_GID",
  "Env": [
    "PATH=/usr/lib/rabbitmq/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/var/lib/rabbitmq",
    "LANG=C.UTF-8",
    "LC_ALL=C.UTF-8"
  ],
  "Cmd": ["rabbitmq-server"],
  "WorkingDir": "/var/lib/rabbitmq",
  "ExposedPorts": {
    "4369/tcp": {}, "5671/tcp": {}, "5672/tcp": {}, "15671/tcp": {}, "15672/tcp": {},
    "15691/tcp": {}, "15692/tcp": {}, "25672/tcp": {}
  },
  "Volumes": {"/var/lib/rabbitmq": {}}
}
EOF
}

# package_epoch prints the newest timestamp of the files unpacked from the packages.
package_epoch() {
  local newest
  newest="$(find "$1" -type f ! -path '*/var/lib/dpkg/status.d/*' -printf '%T@\n' | sort -n | tail -1)"
  echo "${newest%.*}"
}

# clamp_mtimes gives every file newer than epoch (what this script wrote, and directories
# that unpacking touched) that timestamp, so the same packages always give the same tree.
clamp_mtimes() {
  local rootfs=$1 epoch=$2 ref
  ref="$(mktemp)"
  touch -d "@$epoch" "$ref"
  find "$rootfs" -newer "$ref" -exec touch -h -d "@$epoch" {} +
  rm -f "$ref"
}

built() { [[ -d $1/rootfs && -f $1/config.json && -f $1/version ]]; }

main() {
  (($# == 1)) || usage
  local dir=$1
  built "$dir" && return 0
  ((EUID == 0)) || die "run as root: the root filesystem has files owned by uid $RABBITMQ_UID"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  # One build at a time per directory; a second caller waits, then finds the result.
  exec 9> "$dir/.lock"
  flock 9
  built "$dir" && return 0
  apt_dir="$dir/.apt"
  local start=$SECONDS rootfs="$dir/rootfs.tmp" packages
  rm -rf "$rootfs"
  mkdir -p "$rootfs"

  apt_setup
  mapfile -t packages < <(closure)
  log "${#packages[@]} packages: ${packages[*]}"
  download "${packages[@]}"

  local version
  version="$(dpkg-deb -f "$(deb_of rabbitmq-server)" Version)"
  version="${version#*:}"
  version="${version%%-*}"
  if [[ -n ${RABBITMQ_VERSION:-} && $version != "$RABBITMQ_VERSION" ]]; then
    die "the mirror has rabbitmq-server $version, RABBITMQ_VERSION is $RABBITMQ_VERSION"
  fi

  unpack "$rootfs" "${packages[@]}" > "$dir/packages.tmp"
  local epoch
  epoch="$(package_epoch "$rootfs")"
  configure "$rootfs"
  prune "$rootfs"
  clamp_mtimes "$rootfs" "$epoch"
  config_json > "$dir/config.json.tmp"

  rm -rf "$dir/rootfs"
  mv "$rootfs" "$dir/rootfs"
  mv "$dir/packages.tmp" "$dir/packages"
  mv "$dir/config.json.tmp" "$dir/config.json"
  # version last: its presence marks a complete result. The apt state goes: a rebuild
  # (after the result is removed) fetches fresh lists and packages anyway.
  echo "$version" > "$dir/version"
  rm -rf "$apt_dir"
  log "rabbitmq $version: $(du -sh --apparent-size "$dir/rootfs" | cut -f1) in $((SECONDS - start)) s"
}

main "$@"
