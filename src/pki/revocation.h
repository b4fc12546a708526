// RFC 5280 5.3.1 CRLReason, and the status of a certificate as the OCSP
// responder and CRL see it (RFC 6960 4.2.1 CertStatus). "Revoked" is a value,
// not an error (Botan's two channels).
#pragma once

#include <optional>
#include <string_view>
#include <variant>

#include "core/clock.h"
#include "core/error.h"

namespace smacert::pki {

enum class RevocationReason : int {
  unspecified = 0,
  key_compromise = 1,
  ca_compromise = 2,
  affiliation_changed = 3,
  superseded = 4,
  cessation_of_operation = 5,
  certificate_hold = 6,  // suspension; the only reason that can be undone
  // 7 is not used (RFC 5280 5.3.1)
  remove_from_crl = 8,
  privilege_withdrawn = 9,
  aa_compromise = 10,
};

std::string_view reason_name(RevocationReason r);  // RFC 5280 names: "superseded", …
Result<RevocationReason> parse_reason(std::string_view name);
Result<RevocationReason> reason_from_code(int code);

struct Good {};
struct Revoked {
  TimePoint at;
  RevocationReason reason;
};
struct Unknown {};
using CertStatus = std::variant<Good, Revoked, Unknown>;

}  // namespace smacert::pki
