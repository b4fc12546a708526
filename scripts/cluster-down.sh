#!/usr/bin/env bash
# Stops everything scripts/cluster-up.sh DIR started, in order, and removes DIR:
# HAProxy and the smacert nodes, then Patroni (which stops its PostgreSQL), then etcd; a
# process that does not stop within 10 s is killed, and so is any postmaster left behind
# (a killed Patroni does not stop its PostgreSQL). Safe after a failed or partial start.
# Usage: scripts/cluster-down.sh DIR [--keep]   (--keep: leave DIR, e.g. to read its logs)
set -uo pipefail

dir=${1:-}
[[ -n $dir && -d $dir ]] || { echo "usage: $0 DIR [--keep]" >&2; exit 2; }
keep=${2:-}

stop() {  # PIDFILE...
  local pids=()
  for f in "$@"; do
    [[ -f $f ]] || continue
    p=$(cat "$f")
    kill -TERM "$p" 2>/dev/null && pids+=("$p")
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -f "$@"
}

stop "$dir"/pids/haproxy.pid "$dir"/pids/node1.pid "$dir"/pids/node2.pid "$dir"/pids/ocsp.pid
stop "$dir"/pids/patroni1.pid "$dir"/pids/patroni2.pid
for f in "$dir"/n*/data/postmaster.pid; do
  [[ -f $f ]] || continue
  p=$(head -1 "$f")
  kill -QUIT "$p" 2>/dev/null || true
  for _ in $(seq 25); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
done
stop "$dir"/pids/etcd.pid
if [[ $keep != --keep ]]; then
  rm -rf "$dir"
fi
exit 0
