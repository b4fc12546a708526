// OCSP (RFC 6960) with the RFC 5019 lightweight profile: responses are signed
// ahead of time, one per serial, by the CA's delegated OCSP signer, held in
// memory (compactly: pki/ocsp_store.h), and handed out as bytes. Only unusual requests (an unknown
// serial, a SHA-256 CertID) are signed on demand.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "pki/authority.h"
#include "pki/ocsp_store.h"
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

// Signs responses for one CA with its delegated signer (RFC 6960 4.2.1,
// RFC 5019 2.2): one SingleResponse, the responder by key hash, producedAt =
// thisUpdate, and the signer's certificate so clients can check that the CA
// issued it. The DER is written directly (der_writer.h) from parts encoded
// once; tests/pki/ocsp_test.cpp holds it to what OpenSSL's OCSP_basic_sign
// makes.
class OcspSigner {
 public:
  explicit OcspSigner(const CertificateAuthority& ca);
  Result<Bytes> sign(ByteView serial, const CertStatus& status, TimePoint this_update,
                     TimePoint next_update, OcspQuery::Hash hash = OcspQuery::Hash::sha1) const;
  const CertificateAuthority& ca() const { return ca_; }
  // The CA's issuerNameHash and issuerKeyHash (RFC 6960 4.1.1) under `hash`.
  const Bytes& issuer_name_hash(OcspQuery::Hash hash) const { return ids_[index(hash)].name_hash; }
  const Bytes& issuer_key_hash(OcspQuery::Hash hash) const { return ids_[index(hash)].key_hash; }

 private:
  static std::size_t index(OcspQuery::Hash h) { return h == OcspQuery::Hash::sha1 ? 0 : 1; }
  struct CertIdParts {
    Bytes name_hash, key_hash;
    Bytes prefix;  // CertID's content up to the serial: hashAlgorithm, both hashes
  };
  const CertificateAuthority& ca_;
  std::array<CertIdParts, 2> ids_;  // SHA-1, SHA-256
  Bytes responder_id_;              // ResponderID byKey [2]
  Bytes signature_algorithm_;       // of the delegated signer's key
  Bytes certs_;                     // [0] EXPLICIT SEQUENCE OF Certificate: the signer's
};

// One pre-signed answer and what it says: what the signer hands out and the
// store keeps. The responder does not hold these; it keeps the answer's
// parts in an OcspStore (pki/ocsp_store.h).
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
  // answered without allocating: the stored response is put together in a
  // buffer the responder reuses once its previous answer has been let go.
  std::shared_ptr<const Bytes> respond(ByteView request) const;
  // respond() without that fast path: OpenSSL parses every request. The
  // answers are the same; tests compare them.
  std::shared_ptr<const Bytes> respond_parsed(ByteView request) const;

  // Installs a pre-signed entry (after a status change or at bulk load); the
  // responder keeps its own compact copy.
  void put(CaKind ca, ByteView serial, const OcspEntry& entry);
  void put(CaKind ca, ByteView serial, const std::shared_ptr<const OcspEntry>& entry) {
    if (entry) put(ca, serial, *entry);
  }
  // A copy of the entry held for `serial`, response bytes and all.
  std::shared_ptr<const OcspEntry> find(CaKind ca, ByteView serial) const;

  // Signs a fresh entry with the CA's validity window starting now.
  Result<std::shared_ptr<const OcspEntry>> sign_entry(CaKind ca, ByteView serial,
                                                      const CertStatus& status) const;

  // Re-signs up to `limit` entries whose nextUpdate falls before now +
  // margin (soonest first), installs the new ones and returns them (serial
  // hex → entry) so the caller persists them. Found through an index by
  // nextUpdate: what is not due is not looked at.
  struct Refreshed {
    CaKind ca;
    std::string serial_hex;
    std::shared_ptr<const OcspEntry> entry;
  };
  static constexpr std::size_t kRefreshBatch = 50'000;
  std::vector<Refreshed> refresh(Seconds margin, std::size_t limit = kRefreshBatch);

  std::size_t size() const;
  // Bytes held for the entries of both CAs.
  std::size_t memory() const;

 private:
  struct Issuer {
    CaKind kind;
    OcspSigner signer;
  };
  // Buffers for answers put together on the fast path: one whose previous
  // answer has been let go (nobody else holds it) is written again.
  class AnswerBuffers {
   public:
    std::shared_ptr<Bytes> take();

   private:
    static constexpr std::size_t kKept = 64;  // more answers in flight get a new buffer each
    std::mutex mutex_;
    std::vector<std::shared_ptr<Bytes>> buffers_;
  };
  const Issuer* match_issuer(OcspQuery::Hash hash, ByteView name_hash, ByteView key_hash) const;
  OcspStore& store_of(CaKind ca) { return ca == CaKind::sign ? sign_store_ : auth_store_; }
  const OcspStore& store_of(CaKind ca) const {
    return ca == CaKind::sign ? sign_store_ : auth_store_;
  }
  std::shared_ptr<const Bytes> answer(CaKind ca, ByteView serial) const;

  const Clock& clock_;
  std::vector<Issuer> issuers_;
  mutable std::shared_mutex mutex_;
  OcspStore sign_store_, auth_store_;  // under mutex_
  mutable AnswerBuffers buffers_;
  std::shared_ptr<const Bytes> malformed_, unauthorized_, internal_error_;
};

// What a relying party does with a response it fetched: checks that it is
// signed by the issuer or its delegated responder (RFC 6960 4.2.2.2), that it
// answers for `cert`, and that it is current at `at`; returns the status.
Result<CertStatus> check_ocsp_response(ByteView response, const X509* cert, const X509* issuer,
                                       TimePoint at);

}  // namespace smacert::pki
