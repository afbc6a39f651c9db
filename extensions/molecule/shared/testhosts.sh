#!/usr/bin/env bash
# Test hosts for the Molecule scenarios: Linux network namespaces on this
# machine, each reached over SSH at an address of its own, each with its own
# mount and UTS namespace and its own runc state folder over /run/runc, and
# its own folders for what networking keeps (see HOST_FOLDERS).
#
#   testhosts.sh up PUBKEY NAME:N[:systemd] ...  start hosts (idempotent)
#   testhosts.sh reboot NAME [NAME ...]          stop a systemd host and boot it again
#   testhosts.sh down NAME [NAME ...]            stop them and remove everything
#   testhosts.sh check NAME [NAME ...]           list what is left; exit 1 if anything
#   testhosts.sh running NAME                    exit 0 if the host's sshd or systemd container
#                                                runs and its link is on the bridge
#
# Host NAME:N gets the address 10.213.0.N on the bridge ocirunc-br0
# (10.213.0.1), which only this machine can reach. Without the bridge, the
# machine's default route would carry a packet for 10.213.0.N away to
# another network: ask `running` before contacting a host that may be down. Its files live in
# /var/lib/oci-runtime-runc-testhosts/NAME; run-runc/ there is what the
# host sees as /run/runc.
#
# A host NAME:N:systemd is a whole machine instead: a privileged runc
# container (root $SYSTEMD_ROOT, id testhost-NAME) in the host's network
# namespace that boots systemd as PID 1 from a copy of the rootfs that
# tests/files/systemd-host-image.sh made ($SYSTEMD_IMAGE); its own sshd
# answers at the address. Its rootfs outlives a reboot, its /run does not.
# Its cgroup is /ocirunc-systemd-NAME, a top-level one of its own: the
# scenarios' destroy looks for what is left by that name.
set -euo pipefail

# What a host sees of its own at these paths, as separate machines would:
# its runc state, its named network namespaces, its CNI networks, address
# leases and runc_container's network state files. Folder in the host's
# directory:path it is bound over.
HOST_FOLDERS=(
  run-runc:/run/runc
  run-netns:/run/netns
  cni-net.d:/etc/cni/net.d
  var-lib-cni:/var/lib/cni
  networks:/var/lib/oci-runtime-runc/networks
)

BASE=/var/lib/oci-runtime-runc-testhosts
BRIDGE=ocirunc-br0
NET=10.213.0
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

SYSTEMD_ROOT=/run/oci-runtime-runc-testhosts
SYSTEMD_IMAGE=${OCI_RUNC_SYSTEMD_IMAGE:-/var/cache/oci_runtime_runc/systemd-host/rootfs}

netns() { echo "ocirunc-$1"; }
# A link name has at most 15 characters: a longer host name gets 11 hex of its hash, so that two
# hosts whose names share a beginning never share a link.
veth() {
  if ((${#1} <= 11)); then
    echo "orv-$1"
  else
    echo "orv-$(printf '%s' "$1" | sha256sum | cut -c1-11)"
  fi
}

sshd_pid() {
  local pidfile="$BASE/$1/sshd.pid" pid
  [[ -f $pidfile ]] || return 1
  pid=$(cat "$pidfile")
  [[ -d /proc/$pid ]] && grep -q "$BASE/$1/sshd_config" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

up() {
  local pubkey=$1 spec name index dir ns
  shift
  local entry
  mkdir -p /run/sshd
  for entry in "${HOST_FOLDERS[@]}"; do
    mkdir -p "${entry#*:}"
  done
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  for spec in "$@"; do
    IFS=: read -r name index kind <<<"$spec"
    dir="$BASE/$name"
    ns=$(netns "$name")
    if sshd_pid "$name" >/dev/null || systemd_host_runs "$name"; then
      continue
    fi
    mkdir -p "$dir"
    chmod 0700 "$dir"
    if [[ $kind == systemd ]]; then
      add_link "$name" "$index"
      boot "$name" "$pubkey"
      continue
    fi
    for entry in "${HOST_FOLDERS[@]}"; do
      mkdir -p "$dir/${entry%%:*}"
    done
    [[ -f $dir/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key"
    install -m 0600 "$pubkey" "$dir/authorized_keys"
    cat > "$dir/sshd_config" <<EOF
ListenAddress $NET.$index
Port 22
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 50
MaxStartups 50
Subsystem sftp internal-sftp
EOF
    add_link "$name" "$index"
    # Not `ip netns exec`: it remounts /sys and would hide the cgroups.
    nsenter --net="/run/netns/$ns" unshare --mount --uts --propagation private "$0" start-sshd "$dir" "$name"
    for _ in $(seq 100); do
      sshd_pid "$name" >/dev/null && break
      sleep 0.05
    done
    sshd_pid "$name" >/dev/null || { echo "testhosts: sshd of $name did not start" >&2; exit 1; }
  done
}

# The host's network namespace, with its end of a veth on the bridge.
add_link() {
  local name=$1 index=$2 ns
  ns=$(netns "$name")
  if [[ ! -e /run/netns/$ns ]]; then
    ip netns add "$ns"
  fi
  if ! ip link show "$(veth "$name")" >/dev/null 2>&1; then
    ip link add "$(veth "$name")" type veth peer name eth0 netns "$ns"
    ip link set "$(veth "$name")" master "$BRIDGE" up
    nsenter --net="/run/netns/$ns" ip addr add "$NET.$index/24" dev eth0
    nsenter --net="/run/netns/$ns" ip link set eth0 up
    nsenter --net="/run/netns/$ns" ip link set lo up
  fi
}

# runc state of a systemd host's container; fails when there is none. runc makes its --root when
# it is missing: never ask it of a root that is gone, or the question leaves the folder down removed.
systemd_host_state() {
  [[ -d $SYSTEMD_ROOT ]] && runc --root "$SYSTEMD_ROOT" state "testhost-$1" 2>/dev/null
}

systemd_host_runs() {
  [[ $(systemd_host_state "$1" | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p') == running ]]
}

# Boot a systemd host: its rootfs (copied once), its keys, then its container.
boot() {
  local name=$1 pubkey=$2 dir bundle
  dir="$BASE/$name"
  bundle="$dir/bundle"
  if [[ ! -d $bundle/rootfs ]]; then
    [[ -d $SYSTEMD_IMAGE ]] || { echo "testhosts: no systemd host image at $SYSTEMD_IMAGE" >&2; exit 1; }
    mkdir -p "$bundle"
    # A copy a killed run left half made.
    rm -rf --one-file-system "$bundle/rootfs.tmp"
    cp -a "$SYSTEMD_IMAGE" "$bundle/rootfs.tmp"
    mv "$bundle/rootfs.tmp" "$bundle/rootfs"
  fi
  [[ -f $dir/ssh_host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$dir/ssh_host_ed25519_key"
  install -m 0600 "$dir/ssh_host_ed25519_key" "$bundle/rootfs/etc/ssh/ssh_host_ed25519_key"
  install -m 0644 "$dir/ssh_host_ed25519_key.pub" "$bundle/rootfs/etc/ssh/ssh_host_ed25519_key.pub"
  install -d -m 0700 "$bundle/rootfs/root/.ssh"
  install -m 0600 "$pubkey" "$bundle/rootfs/root/.ssh/authorized_keys"
  echo "$name" > "$bundle/rootfs/etc/hostname"
  python3 "$(dirname "$0")/systemd-host-config.py" "$bundle" "/run/netns/$(netns "$name")" "$name" \
    "/ocirunc-systemd-$name" > "$bundle/config.json"
  mkdir -p "$SYSTEMD_ROOT"
  runc --root "$SYSTEMD_ROOT" delete --force "testhost-$name" 2>/dev/null || true
  run_host "$name"
}

# The host's container, booting: detached, and off pipes (the console goes to a file).
run_host() {
  local dir="$BASE/$1"
  runc --root "$SYSTEMD_ROOT" run --detach --bundle "$dir/bundle" "testhost-$1" \
    </dev/null >>"$dir/console.log" 2>&1 || { tail -20 "$dir/console.log" >&2; exit 1; }
}

# Stop a systemd host as a shutdown would: systemd stops its units, then exits.
halt() {
  local name=$1
  systemd_host_state "$name" >/dev/null || return 0
  # SIGRTMIN+4: systemd's poweroff.
  runc --root "$SYSTEMD_ROOT" kill "testhost-$name" 38 2>/dev/null || true
  for _ in $(seq 300); do
    systemd_host_runs "$name" || break
    sleep 0.1
  done
  # Never stop at one host: down goes on with the others, and check reports what is left.
  runc --root "$SYSTEMD_ROOT" delete --force "testhost-$name" || true
}

reboot() {
  local name
  for name in "$@"; do
    [[ -f $BASE/$name/bundle/config.json ]] || { echo "testhosts: $name is no systemd host" >&2; exit 1; }
    halt "$name"
    run_host "$name"
  done
}

down() {
  local name dir ns pid container
  for name in "$@"; do
    dir="$BASE/$name"
    ns=$(netns "$name")
    halt "$name"
    if [[ -d $dir/run-runc ]]; then
      for container in $(runc --root "$dir/run-runc" list --quiet 2>/dev/null); do
        runc --root "$dir/run-runc" delete --force "$container" || true
      done
    fi
    if pid=$(sshd_pid "$name"); then
      # The daemon and every session it forked.
      pkill -KILL -f "sshd: .*" --ns "$pid" --nslist net 2>/dev/null || true
      kill -KILL "$pid" 2>/dev/null || true
    fi
    if ip link show "$(veth "$name")" >/dev/null 2>&1; then
      ip link del "$(veth "$name")"
    fi
    if [[ -e /run/netns/$ns ]]; then
      ip netns del "$ns"
    fi
    rm -rf --one-file-system "$dir"
  done
  rmdir "$BASE" 2>/dev/null || true
  rmdir "$SYSTEMD_ROOT" 2>/dev/null || true
  if [[ ! -d $BASE ]] && ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link del "$BRIDGE"
  fi
}

check() {
  local name left=()
  for name in "$@"; do
    [[ -e /run/netns/$(netns "$name") ]] && left+=("netns $(netns "$name")")
    ip link show "$(veth "$name")" >/dev/null 2>&1 && left+=("link $(veth "$name")")
    pgrep -f "$BASE/$name/sshd_config" >/dev/null && left+=("sshd of $name")
    systemd_host_state "$name" >/dev/null && left+=("container testhost-$name")
    [[ -e $BASE/$name ]] && left+=("folder $BASE/$name")
  done
  if [[ ! -d $BASE ]] && ip link show "$BRIDGE" >/dev/null 2>&1; then
    left+=("bridge $BRIDGE")
  fi
  # Empty once no systemd host runs: down removes it then.
  if [[ -d $SYSTEMD_ROOT ]] && [[ -z $(ls -A "$SYSTEMD_ROOT") ]]; then
    left+=("folder $SYSTEMD_ROOT")
  fi
  if ((${#left[@]})); then
    printf 'left: %s\n' "${left[@]}"
    return 1
  fi
  echo "nothing left"
}

# Whether a playbook may contact the host: without the bridge or its link, a packet for its
# address would leave this machine. Not whether SSH answers yet (wait_for_connection says that).
running() {
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link show "$(veth "$1")" >/dev/null 2>&1 \
    && { sshd_pid "$1" >/dev/null || systemd_host_runs "$1"; }
}

# Runs inside the host's new mount and UTS namespaces (see up).
start_sshd() {
  local entry
  for entry in "${HOST_FOLDERS[@]}"; do
    mount --bind "$1/${entry%%:*}" "${entry#*:}"
  done
  hostname "$2"
  exec /usr/sbin/sshd -f "$1/sshd_config"
}

command=${1:-}
shift || true
case $command in
  up) up "$@" ;;
  reboot) reboot "$@" ;;
  down) down "$@" ;;
  check) check "$@" ;;
  running) (($# == 1)) || { echo "usage: $0 running NAME" >&2; exit 2; }; running "$1" ;;
  start-sshd) start_sshd "$@" ;;
  *) echo "usage: $0 up PUBKEY NAME:N[:systemd]... | reboot NAME... | down NAME... | check NAME... | running NAME" >&2
     exit 2 ;;
esac
