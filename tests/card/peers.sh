#!/usr/bin/env bash
# Real peers against the virtual card, through a private pcscd with vpcd:
# smacert's own PC/SC transport, OpenSC's JPKI driver (pkcs15-tool,
# pkcs11-tool) and OpenSSL as the judge of every signature. Fails on the
# first check that does not hold; nothing is skipped.
# Usage: peers.sh SMACERT MAKE_TEST_CARD PCSCD_TEST_SH
set -euo pipefail

smacert=${1:?smacert binary}
make_card=${2:?make_test_card binary}
pcscd_test=${3:?scripts/pcscd-test.sh}
module=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so

work=$(mktemp -d /tmp/smacert-card-peers.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [[ -n "${KEEP:-}" ]]; then echo "peers: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
die() { echo "peers: FAIL: $*" >&2; [[ -f $work/pcsc/pcscd.log ]] && tail -40 "$work/pcsc/pcscd.log" >&2; exit 1; }
ok() { echo "peers: ok: $*"; }

# Step 1: two virtual cards. vpcd drives two slots (PORT and PORT+1) and
# Debian's vpcd 3.3 aborts pcscd when a slot cannot connect, so both get a card.
"$make_card" "$work/ca" "$work/card.json" 1234 ABC123 || die "issuing the test card"
"$make_card" "$work/ca" "$work/card2.json" 5678 XYZ789 || die "issuing the second card"
"$smacert" card read-cert --card "$work/card.json" --cert auth --out "$work/auth.pem"
"$smacert" card read-cert --card "$work/card.json" --cert sign --sign-password ABC123 --out "$work/sign.pem"
"$smacert" card read-cert --card "$work/card.json" --cert auth-ca --out "$work/auth-ca.pem"
"$smacert" card read-cert --card "$work/card.json" --cert sign-ca --out "$work/sign-ca.pem"
openssl verify -CAfile "$work/auth-ca.pem" "$work/auth.pem" >/dev/null || die "auth chain"
openssl verify -CAfile "$work/sign-ca.pem" "$work/sign.pem" >/dev/null || die "sign chain"

# Step 2: attach both cards, listening on loopback for vpcd (reversed mode).
port=""
for _ in 1 2 3 4 5; do
  p=$((20000 + RANDOM % 30000))
  "$smacert" card attach --card "$work/card.json" --listen "127.0.0.1:$p" 2>"$work/attach.log" &
  a=$!
  "$smacert" card attach --card "$work/card2.json" --listen "127.0.0.1:$((p + 1))" 2>"$work/attach2.log" &
  b=$!
  sleep 0.5
  if kill -0 "$a" 2>/dev/null && kill -0 "$b" 2>/dev/null; then
    pids+=("$a" "$b"); port=$p; break
  fi
  kill "$a" "$b" 2>/dev/null || true; wait "$a" "$b" 2>/dev/null || true
done
[[ -n $port ]] || die "no free loopback port pair for attach"
grep -q "listening for vpcd on 127.0.0.1:$port" "$work/attach.log" || die "attach did not listen"
ok "cards attached on 127.0.0.1:$port and :$((port + 1))"

# Step 3: the checks, run beside the private pcscd.
cat >"$work/checks.sh" <<'CHECKS'
set -euo pipefail
die() { echo "peers: FAIL: $*" >&2; exit 1; }
ok() { echo "peers: ok: $*"; }
reader="Virtual PCD 00 00"
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }
echo "signed by the card" >"$PEERS_DIR/msg"

"$smacert" card readers | grep -qx "$reader" || die "smacert card readers does not list '$reader'"
ok "our PC/SC transport lists the vpcd readers"

"$smacert" card read-cert --reader "$reader" --cert auth --out "$PEERS_DIR/pcsc-auth.pem"
[[ "$(fp "$PEERS_DIR/pcsc-auth.pem")" == "$(fp "$PEERS_DIR/auth.pem")" ]] || die "auth certificate differs over PC/SC"
"$smacert" card read-cert --reader "$reader" --cert sign --sign-password abc123 --out "$PEERS_DIR/pcsc-sign.pem"
[[ "$(fp "$PEERS_DIR/pcsc-sign.pem")" == "$(fp "$PEERS_DIR/sign.pem")" ]] || die "sign certificate differs over PC/SC"
if "$smacert" card read-cert --reader "$reader" --cert sign --out "$PEERS_DIR/x.pem" 2>/dev/null; then
  die "the signature certificate was readable without the password"
fi
ok "our PC/SC transport reads both certificates (the signature one only with the password)"

"$smacert" card sign --reader "$reader" --key auth --pin 1234 --in "$PEERS_DIR/msg" --out "$PEERS_DIR/auth.sig" >/dev/null
openssl x509 -pubkey -noout -in "$PEERS_DIR/auth.pem" >"$PEERS_DIR/auth.pub"
openssl dgst -sha256 -verify "$PEERS_DIR/auth.pub" -signature "$PEERS_DIR/auth.sig" "$PEERS_DIR/msg" >/dev/null \
  || die "openssl rejects the auth signature made over PC/SC"
"$smacert" card sign --reader "$reader" --key sign --pin ABC123 --in "$PEERS_DIR/msg" --out "$PEERS_DIR/sign.sig" >/dev/null
openssl x509 -pubkey -noout -in "$PEERS_DIR/sign.pem" >"$PEERS_DIR/sign.pub"
openssl dgst -sha256 -verify "$PEERS_DIR/sign.pub" -signature "$PEERS_DIR/sign.sig" "$PEERS_DIR/msg" >/dev/null \
  || die "openssl rejects the signature-key signature made over PC/SC"
ok "signatures over PC/SC verify with the card certificates"

out=$(pkcs15-tool --reader "$reader" --list-certificates 2>&1) || die "pkcs15-tool: $out"
for label in "User Authentication Certificate" "Digital Signature Certificate" \
             "User Authentication Certificate CA" "Digital Signature Certificate CA"; do
  grep -q "\[$label\]" <<<"$out" || die "pkcs15-tool does not list $label"
done
ok "OpenSC's JPKI driver lists the four certificates"

slots=$(pkcs11-tool --module "$module" -L 2>&1)
# The slot id in parentheses of "Slot N (0xID): <reader>" followed by the token label.
slot_of() {
  awk -v r="$reader" -v l="$1" '
    /^Slot [0-9]+ \(0x[0-9a-f]+\): / { split($0, a, /[()]/); id = a[2]; rd = substr($0, index($0, ": ") + 2); next }
    /token label/ && rd == r && index($0, l) { print id; exit }' <<<"$slots"
}
auth_slot=$(slot_of "User Authentication PIN")
sign_slot=$(slot_of "Digital Signature PIN")
[[ -n $auth_slot && -n $sign_slot ]] || die "pkcs11-tool shows no JPKI slots: $slots"
objs=$(pkcs11-tool --module "$module" --slot "$auth_slot" --login --pin 1234 --list-objects 2>&1)
grep -q "Private Key Object; RSA" <<<"$objs" || die "no private key in the auth slot: $objs"
grep -q "User Authentication Certificate" <<<"$objs" || die "no auth certificate in the slot"
objs=$(pkcs11-tool --module "$module" --slot "$sign_slot" --login --pin ABC123 --list-objects 2>&1)
grep -q "Private Key Object; RSA" <<<"$objs" || die "no private key in the signature slot: $objs"
ok "pkcs11-tool shows both keys after login"

pkcs11-tool --module "$module" --slot "$auth_slot" --login --pin 1234 --sign \
  --mechanism SHA256-RSA-PKCS --id 01 --input-file "$PEERS_DIR/msg" --output-file "$PEERS_DIR/p11.sig" >/dev/null 2>&1 \
  || die "pkcs11-tool --sign with the auth key"
openssl dgst -sha256 -verify "$PEERS_DIR/auth.pub" -signature "$PEERS_DIR/p11.sig" "$PEERS_DIR/msg" >/dev/null \
  || die "openssl rejects pkcs11-tool's signature"
pkcs11-tool --module "$module" --slot "$sign_slot" --login --pin ABC123 --sign \
  --mechanism SHA256-RSA-PKCS --id 02 --input-file "$PEERS_DIR/msg" --output-file "$PEERS_DIR/p11s.sig" >/dev/null 2>&1 \
  || die "pkcs11-tool --sign with the signature key"
openssl dgst -sha256 -verify "$PEERS_DIR/sign.pub" -signature "$PEERS_DIR/p11s.sig" "$PEERS_DIR/msg" >/dev/null \
  || die "openssl rejects pkcs11-tool's signature-key signature"
ok "pkcs11-tool signs with both keys; openssl verifies with the card certificates"

if pkcs11-tool --module "$module" --slot "$auth_slot" --login --pin 9999 --list-objects >/dev/null 2>&1; then
  die "a wrong PIN logged in"
fi
tries=$("$smacert" --json card info --reader "$reader" | grep -A3 '"auth"' | grep tries_left | tr -dc 0-9)
[[ $tries == 2 ]] || die "after a wrong PIN through OpenSC the card says $tries tries left, not 2"
ok "a wrong PIN through OpenSC counts down the card's tries"
CHECKS
export smacert module PEERS_DIR=$work
"$pcscd_test" "$port" "$work/pcsc" -- bash "$work/checks.sh" || die "checks beside pcscd"

# Step 4: pcscd is gone; the tries were saved to the card file as they changed.
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" || die "card attach did not end cleanly on SIGTERM"; done
pids=()
"$smacert" --json card info --card "$work/card.json" >"$work/info.json"
grep -A3 '"auth"' "$work/info.json" | grep -q '"tries_left": 2' || die "the card file did not keep the wrong try"
ok "the card file keeps the tries (2 left)"
set +e
"$smacert" card info --card "$work/card.json" --sign-password WRONG1 >/dev/null 2>&1
rc=$?
set -e
[[ $rc == 1 ]] || die "a wrong signature password exits $rc, not 1"
for _ in 1 2 3; do "$smacert" card info --card "$work/card.json" --sign-password WRONG1 >/dev/null 2>&1 || true; done
set +e
"$smacert" card info --card "$work/card.json" --sign-password WRONG1 >/dev/null 2>&1
rc=$?
set -e
[[ $rc == 4 ]] || die "the last wrong signature password exits $rc, not 4 (blocked)"
ok "card info: a wrong password exits 1, a blocked one 4"

# Step 5: OpenSC's probes of other applications all got an error (spec §2).
awk '
  /APDU: / { sub(/.*APDU: /, ""); apdu = $0; next }
  /SW: /   { sub(/.*SW: /, ""); sw = $0; gsub(/ +$/, "", sw)
             if (apdu ~ /^00 A4 04/ && apdu !~ /D3 92 F0 00 26 01 00 00 00 01/ && sw != "6A 82") { print "probe " apdu " got " sw; bad = 1 }
             if (apdu ~ /^00 C[AB] / && sw != "6D 00" && sw != "6A 82") { print "GET DATA " apdu " got " sw; bad = 1 }
             n++ }
  END { if (n == 0) { print "no APDUs logged"; bad = 1 } exit bad }' "$work/pcsc/pcscd.log" \
  || die "a probe of another application did not get 6A82/6D00"
ok "every other application OpenSC probed got 6A82 or 6D00"
echo "peers: all checks passed"
