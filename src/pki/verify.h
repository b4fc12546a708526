// Chain verification against smacert's trust anchors (JPKI issues end-entity
// certificates straight from the root, so chains are of two).
#pragma once

#include <functional>
#include <span>

#include "pki/openssl.h"
#include "pki/revocation.h"

namespace smacert::pki {

// Builds and checks the chain of `cert` to one of `anchors` at time `at`;
// returns the anchor that issued it. Errc::verification says why not.
Result<X509Ptr> verify_chain(const X509* cert, std::span<X509* const> anchors, TimePoint at,
                             std::span<X509* const> intermediates = {});

// Answers "what is the status of cert (issued by issuer)?" — by OCSP, by a
// CRL, or in process. Errors mean the status could not be learned.
using StatusLookup = std::function<Result<CertStatus>(const X509* cert, const X509* issuer)>;

// Turns a status into a verdict: good passes; revoked, suspended and unknown fail.
Status require_good(const CertStatus& status, std::string_view what);

}  // namespace smacert::pki
