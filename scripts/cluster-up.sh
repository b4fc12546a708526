#!/usr/bin/env bash
# A whole smacert deployment on one machine, on loopback only (docs/scale-out.md):
#
#   etcd ─ Patroni(node1: PostgreSQL) ─┐ streaming replication, synchronous_mode
#          Patroni(node2: PostgreSQL) ─┘
#   HAProxy :PG   → whichever PostgreSQL Patroni says is the primary
#   smacert serve ×2 (service nodes) and smacert serve --role ocsp, all on that database
#   HAProxy :HTTP → /ocsp/ /crl/ /ca/ to the OCSP node (service nodes as backup), the rest
#                   round-robin to the service nodes
#
# Usage: scripts/cluster-up.sh DIR [BASE_PORT]
#   DIR        a new or empty folder for everything (data, logs, pid files); made mode 0755 so
#              the unprivileged `postgres` user can enter it
#   BASE_PORT  first of a block of 60 loopback ports (default 29100: below Linux's ephemeral
#              range, 32768-60999, where any outgoing connection of another test may hold
#              one of them and etcd's bind then fails; the tests' throwaway PostgreSQL
#              uses 56000-57999)
#   SMACERT_BIN  the smacert binary (default build/smacert)
# Writes DIR/cluster.env (URLs, ports, files) for scripts and tests; stop everything with
# scripts/cluster-down.sh DIR (also after a failed start). Ready in about 10-15 s.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-}
base=${2:-29100}
[[ -n $dir ]] || { echo "usage: $0 DIR [BASE_PORT]" >&2; exit 2; }
[[ $base =~ ^[0-9]+$ ]] && ((base >= 1024 && base <= 65000)) ||
  { echo "cluster-up: BASE_PORT must be 1024-65000" >&2; exit 2; }
smacert=${SMACERT_BIN:-$here/build/smacert}
[[ -x $smacert ]] || { echo "cluster-up: $smacert is not built (make build)" >&2; exit 1; }
smacert=$(cd "$(dirname "$smacert")" && pwd)/$(basename "$smacert")
for tool in etcd patroni patronictl haproxy psql curl; do
  command -v "$tool" >/dev/null ||
    { echo "cluster-up: $tool is missing; run scripts/install-deps.sh" >&2; exit 1; }
done
PG_BIN=/usr/lib/postgresql/15/bin

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[[ -z $(ls -A "$dir") ]] || { echo "cluster-up: $dir is not empty" >&2; exit 1; }
chmod 755 "$dir"
mkdir -p "$dir/pids" "$dir/logs"

# Ports
etcd_client=$base etcd_peer=$((base + 1))
pg1=$((base + 10)) pg2=$((base + 11)) rest1=$((base + 20)) rest2=$((base + 21))
pg_front=$((base + 30)) haproxy_stats=$((base + 31))
node1=$((base + 40)) node2=$((base + 41)) ocsp=$((base + 42))
http_front=$((base + 50))

if [[ $(id -u) -eq 0 ]]; then
  AS=(setpriv --reuid=postgres --regid=postgres --init-groups)
  PG_USER=postgres
else
  AS=()
  PG_USER=$(id -un)
fi

# A daemon in the foreground of a background job: $! is the daemon itself.
daemon() {  # NAME COMMAND...
  local name=$1
  shift
  "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name.pid"
}

wait_for() {  # WHAT SECONDS COMMAND...
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "cluster-up: $what did not come up within ${seconds}s; logs in $dir/logs" >&2
  exit 1
}

# Another cluster (or anything) on these ports would be joined, not replaced: refuse.
for port in $etcd_client $etcd_peer $pg1 $pg2 $rest1 $rest2 $pg_front $node1 $node2 $ocsp \
  $http_front; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "cluster-up: port $port is in use (another cluster? choose another BASE_PORT)" >&2
    exit 1
  fi
done

# Step 1: etcd, the consensus store Patroni keeps its leader key in.
mkdir -p "$dir/etcd" "$dir/n1" "$dir/n2"
chmod 700 "$dir/n1" "$dir/n2" "$dir/etcd"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir/etcd" "$dir/n1" "$dir/n2" "$dir/logs"
daemon etcd "${AS[@]}" etcd --name e1 --data-dir "$dir/etcd/data" \
  --listen-client-urls "http://127.0.0.1:$etcd_client" \
  --advertise-client-urls "http://127.0.0.1:$etcd_client" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "e1=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
  --initial-cluster-token "smacert-$base"
wait_for etcd 20 curl -sf "http://127.0.0.1:$etcd_client/health"

# Step 2: two PostgreSQL 15 nodes under Patroni. synchronous_mode: a commit is acknowledged
# only once the standby has it, so a failover loses no acknowledged application.
for i in 1 2; do
  pg=$((i == 1 ? pg1 : pg2)) rest=$((i == 1 ? rest1 : rest2))
  cat >"$dir/node$i.yml" <<EOF
scope: smacert-$base
name: node$i
restapi:
  listen: 127.0.0.1:$rest
  connect_address: 127.0.0.1:$rest
etcd3:
  hosts: 127.0.0.1:$etcd_client
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters: {wal_level: replica, hot_standby: "on", max_wal_senders: 10,
                   max_replication_slots: 10, wal_log_hints: "on", max_connections: 100}
  initdb: [{encoding: UTF8}, {locale: C.UTF-8}, data-checksums]
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication replicator 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $dir/n$i/data
  bin_dir: $PG_BIN
  pgpass: $dir/n$i/pgpass
  authentication:
    replication: {username: replicator, password: replicator}
    superuser: {username: postgres, password: postgres}
  parameters:
    unix_socket_directories: $dir/n$i
EOF
done
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"/node*.yml
daemon patroni1 "${AS[@]}" patroni "$dir/node1.yml"
daemon patroni2 "${AS[@]}" patroni "$dir/node2.yml"

# Step 3: HAProxy. PostgreSQL: the node whose Patroni answers 200 on /primary. HTTP: the
# smacert nodes, checked on /healthz.
cat >"$dir/haproxy.cfg" <<EOF
global
    maxconn 2000
defaults
    retries 2
    timeout connect 2s
    timeout client 1h
    timeout server 1h
    timeout check 2s
listen stats
    mode http
    bind 127.0.0.1:$haproxy_stats
    stats enable
    stats uri /
listen postgresql
    mode tcp
    bind 127.0.0.1:$pg_front
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
    server node1 127.0.0.1:$pg1 maxconn 100 check port $rest1
    server node2 127.0.0.1:$pg2 maxconn 100 check port $rest2
frontend smacert
    mode http
    bind 127.0.0.1:$http_front
    option forwardfor
    acl status_path path_beg /ocsp/ /crl/ /ca/
    use_backend status if status_path
    default_backend service
backend service
    mode http
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 1s fall 2 rise 1
    server node1 127.0.0.1:$node1 check
    server node2 127.0.0.1:$node2 check
backend status
    mode http
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 1s fall 2 rise 1
    server ocsp 127.0.0.1:$ocsp check
    server node1 127.0.0.1:$node1 check backup
    server node2 127.0.0.1:$node2 check backup
EOF
daemon haproxy haproxy -f "$dir/haproxy.cfg" -db

primary_writable() {
  psql "host=127.0.0.1 port=$pg_front user=postgres dbname=postgres connect_timeout=1" \
    -qAtc 'select 1 where not pg_is_in_recovery()' | grep -q 1
}
wait_for "the PostgreSQL primary (through HAProxy)" 60 primary_writable
# The replica must be the synchronous standby before anything is accepted: only it may be
# promoted, and only then does a lost primary lose nothing.
sync_standby() { patronictl -c "$dir/node1.yml" list 2>/dev/null | grep 'Sync Standby' | grep -q running; }
wait_for "the synchronous standby" 60 sync_standby
psql "host=127.0.0.1 port=$pg_front user=postgres dbname=postgres" -qc 'CREATE DATABASE smacert' \
  >/dev/null
store="postgresql://postgres@127.0.0.1:$pg_front/smacert?connect_timeout=2"

# Step 4: smacert. The first node makes the CAs, push key and admin token; the others get
# copies (one service, several processes). Certificates name the HTTP front.
for n in node1 node2 ocsp; do
  mkdir -p "$dir/$n"
  chmod 700 "$dir/$n"
  case $n in node1) port=$node1 ;; node2) port=$node2 ;; ocsp) port=$ocsp ;; esac
  cat >"$dir/$n.toml" <<EOF
[pki]
public_url = "http://127.0.0.1:$http_front"
[server]
listen = "127.0.0.1:$port"
threads = 2
[store]
url = "$store"
EOF
done
start_node() {  # NAME [serve options]
  local n=$1
  shift
  daemon "$n" "$smacert" serve --config "$dir/$n.toml" --data "$dir/$n/data" "$@"
}
healthy() { curl -sf "http://127.0.0.1:$1/healthz"; }
start_node node1
wait_for "smacert node1" 60 healthy "$node1"
for n in node2 ocsp; do
  mkdir -p "$dir/$n/data"
  chmod 700 "$dir/$n/data"
  cp -a "$dir/node1/data/ca" "$dir/node1/data/push.key" "$dir/node1/data/admin.token" \
    "$dir/node1/data/session.key" \
    "$dir/$n/data/"
done
start_node node2
start_node ocsp --role ocsp
wait_for "smacert node2" 60 healthy "$node2"
wait_for "smacert OCSP node" 60 healthy "$ocsp"
wait_for "the HTTP front" 20 healthy "$http_front"

cat >"$dir/cluster.env" <<EOF
# Written by scripts/cluster-up.sh; stop with scripts/cluster-down.sh $dir
CLUSTER_DIR=$dir
SERVICE_URL=http://127.0.0.1:$http_front
NODE1_URL=http://127.0.0.1:$node1
NODE2_URL=http://127.0.0.1:$node2
OCSP_URL=http://127.0.0.1:$ocsp
STORE_URL=$store
PG_FRONT_PORT=$pg_front
PG1_PORT=$pg1
PG2_PORT=$pg2
PATRONI1_URL=http://127.0.0.1:$rest1
PATRONI2_URL=http://127.0.0.1:$rest2
HAPROXY_STATS_URL=http://127.0.0.1:$haproxy_stats
ETCD_URL=http://127.0.0.1:$etcd_client
ADMIN_TOKEN_FILE=$dir/node1/data/admin.token
EOF
echo "cluster-up: ready; service at http://127.0.0.1:$http_front (details in $dir/cluster.env)"
