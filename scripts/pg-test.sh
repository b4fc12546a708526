#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests (docs/scale-out.md, tests/store, tests/integration).
#
#   scripts/pg-test.sh start DIR PORT   initdb in a fresh temporary folder, start on 127.0.0.1:PORT
#                                       and a Unix socket; writes DIR/conninfo (libpq keyword form)
#                                       and DIR/url (postgresql:// form)
#   scripts/pg-test.sh stop DIR         stop it and delete its folder (also after a failed start)
#
# As root, initdb and postgres refuse to run: every server command runs as the unprivileged
# `postgres` user (runuser), and the instance lives in a mktemp folder of mode 0755 that user can
# enter. Settings are for speed (fsync off): the data only has to survive a killed client, never
# a power cut — unless PG_DURABLE=1 (benchmarks), which keeps PostgreSQL's durable defaults.
# Trust authentication, loopback and socket only.
set -euo pipefail

BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }

if [[ $(id -u) -eq 0 ]]; then
  AS=(runuser -u postgres --)
  OWNER=postgres
else
  AS=()
  OWNER=$(id -un)
fi

stop() {
  local inst
  inst=$(cat "$dir/instance" 2>/dev/null) || return 0
  if [[ -n $inst && -d $inst/data ]]; then
    if ! "${AS[@]}" "$BIN/pg_ctl" -D "$inst/data" -m fast -w -t 20 stop >/dev/null 2>&1; then
      # pg_ctl could not stop it: SIGINT (fast shutdown), then SIGQUIT, to the postmaster itself.
      if [[ -f $inst/data/postmaster.pid ]]; then
        pid=$(head -1 "$inst/data/postmaster.pid")
        kill -INT "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -QUIT "$pid" 2>/dev/null || true
      fi
    fi
  fi
  [[ $inst == /tmp/smacert-pg.* ]] && rm -rf "$inst"
  rm -f "$dir/instance" "$dir/conninfo" "$dir/url"
}

case $cmd in
  start)
    port=${3:-}
    [[ $port =~ ^[0-9]+$ ]] || { echo "pg-test: PORT must be a number" >&2; exit 2; }
    [[ -x $BIN/initdb ]] || { echo "pg-test: $BIN/initdb is missing; run scripts/install-deps.sh (postgresql-15)" >&2; exit 1; }
    mkdir -p "$dir"
    stop  # a previous run that died before its cleanup
    inst=$(mktemp -d /tmp/smacert-pg.XXXXXX)
    chmod 755 "$inst"
    chown "$OWNER" "$inst"
    echo "$inst" > "$dir/instance"
    install -d -o "$OWNER" -m 700 "$inst/data"
    install -d -o "$OWNER" -m 755 "$inst/sock"
    if ! "${AS[@]}" "$BIN/initdb" -D "$inst/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
        --no-sync >"$inst/initdb.log" 2>&1; then
      cat "$inst/initdb.log" >&2; stop; exit 1
    fi
    # PG_DURABLE=1 (benchmarks): PostgreSQL's own durable defaults, as in production.
    speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ ${PG_DURABLE:-0} == 1 ]] && speed=""
    if ! "${AS[@]}" "$BIN/pg_ctl" -D "$inst/data" -l "$inst/pg.log" -w -t 30 \
        -o "-k $inst/sock -p $port -c listen_addresses=127.0.0.1 $speed -c max_connections=200" \
        start >/dev/null; then
      echo "pg-test: PostgreSQL did not start on port $port:" >&2
      cat "$inst/pg.log" >&2 || true
      stop; exit 1
    fi
    echo "host=$inst/sock port=$port user=postgres dbname=postgres" > "$dir/conninfo"
    echo "postgresql://postgres@127.0.0.1:$port/postgres" > "$dir/url"
    echo "pg-test: PostgreSQL 15 on 127.0.0.1:$port and $inst/sock"
    ;;
  stop)
    stop
    echo "pg-test: stopped"
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
