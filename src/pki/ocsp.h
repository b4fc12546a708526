// OCSP (RFC 6960) with the RFC 5019 lightweight profile: responses are signed
// ahead of time, one per serial, by the CA's delegated OCSP signer, held in
// memory, and handed out as bytes. Only unusual requests (an unknown serial,
// a SHA-256 CertID) are signed on demand.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "pki/authority.h"
#include "pki/revocation.h"

namespace smacert::pki {

// RFC 6960 4.1.1 CertID, as found in a request.
struct OcspQuery {
  enum class Hash { sha1, sha256 } hash;
  Bytes issuer_name_hash;
  Bytes issuer_key_hash;
  Bytes serial;  // the magnitude, big-endian, no leading zero octets
};

// RFC 6960 4.1 / RFC 5019 2.1: a DER OCSPRequest of at most kMaxOcspRequest
// bytes holding exactly one Request with a SHA-1 or SHA-256 CertID.
inline constexpr std::size_t kMaxOcspRequest = 4096;
Result<OcspQuery> parse_ocsp_request(ByteView der);

// The same CertID as views into the request, read without allocating by a
// strict DER reader that knows only the common shape (RFC 5019 2.1: one
// Request, a SHA-1 or SHA-256 CertID with absent or NULL parameters, no
// version, requestor name, signature or extensions, minimal lengths, a
// positive serial). Anything else gives nullopt and is left to
// parse_ocsp_request; whatever this accepts, that reads the same way.
struct OcspQueryView {
  OcspQuery::Hash hash;
  ByteView issuer_name_hash;
  ByteView issuer_key_hash;
  ByteView serial;  // the magnitude, no leading zero octets
};
std::optional<OcspQueryView> parse_simple_ocsp_request(ByteView der);

// RFC 6960 4.2.1 OCSPResponseStatus answers without a body.
Bytes ocsp_error_response(int response_status);  // OCSP_RESPONSE_STATUS_*

// Signs responses for one CA with its delegated signer.
class OcspSigner {
 public:
  explicit OcspSigner(const CertificateAuthority& ca);
  Result<Bytes> sign(ByteView serial, const CertStatus& status, TimePoint this_update,
                     TimePoint next_update, OcspQuery::Hash hash = OcspQuery::Hash::sha1) const;
  const CertificateAuthority& ca() const { return ca_; }

 private:
  const CertificateAuthority& ca_;
};

// One pre-signed answer and what it says.
struct OcspEntry {
  Bytes response;  // DER OCSPResponse
  CertStatus status;
  TimePoint next_update;
};

// The in-memory responder for both CAs. Readers (request threads) share a
// lock; a status change replaces one entry under an exclusive lock.
class OcspResponder {
 public:
  OcspResponder(const Authorities& authorities, const Clock& clock);

  // The wire answer to a DER request; never fails: bad input gets
  // malformedRequest, an issuer we do not serve gets unauthorized (RFC 5019 2.2.3).
  // A request of the common shape for a serial we hold (SHA-1 CertID) is
  // answered without allocating: the stored bytes, shared.
  std::shared_ptr<const Bytes> respond(ByteView request) const;
  // respond() without that fast path: OpenSSL parses every request. The
  // answers are the same; tests compare them.
  std::shared_ptr<const Bytes> respond_parsed(ByteView request) const;

  // Installs a pre-signed entry (after a status change or at bulk load).
  void put(CaKind ca, ByteView serial, std::shared_ptr<const OcspEntry> entry);
  std::shared_ptr<const OcspEntry> find(CaKind ca, ByteView serial) const;

  // Signs a fresh entry with the CA's validity window starting now.
  Result<std::shared_ptr<const OcspEntry>> sign_entry(CaKind ca, ByteView serial,
                                                      const CertStatus& status) const;

  // Re-signs every entry whose nextUpdate falls before now + margin, installs
  // the new ones and returns them (serial hex → entry) so the caller persists them.
  struct Refreshed {
    CaKind ca;
    std::string serial_hex;
    std::shared_ptr<const OcspEntry> entry;
  };
  std::vector<Refreshed> refresh(Seconds margin);

  std::size_t size() const;

 private:
  struct Issuer {
    CaKind kind;
    Bytes sha1_name, sha1_key, sha256_name, sha256_key;
    OcspSigner signer;
  };
  // Serials up to 20 octets (RFC 5280 4.1.2.2) as fixed-size keys: a lookup
  // builds its key on the stack.
  struct SerialKey {
    std::array<std::uint8_t, 20> bytes{};
    std::uint8_t size = 0;
    static std::optional<SerialKey> of(ByteView serial);
    ByteView view() const { return {bytes.data(), size}; }
    bool operator==(const SerialKey&) const = default;
  };
  struct SerialKeyHash {
    std::size_t operator()(const SerialKey& k) const noexcept;
  };
  using Map = std::unordered_map<SerialKey, std::shared_ptr<const OcspEntry>, SerialKeyHash>;
  const Issuer* match_issuer(OcspQuery::Hash hash, ByteView name_hash, ByteView key_hash) const;
  Map& map_of(CaKind ca) { return ca == CaKind::sign ? sign_map_ : auth_map_; }
  const Map& map_of(CaKind ca) const { return ca == CaKind::sign ? sign_map_ : auth_map_; }

  const Clock& clock_;
  std::vector<Issuer> issuers_;
  mutable std::shared_mutex mutex_;
  Map sign_map_, auth_map_;
  std::shared_ptr<const Bytes> malformed_, unauthorized_, internal_error_;
};

// What a relying party does with a response it fetched: checks that it is
// signed by the issuer or its delegated responder (RFC 6960 4.2.2.2), that it
// answers for `cert`, and that it is current at `at`; returns the status.
Result<CertStatus> check_ocsp_response(ByteView response, const X509* cert, const X509* issuer,
                                       TimePoint at);

// Serial magnitude bytes from hex, and back.
Result<Bytes> serial_bytes(std::string_view hex);

}  // namespace smacert::pki
