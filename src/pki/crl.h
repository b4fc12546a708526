// Full CRLs per CA (RFC 5280 5): CRL number, authority key identifier,
// reason codes, thisUpdate / nextUpdate, signed by the CA key.
#pragma once

#include <span>
#include <string>

#include "pki/authority.h"
#include "pki/revocation.h"

namespace smacert::pki {

struct CrlEntry {
  std::string serial;  // hex
  TimePoint revoked_at;
  RevocationReason reason;
};

struct CrlParams {
  std::int64_t number;  // RFC 5280 5.2.3: strictly increasing per CA
  TimePoint this_update;
  TimePoint next_update;
};

Result<Bytes> build_crl(const CertificateAuthority& ca, std::span<const CrlEntry> entries,
                        const CrlParams& params);

}  // namespace smacert::pki
