#!/usr/bin/env bash
# Runs a command next to a private pcscd whose only reader is vsmartcard's
# vpcd in reversed mode: vpcd connects out to 127.0.0.1:PORT, where
# `smacert card attach --listen 127.0.0.1:PORT` waits. Nothing listens beyond
# loopback, and the system's pcscd (if any) is left alone:
#   - the reader configuration is our own folder (pcscd --config DIR);
#   - pcscd gets its client socket by socket activation (LISTEN_FDS, as
#     systemd would pass it) at a private path, so it neither binds nor
#     checks /run/pcscd/pcscd.comm; clients find it through
#     PCSCLITE_CSOCK_NAME, which libpcsclite (and so OpenSC) honours.
# Usage: scripts/pcscd-test.sh PORT WORKDIR -- COMMAND [ARGS...]
# COMMAND runs with PCSCLITE_CSOCK_NAME exported; pcscd is stopped by its
# process id afterwards and its log stays in WORKDIR/pcscd.log.
set -euo pipefail

port=${1:?port}
pcsc_dir=${2:?work directory}
shift 2
[[ "${1:-}" == "--" ]] && shift

driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
[[ -f $driver ]] || { echo "pcscd-test: $driver missing (apt install vsmartcard-vpcd)" >&2; exit 1; }
command -v pcscd >/dev/null || { echo "pcscd-test: pcscd missing (apt install pcscd)" >&2; exit 1; }

mkdir -p "$pcsc_dir/reader.conf.d"
cat >"$pcsc_dir/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   127.0.0.1:$port
LIBPATH      $driver
CHANNELID    $port
CONF
sock="$pcsc_dir/pcscd.comm"
rm -f "$sock"

# Socket activation by hand: bind the UNIX socket, put it on fd 3, exec pcscd
# with LISTEN_FDS=1 and LISTEN_PID of the exec'd process (same pid).
perl -MIO::Socket::UNIX -MPOSIX -e '
  $^F = 3;  # keep fd 3 open across exec (perl marks higher fds close-on-exec)
  my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => shift, Listen => 64)
    or die "pcscd-test: cannot listen: $!\n";
  POSIX::dup2(fileno($s), 3) or die "dup2: $!\n";
  $ENV{LISTEN_FDS} = 1; $ENV{LISTEN_PID} = $$;
  exec @ARGV or die "exec: $!\n";' \
  "$sock" pcscd --foreground --debug --apdu --config "$pcsc_dir/reader.conf.d" \
  >"$pcsc_dir/pcscd.log" 2>&1 &
pcscd_pid=$!
stop() {
  kill "$pcscd_pid" 2>/dev/null || true
  wait "$pcscd_pid" 2>/dev/null || true
}
trap stop EXIT

export PCSCLITE_CSOCK_NAME="$sock"
# Ready when a client sees the reader through the private socket.
ready=0
for _ in $(seq 100); do
  kill -0 "$pcscd_pid" 2>/dev/null || break
  if opensc-tool --list-readers 2>/dev/null | grep -q "Virtual PCD"; then ready=1; break; fi
  sleep 0.1
done
if ((ready == 0)); then
  tail -20 "$pcsc_dir/pcscd.log" >&2
  echo "pcscd-test: pcscd did not come up with the vpcd reader" >&2
  exit 1
fi
"$@"
