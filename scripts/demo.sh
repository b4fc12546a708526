#!/usr/bin/env bash
# The main job, as far as it exists today: the two certificate authorities,
# then one certificate of each profile checked by OpenSSL. The narrated
# device change (`smacert demo`) replaces this when the phone app lands.
set -euo pipefail
bin=${1:-build/smacert}
data=${SMACERT_DEMO_DATA:-./smacert-data}

echo "== smacert ca init --data $data"
"$bin" ca init --data "$data"
echo
echo "== openssl checks both roots and the OCSP signers they certified"
for kind in sign auth; do
  openssl verify -CAfile "$data/ca/$kind/ca.pem" "$data/ca/$kind/ocsp.pem"
  openssl x509 -in "$data/ca/$kind/ocsp.pem" -noout -ext extendedKeyUsage,noCheck | sed 's/^/   /'
done
echo
echo "The device change (smacert demo) is not built yet: see README.md."
