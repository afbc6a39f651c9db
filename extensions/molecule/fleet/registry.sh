#!/usr/bin/env bash
# The fleet scenario's image registry: Debian's docker-registry bound to the
# test bridge's address (see ../shared/testhosts.sh), which only this machine
# and the test hosts reach, on a free port, storing under DIR.
#
#   registry.sh start DIR ADDR   start it unless it runs; prints "started PORT" or "running PORT"
#   registry.sh stop DIR         stop it, remove DIR; exit 1 if anything of it is left
set -euo pipefail

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

registry_pid() {
  local pid
  [[ -f $1/pid ]] || return 1
  pid=$(cat "$1/pid")
  [[ -d /proc/$pid ]] && grep -q "$1/config.yml" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  local dir=$1 addr=$2 port
  if registry_pid "$dir" >/dev/null; then
    echo "running $(cat "$dir/port")"
    return
  fi
  mkdir -p "$dir/storage"
  chmod 0700 "$dir"
  rm -f "$dir/pushed"
  port=$(python3 -c 'import socket, sys; s = socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$addr")
  cat > "$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
http:
  addr: $addr:$port
EOF
  # A session of its own, no terminal, output to its log: it outlives this script.
  python3 -c '
import subprocess, sys
log = open(sys.argv[2], "ab")
process = subprocess.Popen(["docker-registry", "serve", sys.argv[1]], stdin=subprocess.DEVNULL,
                           stdout=log, stderr=log, start_new_session=True)
print(process.pid)' "$dir/config.yml" "$dir/registry.log" > "$dir/pid"
  echo "$port" > "$dir/port"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then
      echo "started $port"
      return
    fi
    registry_pid "$dir" >/dev/null || break
    sleep 0.1
  done
  echo "registry: docker-registry did not start on $addr:$port" >&2
  cat "$dir/registry.log" >&2 || true
  exit 1
}

stop() {
  local dir=$1 pid port left=()
  if pid=$(registry_pid "$dir"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
  fi
  pgrep -f "$dir/config.yml" >/dev/null && left+=("process of $dir/config.yml")
  if [[ -f $dir/port ]]; then
    port=$(cat "$dir/port")
    [[ -n $(ss -Hltn "sport = :$port") ]] && left+=("listener on port $port")
  fi
  if ((${#left[@]})); then
    printf 'left: %s\n' "${left[@]}"
    return 1
  fi
  rm -rf --one-file-system "$dir"
  echo "nothing left"
}

command=${1:-}
shift || true
case $command in
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: $0 start DIR ADDR | stop DIR" >&2; exit 2 ;;
esac
