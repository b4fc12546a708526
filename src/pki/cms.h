// CMS detached signatures (RFC 5652 5): made with any Signer (a key in this
// process, the phone's secure element), checked with chain and status.
#pragma once

#include <optional>
#include <vector>

#include "pki/signer.h"
#include "pki/verify.h"

namespace smacert::pki {

// SignedData over `data` (not included), with signed attributes contentType,
// signingTime and messageDigest, the signer's certificate and `chain`.
Result<Bytes> cms_sign_detached(ByteView data, Signer& signer, const X509* signer_cert,
                                std::span<X509* const> chain, TimePoint signing_time);

struct CmsVerified {
  X509Ptr signer;
  X509Ptr issuer;
  std::optional<TimePoint> signing_time;
};

// RFC 5652 5.6: the signature over the signed attributes, the message digest
// of `data`, the signer's chain to `anchors` at `at`, then its status.
inline constexpr std::size_t kMaxCmsSize = 1u << 20;
Result<CmsVerified> cms_verify_detached(ByteView signature, ByteView data,
                                        std::span<X509* const> anchors, TimePoint at,
                                        const StatusLookup& status);

}  // namespace smacert::pki
