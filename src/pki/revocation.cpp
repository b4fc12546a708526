#include "pki/revocation.h"

#include <array>
#include <string>

namespace smacert::pki {
namespace {
constexpr std::array<std::string_view, 11> kNames = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
}

std::string_view reason_name(RevocationReason r) {
  return kNames[static_cast<std::size_t>(r)];
}

Result<RevocationReason> reason_from_code(int code) {
  if (code < 0 || code > 10 || code == 7)
    return fail(Errc::invalid_argument, "no CRL reason has code " + std::to_string(code));
  return static_cast<RevocationReason>(code);
}

Result<RevocationReason> parse_reason(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (!kNames[i].empty() && kNames[i] == name) return static_cast<RevocationReason>(i);
  return fail(Errc::invalid_argument, "unknown revocation reason '" + std::string(name) +
                                          "' (RFC 5280 names, e.g. superseded, keyCompromise)");
}

}  // namespace smacert::pki
