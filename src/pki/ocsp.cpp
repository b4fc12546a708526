#include "pki/ocsp.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/encoding.h"
#include "pki/der_reader.h"
#include "pki/der_writer.h"

namespace smacert::pki {
namespace {

Bytes digest_name(const X509* cert, const EVP_MD* md) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned len = 0;
  X509_NAME_digest(X509_get_subject_name(cert), md, out.data(), &len);
  out.resize(len);
  return out;
}

Bytes digest_key(const X509* cert, const EVP_MD* md) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned len = 0;
  X509_pubkey_digest(cert, md, out.data(), &len);
  out.resize(len);
  return out;
}

Bytes asn1_bytes(const ASN1_STRING* s) {
  return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

using der::equals;
using der::only;

}  // namespace

Result<OcspQuery> parse_ocsp_request(ByteView der) {
  if (der.empty()) return fail(Errc::malformed, "the OCSP request is empty");
  if (der.size() > kMaxOcspRequest)
    return fail(Errc::too_large,
                "the OCSP request is larger than " + std::to_string(kMaxOcspRequest) + " bytes");
  const unsigned char* p = der.data();
  OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!req) return fail(openssl_error(Errc::malformed, "the OCSP request is not valid DER"));
  if (p != der.data() + der.size())
    return fail(Errc::malformed, "the OCSP request has trailing bytes");
  // RFC 5019 2.1.1: "OCSPRequests conformant to this profile MUST include only one Request".
  if (OCSP_request_onereq_count(req.get()) != 1)
    return fail(Errc::malformed, "the OCSP request must hold exactly one certificate");
  OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), 0));
  ASN1_OCTET_STRING *name_hash = nullptr, *key_hash = nullptr;
  ASN1_OBJECT* md = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (!OCSP_id_get0_info(&name_hash, &md, &key_hash, &serial, id))
    return fail(Errc::malformed, "the OCSP request's CertID is incomplete");
  OcspQuery q;
  int nid = OBJ_obj2nid(md);
  if (nid == NID_sha1)
    q.hash = OcspQuery::Hash::sha1;
  else if (nid == NID_sha256)
    q.hash = OcspQuery::Hash::sha256;
  else
    return fail(Errc::malformed,
                "the OCSP request's CertID uses a hash other than SHA-1 or SHA-256");
  q.issuer_name_hash = asn1_bytes(name_hash);
  q.issuer_key_hash = asn1_bytes(key_hash);
  if (ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER)
    return fail(Errc::malformed, "the OCSP request's serial is negative");
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return fail(Errc::malformed, "the OCSP request's serial is not an integer");
  q.serial.resize(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), q.serial.data());
  return q;
}

std::optional<OcspQueryView> parse_simple_ocsp_request(ByteView der) {
  if (der.size() > kMaxOcspRequest) return std::nullopt;
  // OCSPRequest { TBSRequest { requestList { Request { CertID } } } }: the
  // content of each is the one below it, alone.
  auto tbs = only(der, 0x30);
  auto list = tbs ? only(*tbs, 0x30) : std::nullopt;
  auto request = list ? only(*list, 0x30) : std::nullopt;
  auto req_cert = request ? only(*request, 0x30) : std::nullopt;
  auto cert_id = req_cert ? only(*req_cert, 0x30) : std::nullopt;
  if (!cert_id) return std::nullopt;
  ByteView in = *cert_id;
  auto alg = der::read(in);
  auto name = der::read(in);
  auto key = der::read(in);
  auto serial = der::read(in);
  if (!serial || !in.empty() || alg->tag != 0x30 || name->tag != 0x04 || key->tag != 0x04 ||
      serial->tag != 0x02)
    return std::nullopt;
  ByteView a = alg->content;
  auto oid = der::read(a);
  if (!oid || oid->tag != 0x06 || !(a.empty() || equals(a, {0x05, 0x00}))) return std::nullopt;
  OcspQueryView q;
  if (equals(oid->content, {0x2b, 0x0e, 0x03, 0x02, 0x1a}))
    q.hash = OcspQuery::Hash::sha1;
  else if (equals(oid->content, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}))
    q.hash = OcspQuery::Hash::sha256;
  else
    return std::nullopt;
  // A positive INTEGER in minimal form: no 0x00 pad unless the next octet
  // has its top bit set; not zero, not negative.
  ByteView sn = serial->content;
  if (sn.empty() || (sn[0] & 0x80)) return std::nullopt;
  if (sn[0] == 0) {
    if (sn.size() == 1 || !(sn[1] & 0x80)) return std::nullopt;
    sn = sn.subspan(1);
  }
  q.issuer_name_hash = name->content;
  q.issuer_key_hash = key->content;
  q.serial = sn;
  return q;
}

Bytes ocsp_error_response(int response_status) {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } with no responseBytes.
  return Bytes{0x30, 0x03, 0x0a, 0x01, static_cast<std::uint8_t>(response_status)};
}

OcspSigner::OcspSigner(const CertificateAuthority& ca)
    : ca_(ca), signature_algorithm_(signature_algorithm(ca.ocsp_key())) {
  X509* issuer = ca.certificate();
  // RFC 6960 4.1.1: the hash algorithm with NULL parameters, as OpenSSL writes it.
  const std::pair<const EVP_MD*, const char*> hashes[] = {{EVP_sha1(), "1.3.14.3.2.26"},
                                                          {EVP_sha256(), "2.16.840.1.101.3.4.2.1"}};
  for (std::size_t i = 0; i < 2; ++i) {
    auto& id = ids_[i];
    id.name_hash = digest_name(issuer, hashes[i].first);
    id.key_hash = digest_key(issuer, hashes[i].first);
    id.prefix = der::concat({der::sequence({der::oid(hashes[i].second), der::null()}),
                             der::octet_string(id.name_hash), der::octet_string(id.key_hash)});
  }
  // RFC 6960 4.2.1 ResponderID byKey [2] KeyHash: the SHA-1 of the signer's key bits.
  responder_id_ = der::tlv(der::tag::context(2),
                           der::octet_string(digest_key(ca.ocsp_certificate(), EVP_sha1())));
  certs_ = der::tlv(der::tag::context(0), der::sequence({to_der(ca.ocsp_certificate())}));
}

Result<Bytes> OcspSigner::sign(ByteView serial, const CertStatus& status, TimePoint this_update,
                               TimePoint next_update, OcspQuery::Hash hash) const {
  // CertStatus: good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo
  // { revocationTime, revocationReason [0] EXPLICIT CRLReason }, unknown [2] IMPLICIT NULL.
  Bytes cert_status{der::tag::context(0, false), 0};
  if (auto* r = std::get_if<Revoked>(&status)) {
    const std::uint8_t reason[] = {der::tag::context(0), 3, der::tag::kEnumerated, 1,
                                   static_cast<std::uint8_t>(r->reason)};
    cert_status =
        der::tlv(der::tag::context(1), der::concat({der::generalized_time(r->at), reason}));
  } else if (std::holds_alternative<Unknown>(status)) {
    cert_status = {der::tag::context(2, false), 0};
  }
  const Bytes this_time = der::generalized_time(this_update);
  const Bytes single = der::sequence(
      {der::sequence({ids_[index(hash)].prefix, der::integer(serial)}), cert_status, this_time,
       der::tlv(der::tag::context(0), der::generalized_time(next_update))});
  const Bytes data = der::sequence({responder_id_, this_time, der::sequence({single})});
  auto basic = signed_der(ca_.ocsp_key(), signature_algorithm_, data, certs_);
  if (!basic) return fail(basic.error().context("signing an OCSP response"));
  // OCSPResponse { successful, responseBytes [0] { id-pkix-ocsp-basic, OCTET STRING } }.
  static const std::uint8_t kSuccessful[] = {der::tag::kEnumerated, 1, 0};
  return der::sequence(
      {kSuccessful, der::tlv(der::tag::context(0), der::sequence({der::oid("1.3.6.1.5.5.7.48.1.1"),
                                                                  der::octet_string(*basic)}))});
}

OcspResponder::OcspResponder(const Authorities& authorities, const Clock& clock)
    : clock_(clock),
      malformed_(
          std::make_shared<Bytes>(ocsp_error_response(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST))),
      unauthorized_(
          std::make_shared<Bytes>(ocsp_error_response(OCSP_RESPONSE_STATUS_UNAUTHORIZED))),
      internal_error_(
          std::make_shared<Bytes>(ocsp_error_response(OCSP_RESPONSE_STATUS_INTERNALERROR))) {
  for (auto* ca : {authorities.sign.get(), authorities.auth.get()}) {
    issuers_.push_back(Issuer{ca->kind(), OcspSigner(*ca)});
  }
}

std::shared_ptr<Bytes> OcspResponder::AnswerBuffers::take() {
  std::lock_guard lock(mutex_);
  // use_count() == 1: only this list holds it, and only under this lock can
  // anyone get another reference, so nobody reads it any more. The fence
  // orders the last reader's reads (before its release of the count) before
  // the writes this caller is about to make.
  for (auto& b : buffers_)
    if (b.use_count() == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      return b;
    }
  auto fresh = std::make_shared<Bytes>();
  if (buffers_.size() < kKept) buffers_.push_back(fresh);
  return fresh;
}

const OcspResponder::Issuer* OcspResponder::match_issuer(OcspQuery::Hash hash, ByteView name_hash,
                                                         ByteView key_hash) const {
  auto same = [](ByteView a, const Bytes& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  };
  for (const auto& i : issuers_)
    if (same(name_hash, i.signer.issuer_name_hash(hash)) &&
        same(key_hash, i.signer.issuer_key_hash(hash)))
      return &i;
  return nullptr;
}

std::shared_ptr<const Bytes> OcspResponder::answer(CaKind ca, ByteView serial) const {
  auto out = buffers_.take();
  std::shared_lock lock(mutex_);
  if (!store_of(ca).answer(serial, *out)) return nullptr;
  return out;
}

std::shared_ptr<const Bytes> OcspResponder::respond(ByteView request) const {
  // The fast path: the common request for a serial we hold, answered with
  // the stored response (no parse objects, no allocation). Anything else: below.
  if (auto q = parse_simple_ocsp_request(request); q && q->hash == OcspQuery::Hash::sha1) {
    if (const Issuer* issuer = match_issuer(q->hash, q->issuer_name_hash, q->issuer_key_hash))
      if (auto bytes = answer(issuer->kind, q->serial)) return bytes;
  }
  return respond_parsed(request);
}

std::shared_ptr<const Bytes> OcspResponder::respond_parsed(ByteView request) const {
  auto q = parse_ocsp_request(request);
  if (!q) return malformed_;
  const Issuer* issuer = match_issuer(q->hash, q->issuer_name_hash, q->issuer_key_hash);
  if (issuer == nullptr) return unauthorized_;
  std::optional<OcspStore::Facts> facts;
  {
    std::shared_lock lock(mutex_);
    facts = store_of(issuer->kind).facts(q->serial);
  }
  if (facts && q->hash == OcspQuery::Hash::sha1)
    if (auto bytes = answer(issuer->kind, q->serial)) return bytes;  // the fast path's answer
  // A serial we never issued, or a SHA-256 CertID: sign now for this request.
  auto now = clock_.now();
  CertStatus status = facts ? facts->status : CertStatus{Unknown{}};
  auto next = facts ? facts->next_update : now + issuer->signer.ca().config().ocsp_validity;
  auto signed_bytes = issuer->signer.sign(q->serial, status, now, next, q->hash);
  if (!signed_bytes) return internal_error_;
  return std::make_shared<const Bytes>(std::move(*signed_bytes));
}

void OcspResponder::put(CaKind ca, ByteView serial, const OcspEntry& entry) {
  // Over 20 octets: never one of ours (RFC 5280 4.1.2.2); the store refuses it.
  std::unique_lock lock(mutex_);
  store_of(ca).put(serial, entry.response, entry.status, entry.next_update);
}

std::shared_ptr<const OcspEntry> OcspResponder::find(CaKind ca, ByteView serial) const {
  auto entry = std::make_shared<OcspEntry>();
  std::shared_lock lock(mutex_);
  const OcspStore& store = store_of(ca);
  auto facts = store.facts(serial);
  if (!facts || !store.answer(serial, entry->response)) return nullptr;
  entry->status = facts->status;
  entry->next_update = facts->next_update;
  return entry;
}

Result<std::shared_ptr<const OcspEntry>> OcspResponder::sign_entry(CaKind ca, ByteView serial,
                                                                   const CertStatus& status) const {
  for (const auto& i : issuers_) {
    if (i.kind != ca) continue;
    auto now = clock_.now();
    auto next = now + i.signer.ca().config().ocsp_validity;
    auto bytes = i.signer.sign(serial, status, now, next);
    if (!bytes) return fail(bytes.error());
    return std::make_shared<const OcspEntry>(OcspEntry{std::move(*bytes), status, next});
  }
  return fail(Errc::internal, "no OCSP signer for that CA");
}

std::vector<OcspResponder::Refreshed> OcspResponder::refresh(Seconds margin, std::size_t limit) {
  auto horizon = clock_.now() + margin;
  std::vector<std::pair<CaKind, OcspStore::Due>> due;
  {
    // Exclusive: the index by nextUpdate drops what it finds stale.
    std::unique_lock lock(mutex_);
    for (CaKind ca : {CaKind::sign, CaKind::auth}) {
      if (due.size() >= limit) break;
      for (auto& d : store_of(ca).due(horizon, limit - due.size())) due.emplace_back(ca, d);
    }
  }
  std::vector<Refreshed> out;
  for (auto& [ca, d] : due) {
    auto fresh = sign_entry(ca, d.serial.view(), d.facts.status);
    if (!fresh) continue;  // keep serving the old one; the next round retries
    {
      std::unique_lock lock(mutex_);
      // A status change since the entry was read won the race; it is newer.
      if (!store_of(ca).replace(d.serial, d.facts.version, (*fresh)->response, (*fresh)->status,
                                (*fresh)->next_update))
        continue;
    }
    out.push_back(Refreshed{ca, hex_encode(d.serial.view()), *fresh});
  }
  return out;
}

std::size_t OcspResponder::size() const {
  std::shared_lock lock(mutex_);
  return sign_store_.size() + auth_store_.size();
}

std::size_t OcspResponder::memory() const {
  std::shared_lock lock(mutex_);
  return sign_store_.memory() + auth_store_.memory();
}

Result<CertStatus> check_ocsp_response(ByteView response, const X509* cert, const X509* issuer,
                                       TimePoint at) {
  if (response.size() > kMaxDerSize) return fail(Errc::too_large, "the OCSP response is too large");
  const unsigned char* p = response.data();
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response.size())));
  if (!resp) return fail(openssl_error(Errc::malformed, "the OCSP response is not valid DER"));
  int rs = OCSP_response_status(resp.get());
  if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return fail(Errc::verification,
                std::string("the OCSP responder answered ") + OCSP_response_status_str(rs));
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  if (!basic)
    return fail(openssl_error(Errc::malformed, "the OCSP response has no basic response"));
  X509StorePtr store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), const_cast<X509*>(issuer));
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), static_cast<time_t>(to_unix(at)));
  auto certs = new_x509_stack();
  X509_up_ref(const_cast<X509*>(issuer));
  sk_X509_push(certs.get(), const_cast<X509*>(issuer));
  // RFC 6960 4.2.2.2: signed by the CA itself or by a certificate it issued
  // for id-kp-OCSPSigning; OpenSSL's check enforces exactly that.
  if (OCSP_basic_verify(basic.get(), certs.get(), store.get(), 0) <= 0)
    return fail(openssl_error(Errc::verification, "the OCSP response's signature does not verify"));
  for (const EVP_MD* md : {EVP_sha1(), EVP_sha256()}) {
    OcspCertIdPtr id(OCSP_cert_to_id(md, cert, issuer));
    int status = -1, reason = -1;
    ASN1_GENERALIZEDTIME *revtime = nullptr, *thisupd = nullptr, *nextupd = nullptr;
    if (!OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revtime, &thisupd,
                               &nextupd))
      continue;
    time_t now = static_cast<time_t>(to_unix(at));
    // Five minutes of clock skew, as OCSP_check_validity's callers commonly allow.
    if (ASN1_TIME_cmp_time_t(thisupd, now + 300) > 0)
      return fail(Errc::verification, "the OCSP response is not yet valid");
    if (nextupd && ASN1_TIME_cmp_time_t(nextupd, now - 300) < 0)
      return fail(Errc::expired, "the OCSP response is out of date");
    if (status == V_OCSP_CERTSTATUS_GOOD) return CertStatus{Good{}};
    if (status == V_OCSP_CERTSTATUS_UNKNOWN) return CertStatus{Unknown{}};
    std::tm tm{};
    ASN1_TIME_to_tm(revtime, &tm);
    auto r = reason_from_code(reason < 0 ? 0 : reason);
    return CertStatus{Revoked{from_unix(timegm(&tm)), r ? *r : RevocationReason::unspecified}};
  }
  return fail(Errc::verification, "the OCSP response does not answer for this certificate");
}

}  // namespace smacert::pki
