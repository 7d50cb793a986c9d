# shellcheck shell=bash
# The host side of the node, sourced by hack/cluster.sh: what the machine must offer, the
# Debian packages, and every change the node makes outside CLUSTER_DIR, recorded before it is
# made ($CLUSTER_DIR/host) so that `down` undoes exactly that and nothing else.

# Commands the node needs and the Debian packages that bring them.
host_packages=(
  containerd:containerd
  ctr:containerd
  runc:runc
  /usr/lib/cni/bridge:containernetworking-plugins
  iptables:iptables
  ipset:ipset
  nft:nftables
)

# Host paths that kubelet, containerd and libcni hardcode, plus the hostpath provisioner's
# directory; `down` removes those that did not exist before `up`.
host_paths=(
  /var/lib/kubelet
  /var/lib/cni
  /var/log/containers
  /var/log/pods
  /run/containerd
  /run/netns
  /tmp/hostpath_pv
)

# Sysctls the kubelet (vm.*, kernel.*) and the CNI bridge plugin (forwarding) change.
host_sysctls=(
  vm.overcommit_memory
  vm.panic_on_oom
  kernel.panic
  kernel.panic_on_oops
  kernel.keys.root_maxkeys
  kernel.keys.root_maxbytes
  net.ipv4.ip_forward
  net.ipv4.conf.all.forwarding
  net.ipv4.conf.default.forwarding
  net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables
  net.bridge.bridge-nf-call-ip6tables
)

# The nftables table that keeps pods off the host (see host_firewall_up).
host_pod_table="littleecom_${CLUSTER_BRIDGE//[^a-zA-Z0-9_]/_}"

host_state="$CLUSTER_DIR/host"

# host_check fails with one message naming everything this machine lacks to host a node.
host_check() {
  local missing=()
  [[ "$(uname -s)" == Linux ]] || missing+=("Linux (this is $(uname -s))")
  [[ "$(id -u)" == 0 ]] || missing+=("root (the node changes the network and mounts)")
  if [[ "$(uname -s)" == Linux ]]; then
    grep -qw overlay /proc/filesystems || missing+=("the overlay file system in the kernel")
    [[ -d /proc/sys/net/bridge ]] || missing+=("bridge netfilter (br_netfilter) in the kernel")
    [[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] ||
      missing+=("a memory cgroup")
  fi
  command -v apt-get >/dev/null 2>&1 || host_commands_present ||
    missing+=("apt-get (to install containerd, runc, CNI plugins, iptables, ipset, nftables)")
  ((${#missing[@]} == 0)) && return 0
  local needs
  printf -v needs '%s; ' "${missing[@]}"
  fail "this machine cannot host the node: it needs ${needs%; }"
}

host_commands_present() {
  local entry
  for entry in "${host_packages[@]}"; do
    host_has "${entry%%:*}" || return 1
  done
}

host_has() {
  if [[ "$1" == /* ]]; then [[ -x "$1" ]]; else command -v "$1" >/dev/null 2>&1; fi
}

# host_install installs the missing packages. policy-rc.d keeps their service scripts from
# starting a containerd of their own; ours runs from CLUSTER_DIR.
host_install() {
  local entry packages=()
  for entry in "${host_packages[@]}"; do
    host_has "${entry%%:*}" || packages+=("${entry#*:}")
  done
  ((${#packages[@]})) || return 0
  mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
  log "installing ${packages[*]} with apt-get (first run only)"
  local policy=/usr/sbin/policy-rc.d created_policy=""
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
  fi
  local ok=1
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || ok=""
  if [[ -n "$ok" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" \
      >"$CLUSTER_DIR/logs/apt-get.log" 2>&1 || ok=""
  fi
  [[ -n "$created_policy" ]] && rm -f "$policy"
  [[ -n "$ok" ]] ||
    fail "this machine cannot host the node: apt-get cannot install ${packages[*]} (see $CLUSTER_DIR/logs/apt-get.log)"
}

# host_record notes, once per node, what `down` must put back: sysctl values, which host paths,
# nftables tables and kubepods cgroups did not exist yet.
host_record() {
  [[ -f "$host_state/recorded" ]] && return 0
  mkdir -p "$host_state"
  local key path
  for key in "${host_sysctls[@]}"; do
    [[ -e "/proc/sys/${key//.//}" ]] && echo "$key=$(sysctl -n "$key")"
  done > "$host_state/sysctl"
  for path in "${host_paths[@]}"; do
    [[ -e "$path" || -L "$path" ]] || echo "$path"
  done > "$host_state/absent-paths"
  for path in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
    [[ -d "${path}kubepods" ]] || echo "${path}kubepods"
  done > "$host_state/absent-cgroups"
  nft list tables > "$host_state/nft-tables"
  touch "$host_state/recorded"
}

# host_network_up makes the node's address: a bridge that exists before anything else, since
# the kubelet refuses a loopback node IP and nothing of the node should listen on eth0. The
# CNI bridge plugin then attaches the pods to it.
host_network_up() {
  if ! ip link show "$CLUSTER_BRIDGE" >/dev/null 2>&1; then
    ip link add "$CLUSTER_BRIDGE" type bridge
    touch "$host_state/bridge"
    ip addr add "$CLUSTER_NODE_IP/${CLUSTER_POD_CIDR#*/}" dev "$CLUSTER_BRIDGE"
    # Pods get IPv4 only; without IPv6 on the bridge they cannot reach the host over it either.
    sysctl -qw "net.ipv6.conf.$CLUSTER_BRIDGE.disable_ipv6=1"
    ip link set "$CLUSTER_BRIDGE" up
  elif [[ ! -f "$host_state/bridge" ]]; then
    fail "the interface $CLUSTER_BRIDGE exists and is not this node's (set CLUSTER_BRIDGE)"
  fi
  host_firewall_up
}

# host_firewall_up keeps pods off the host: they may open connections to the API server (the
# kubernetes Service leads there) and nothing else; replies to the host's own connections
# (probes, port-forward) stay allowed. The guard is an nftables table of its own that runs
# before iptables' filter chains: an iptables ACCEPT, such as the one kube-router puts first
# in INPUT for traffic its NetworkPolicies allow, cannot skip a rule in another base chain.
host_firewall_up() {
  nft list table inet "$host_pod_table" >/dev/null 2>&1 && return 0
  nft -f - <<NFT
table inet $host_pod_table {
  chain input {
    type filter hook input priority filter - 10; policy accept;
    iifname "$CLUSTER_BRIDGE" ct state established,related accept
    iifname "$CLUSTER_BRIDGE" tcp dport $CLUSTER_API_PORT accept
    iifname "$CLUSTER_BRIDGE" meta l4proto tcp reject with tcp reset
    iifname "$CLUSTER_BRIDGE" meta l4proto udp reject
  }
}
NFT
}

# host_hostpath_up points the in-tree hostpath provisioner, which hardcodes /tmp/hostpath_pv,
# into CLUSTER_DIR.
host_hostpath_up() {
  local link=/tmp/hostpath_pv target="$CLUSTER_DIR/volumes"
  mkdir -p "$target"
  [[ "$(readlink "$link" 2>/dev/null)" == "$target" ]] && return 0
  [[ -e "$link" || -L "$link" ]] &&
    fail "$link exists and is not this node's (the hostpath provisioner writes there)"
  ln -s "$target" "$link"
}

# host_unmount_all unmounts everything below the node's directories, deepest first.
host_unmount_all() {
  local prefixes=("$CLUSTER_DIR/" /var/lib/kubelet/ /run/containerd/ /run/netns/) target prefix
  findmnt -rn -o TARGET | sort -r | while read -r target; do
    target="$(printf '%b' "$target")" # findmnt escapes blanks as \x20
    for prefix in "${prefixes[@]}"; do
      if [[ "$target/" == "$prefix"* ]]; then
        umount "$target" 2>/dev/null || umount -l "$target"
        break
      fi
    done
  done
}

host_network_down() {
  if host_has nft && nft list table inet "$host_pod_table" >/dev/null 2>&1; then
    nft delete table inet "$host_pod_table"
  fi
  if [[ -f "$host_state/bridge" ]]; then
    ip link del "$CLUSTER_BRIDGE" 2>/dev/null || true
    rm -f "$host_state/bridge"
  fi
  host_iptables_clean
}

# host_iptables_clean removes what kubelet, kube-proxy and the CNI portmap plugin leave in
# iptables (kube-proxy --cleanup has run before): every KUBE-* and CNI-* chain and the rules of
# the built-in chains that jump to them, in one iptables-restore per family; then the tables
# iptables created that are empty now.
host_iptables_clean() {
  local family dump script
  for family in ip ip6; do
    host_has "${family}tables-save" || continue
    dump="$("${family}tables-save" 2>/dev/null)" || continue
    script="$(awk '
      /^\*/ { table = $0; next }
      /^:(KUBE|CNI)-/ { chains[table] = chains[table] " " substr($1, 2); next }
      /^-A [A-Z]+ .*-j (KUBE|CNI)-/ { sub(/^-A/, "-D"); rules[table] = rules[table] $0 "\n"; next }
      END {
        for (t in chains) {
          print t
          printf "%s", rules[t]
          n = split(chains[t], c, " ")
          for (i = 1; i <= n; i++) print "-F " c[i]
          for (i = 1; i <= n; i++) print "-X " c[i]
          print "COMMIT"
        }
      }' <<<"$dump")"
    if [[ -n "$script" ]]; then
      "${family}tables-restore" --noflush <<<"$script" || log "could not remove the KUBE-/CNI- chains ($family)"
    fi
  done
  host_nft_clean
}

# host_nft_clean deletes the nftables tables that iptables-nft created for the node, when they
# hold no rule any more; tables that existed before `up` stay.
host_nft_clean() {
  host_has nft || return 0
  [[ -f "$host_state/nft-tables" ]] || return 0
  local family name listing
  while read -r _ family name; do
    grep -qx "table $family $name" "$host_state/nft-tables" && continue
    listing="$(nft list table "$family" "$name" 2>/dev/null)" || continue
    # Only table and chain declarations (and braces) left: no rule.
    grep -qvE '^[[:space:]]*(table|chain|type|\}|$)' <<<"$listing" && continue
    nft delete table "$family" "$name"
  done < <(nft list tables)
}

# host_cgroups_down removes the kubepods cgroups the kubelet created, innermost first.
host_cgroups_down() {
  [[ -f "$host_state/absent-cgroups" ]] || return 0
  local dir
  while read -r dir; do
    [[ -d "$dir" ]] || continue
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null ||
      log "could not remove $dir (a process is still in it)"
  done < "$host_state/absent-cgroups"
}

# host_cgroup_pids prints the processes still in a kubepods cgroup: containers whose shim is
# gone. Only the node starts processes there.
host_cgroup_pids() {
  local dir
  for dir in /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods; do
    [[ -d "$dir" ]] || continue
    find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
}

host_sysctls_down() {
  [[ -f "$host_state/sysctl" ]] || return 0
  local line
  while read -r line; do
    sysctl -qw "$line" || log "could not restore $line"
  done < "$host_state/sysctl"
}

host_paths_down() {
  local link=/tmp/hostpath_pv
  [[ "$(readlink "$link" 2>/dev/null)" == "$CLUSTER_DIR/volumes" ]] && rm -f "$link"
  [[ -f "$host_state/absent-paths" ]] || return 0
  local path
  while read -r path; do
    if [[ -n "$path" && "$path" != "$link" ]]; then rm -rf "$path"; fi
  done < "$host_state/absent-paths"
}
