#include "pki/ocsp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/encoding.h"
#include "pki/der_reader.h"
#include "pki/der_writer.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

Bytes request_for(const X509* cert, const X509* issuer, const EVP_MD* md = EVP_sha1()) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(md, cert, issuer));
  int len = i2d_OCSP_REQUEST(req.get(), nullptr);
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_OCSP_REQUEST(req.get(), &p);
  return out;
}

int response_status(const Bytes& der) {
  const unsigned char* p = der.data();
  OcspResponsePtr r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  return r ? OCSP_response_status(r.get()) : -1;
}

class OcspTest : public ::testing::Test {
 protected:
  OcspTest() : responder_(pki_.authorities(), pki_.clock()) {}
  Bytes serial_of(const X509* c) { return *serial_bytes(serial_hex(X509_get0_serialNumber(c))); }
  void install(const X509* c, CaKind ca, CertStatus st) {
    auto e = responder_.sign_entry(ca, serial_of(c), st);
    ASSERT_TRUE(e) << e.error().message;
    responder_.put(ca, serial_of(c), *e);
  }
  CertStatus check(const Bytes& resp, const X509* cert, CaKind ca) {
    auto st = check_ocsp_response(resp, cert, pki_.ca(ca).certificate(), pki_.clock().now());
    EXPECT_TRUE(st) << st.error().message;
    return st ? *st : CertStatus{Unknown{}};
  }
  TestPki pki_;
  OcspResponder responder_;
};

TEST_F(OcspTest, AnswersGoodRevokedAndUnknownAsSigned) {
  auto good = pki_.issue(CertificateKind::phone_auth);
  auto revoked = pki_.issue(CertificateKind::phone_sign);
  auto never_seen = pki_.issue(CertificateKind::card_auth);
  install(good.cert.get(), CaKind::auth, Good{});
  auto when = from_unix(to_unix(pki_.clock().now()));
  install(revoked.cert.get(), CaKind::sign, Revoked{when, RevocationReason::superseded});

  X509* auth_ca = pki_.ca(CaKind::auth).certificate();
  X509* sign_ca = pki_.ca(CaKind::sign).certificate();
  auto r1 = responder_.respond(request_for(good.cert.get(), auth_ca));
  EXPECT_TRUE(std::holds_alternative<Good>(check(*r1, good.cert.get(), CaKind::auth)));
  auto r2 = responder_.respond(request_for(revoked.cert.get(), sign_ca));
  auto st = check(*r2, revoked.cert.get(), CaKind::sign);
  ASSERT_TRUE(std::holds_alternative<Revoked>(st));
  EXPECT_EQ(std::get<Revoked>(st).reason, RevocationReason::superseded);
  EXPECT_EQ(std::get<Revoked>(st).at, when);
  auto r3 = responder_.respond(request_for(never_seen.cert.get(), auth_ca));
  EXPECT_TRUE(std::holds_alternative<Unknown>(check(*r3, never_seen.cert.get(), CaKind::auth)));
}

TEST_F(OcspTest, ThePreSignedBytesAreServedAsTheyAre) {
  auto c = pki_.issue(CertificateKind::phone_auth);
  auto signed_entry = responder_.sign_entry(CaKind::auth, serial_of(c.cert.get()), Good{});
  ASSERT_TRUE(signed_entry);
  responder_.put(CaKind::auth, serial_of(c.cert.get()), *signed_entry);
  // An hour later the answer is still the bytes signed then: nothing is
  // signed on the fast path (an answer signed now would say so in thisUpdate).
  pki_.clock().advance(std::chrono::hours(1));
  auto r = responder_.respond(request_for(c.cert.get(), pki_.ca(CaKind::auth).certificate()));
  EXPECT_EQ(hex_encode(*r), hex_encode((*signed_entry)->response));
  EXPECT_EQ(responder_.find(CaKind::auth, serial_of(c.cert.get()))->response,
            (*signed_entry)->response);
}

TEST_F(OcspTest, Sha256CertIdsAreAnsweredWithAMatchingCertId) {
  auto c = pki_.issue(CertificateKind::phone_auth);
  install(c.cert.get(), CaKind::auth, Good{});
  auto r = responder_.respond(
      request_for(c.cert.get(), pki_.ca(CaKind::auth).certificate(), EVP_sha256()));
  EXPECT_TRUE(std::holds_alternative<Good>(check(*r, c.cert.get(), CaKind::auth)));
}

TEST_F(OcspTest, AnIssuerWeDoNotServeIsUnauthorized) {
  TestPki other;
  auto c = other.issue(CertificateKind::card_auth);
  auto r = responder_.respond(request_for(c.cert.get(), other.ca(CaKind::auth).certificate()));
  EXPECT_EQ(response_status(*r), OCSP_RESPONSE_STATUS_UNAUTHORIZED);
}

TEST_F(OcspTest, HostileRequestsAreMalformedAndNeverCrash) {
  auto c = pki_.issue(CertificateKind::card_auth);
  Bytes good = request_for(c.cert.get(), pki_.ca(CaKind::auth).certificate());
  EXPECT_EQ(response_status(*responder_.respond({})), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  // Every truncation of a valid request.
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(response_status(*responder_.respond(ByteView(good.data(), n))),
              OCSP_RESPONSE_STATUS_MALFORMEDREQUEST)
        << "truncated to " << n;
  // Trailing garbage.
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_EQ(response_status(*responder_.respond(trailing)), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  // Oversized.
  Bytes huge(kMaxOcspRequest + 1, 0x30);
  EXPECT_EQ(parse_ocsp_request(huge).error().code, Errc::too_large);
  // A length field claiming gigabytes.
  Bytes liar{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00};
  EXPECT_EQ(response_status(*responder_.respond(liar)), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
  // Random bytes and random bit flips of a valid request.
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    Bytes b = good;
    for (int k = 0; k < 3; ++k) b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    auto r = responder_.respond(b);
    int s = response_status(*r);
    EXPECT_TRUE(s == OCSP_RESPONSE_STATUS_SUCCESSFUL ||
                s == OCSP_RESPONSE_STATUS_MALFORMEDREQUEST ||
                s == OCSP_RESPONSE_STATUS_UNAUTHORIZED);
    Bytes noise(rng() % 300);
    for (auto& x : noise) x = static_cast<std::uint8_t>(rng());
    EXPECT_GE(response_status(*responder_.respond(noise)), 0);
  }
}

// The fast path (a strict DER reader, no allocation) and the parsed path
// (OpenSSL) answer every request with the same bytes. The clock stands
// still and RSA PKCS#1 v1.5 is deterministic, so even answers signed on
// demand compare byte for byte (within one second of producedAt).
TEST_F(OcspTest, TheFastPathAnswersExactlyAsTheParsedPath) {
  std::vector<testing::IssuedCert> certs;
  for (auto kind : {CertificateKind::phone_auth, CertificateKind::phone_sign,
                    CertificateKind::card_auth, CertificateKind::card_sign})
    certs.push_back(pki_.issue(kind));
  install(certs[0].cert.get(), CaKind::auth, Good{});
  install(certs[1].cert.get(), CaKind::sign,
          Revoked{from_unix(to_unix(pki_.clock().now())), RevocationReason::superseded});
  install(certs[2].cert.get(), CaKind::auth, Good{});
  // certs[3] is never installed: signed on demand as unknown.
  std::vector<Bytes> requests;
  for (std::size_t i = 0; i < certs.size(); ++i) {
    X509* issuer = pki_.ca(i % 2 ? CaKind::sign : CaKind::auth).certificate();
    requests.push_back(request_for(certs[i].cert.get(), issuer));
    requests.push_back(request_for(certs[i].cert.get(), issuer, EVP_sha256()));
    // With a nonce (a request extension): not the simple shape.
    OcspRequestPtr req(OCSP_REQUEST_new());
    OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), certs[i].cert.get(), issuer));
    OCSP_request_add1_nonce(req.get(), nullptr, 16);
    unsigned char* der = nullptr;
    int len = i2d_OCSP_REQUEST(req.get(), &der);
    requests.emplace_back(der, der + len);
    OPENSSL_free(der);
  }
  // The wrong issuer for a serial we hold.
  requests.push_back(request_for(certs[0].cert.get(), pki_.ca(CaKind::sign).certificate()));

  auto same_answer = [&](const Bytes& req) {
    auto fast = responder_.respond(req);
    auto parsed = responder_.respond_parsed(req);
    // An answer signed on demand carries OpenSSL's producedAt, taken from the
    // wall clock: two calls may straddle a second. Three tries in a row
    // cannot all do so.
    for (int again = 0; again < 2 && fast && parsed && *fast != *parsed; ++again) {
      fast = responder_.respond(req);
      parsed = responder_.respond_parsed(req);
    }
    EXPECT_EQ(hex_encode(*fast), hex_encode(*parsed)) << "request " << hex_encode(req);
    // Whatever the strict reader accepts, OpenSSL reads the same way.
    if (auto simple = parse_simple_ocsp_request(req)) {
      auto full = parse_ocsp_request(req);
      ASSERT_TRUE(full) << "accepted by the fast reader only: " << hex_encode(req);
      EXPECT_EQ(simple->hash, full->hash);
      EXPECT_EQ(hex_encode(simple->issuer_name_hash), hex_encode(full->issuer_name_hash));
      EXPECT_EQ(hex_encode(simple->issuer_key_hash), hex_encode(full->issuer_key_hash));
      EXPECT_EQ(hex_encode(simple->serial), hex_encode(full->serial));
    }
  };
  int fast_hits = 0;
  for (const auto& req : requests) {
    same_answer(req);
    if (parse_simple_ocsp_request(req)) ++fast_hits;
    // Every truncation, a trailing byte, and three changes of every octet.
    for (std::size_t n = 0; n < req.size(); ++n) same_answer(Bytes(req.begin(), req.begin() + n));
    Bytes longer = req;
    longer.push_back(0);
    same_answer(longer);
    for (std::size_t i = 0; i < req.size(); ++i)
      for (std::uint8_t flip : {0x01, 0x80, 0xff}) {
        Bytes b = req;
        b[i] ^= flip;
        same_answer(b);
      }
  }
  EXPECT_EQ(fast_hits, 9);  // without a nonce: SHA-1 and SHA-256 for each, and the wrong issuer
  // The fast path hands out the stored response, put together in a buffer
  // that is written again once the answer before has been let go.
  auto entry = responder_.find(CaKind::auth, serial_of(certs[0].cert.get()));
  auto first = responder_.respond(requests[0]);
  EXPECT_EQ(*first, entry->response);
  auto held = responder_.respond(requests[0]);  // the first is still held: another buffer
  EXPECT_NE(held.get(), first.get());
  const Bytes* reused = first.get();
  first.reset();
  EXPECT_EQ(responder_.respond(requests[0]).get(), reused);
  EXPECT_EQ(*held, entry->response);
}

TEST(OcspSimpleReader, DeclinesWhatIsNotMinimalDer) {
  // OCSPRequest { TBSRequest { requestList { Request { CertID { SHA-1,
  // 20-byte hashes, `serial` } } } } }
  auto request = [](Bytes serial, bool long_length = false) {
    Bytes cert_id = {0x30, 0x07, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x04, 0x14};
    cert_id.resize(cert_id.size() + 20, 0xaa);
    cert_id.push_back(0x04);
    cert_id.push_back(0x14);
    cert_id.resize(cert_id.size() + 20, 0xbb);
    cert_id.push_back(0x02);
    cert_id.push_back(static_cast<std::uint8_t>(serial.size()));
    cert_id.insert(cert_id.end(), serial.begin(), serial.end());
    auto wrap = [&](const Bytes& in) {
      Bytes out{0x30};
      if (long_length) out.push_back(0x81);  // not minimal below 128
      out.push_back(static_cast<std::uint8_t>(in.size()));
      out.insert(out.end(), in.begin(), in.end());
      return out;
    };
    return wrap(wrap(wrap(wrap(wrap(cert_id)))));
  };
  // The answer is a view into the request: keep the request alive.
  const Bytes one = request({0x01}), padded = request({0x00, 0x80});
  auto ok = parse_simple_ocsp_request(one);
  ASSERT_TRUE(ok);
  EXPECT_EQ(hex_encode(ok->serial), "01");
  auto high = parse_simple_ocsp_request(padded);
  ASSERT_TRUE(high);
  EXPECT_EQ(hex_encode(high->serial), "80");
  EXPECT_FALSE(parse_simple_ocsp_request(request({0x01}, true)));  // long form below 128
  EXPECT_FALSE(parse_simple_ocsp_request(request({0x00, 0x01})));  // needless 0x00 pad
  EXPECT_FALSE(parse_simple_ocsp_request(request({0x80})));        // negative
  EXPECT_FALSE(parse_simple_ocsp_request(request({0x00})));        // zero
  EXPECT_FALSE(parse_simple_ocsp_request(request({})));            // empty INTEGER
  EXPECT_FALSE(parse_simple_ocsp_request(Bytes(kMaxOcspRequest + 1, 0x30)));
}

TEST_F(OcspTest, TwoRequestsInOneAreRefusedPerRfc5019) {
  auto a = pki_.issue(CertificateKind::card_auth);
  auto b = pki_.issue(CertificateKind::card_auth);
  X509* ca = pki_.ca(CaKind::auth).certificate();
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), a.cert.get(), ca));
  OCSP_request_add0_id(req.get(), OCSP_cert_to_id(EVP_sha1(), b.cert.get(), ca));
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &der);
  Bytes bytes(der, der + len);
  OPENSSL_free(der);
  EXPECT_EQ(parse_ocsp_request(bytes).error().code, Errc::malformed);
}

TEST_F(OcspTest, RefreshReSignsEntriesBeforeTheirNextUpdate) {
  auto c = pki_.issue(CertificateKind::phone_auth);
  auto when = pki_.clock().now();
  install(c.cert.get(), CaKind::auth, Revoked{when, RevocationReason::certificate_hold});
  auto before = responder_.find(CaKind::auth, serial_of(c.cert.get()));
  EXPECT_TRUE(responder_.refresh(std::chrono::hours(1)).empty());  // a day left: nothing due
  pki_.clock().advance(std::chrono::hours(23) + std::chrono::minutes(30));
  auto refreshed = responder_.refresh(std::chrono::hours(1));
  ASSERT_EQ(refreshed.size(), 1u);
  EXPECT_EQ(refreshed[0].serial_hex, serial_hex(X509_get0_serialNumber(c.cert.get())));
  auto after = responder_.find(CaKind::auth, serial_of(c.cert.get()));
  EXPECT_GT(after->next_update, before->next_update);
  // The status is kept: still on hold.
  auto st = check(after->response, c.cert.get(), CaKind::auth);
  ASSERT_TRUE(std::holds_alternative<Revoked>(st));
  EXPECT_EQ(std::get<Revoked>(st).reason, RevocationReason::certificate_hold);
}

TEST_F(OcspTest, AResponseForAnotherCertificateOrPastItsNextUpdateIsRefused) {
  auto a = pki_.issue(CertificateKind::phone_auth);
  auto b = pki_.issue(CertificateKind::phone_auth);
  install(a.cert.get(), CaKind::auth, Good{});
  auto entry = responder_.find(CaKind::auth, serial_of(a.cert.get()));
  X509* ca = pki_.ca(CaKind::auth).certificate();
  EXPECT_EQ(check_ocsp_response(entry->response, b.cert.get(), ca, pki_.clock().now()).error().code,
            Errc::verification);
  EXPECT_EQ(check_ocsp_response(entry->response, a.cert.get(), ca,
                                pki_.clock().now() + std::chrono::hours(25))
                .error()
                .code,
            Errc::expired);
  // Signed by another CA's responder: the signature check fails.
  EXPECT_EQ(check_ocsp_response(entry->response, a.cert.get(), pki_.ca(CaKind::sign).certificate(),
                                pki_.clock().now())
                .error()
                .code,
            Errc::verification);
}

// The response as OpenSSL's OCSP_basic_sign makes it (the slow path
// OcspSigner replaced). OpenSSL stamps producedAt with the wall clock.
Bytes reference_response(const CertificateAuthority& ca, ByteView serial, const CertStatus& status,
                         TimePoint this_update, TimePoint next_update, const EVP_MD* md) {
  BignumPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  Asn1IntegerPtr serial_int(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  X509* issuer = ca.certificate();
  OcspCertIdPtr id(OCSP_cert_id_new(md, X509_get_subject_name(issuer),
                                    X509_get0_pubkey_bitstr(issuer), serial_int.get()));
  OcspBasicPtr basic(OCSP_BASICRESP_new());
  Asn1TimePtr thisupd(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(this_update))));
  Asn1TimePtr nextupd(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(next_update))));
  int st = V_OCSP_CERTSTATUS_GOOD, reason = -1;
  Asn1TimePtr revtime;
  if (auto* r = std::get_if<Revoked>(&status)) {
    st = V_OCSP_CERTSTATUS_REVOKED;
    reason = static_cast<int>(r->reason);
    revtime.reset(ASN1_TIME_set(nullptr, static_cast<time_t>(to_unix(r->at))));
  } else if (std::holds_alternative<Unknown>(status)) {
    st = V_OCSP_CERTSTATUS_UNKNOWN;
  }
  EXPECT_TRUE(OCSP_basic_add1_status(basic.get(), id.get(), st, reason, revtime.get(),
                                     thisupd.get(), nextupd.get()));
  EXPECT_TRUE(OCSP_basic_sign(basic.get(), ca.ocsp_certificate(), ca.ocsp_key(), EVP_sha256(),
                              nullptr, OCSP_RESPID_KEY));
  OcspResponsePtr resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  int len = i2d_OCSP_RESPONSE(resp.get(), nullptr);
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_OCSP_RESPONSE(resp.get(), &p);
  return out;
}

// `from` with the first occurrence of `what` replaced by `with` (same size).
Bytes splice(Bytes from, ByteView what, ByteView with) {
  auto at = std::search(from.begin(), from.end(), what.begin(), what.end());
  EXPECT_NE(at, from.end());
  if (at != from.end()) std::copy(with.begin(), with.end(), at);
  return from;
}

// The BasicOCSPResponse's elements, whole TLVs: tbsResponseData,
// signatureAlgorithm, signature, certs.
std::vector<Bytes> basic_elements(const Bytes& response) {
  std::vector<Bytes> out;
  auto outer = der::only(response, 0x30);
  if (!outer) return out;
  ByteView in = *outer;
  der::read(in, 0x0a);
  auto bytes = der::read(in, 0xa0);
  if (!bytes) return out;
  auto seq = der::only(bytes->content, 0x30);
  if (!seq) return out;
  ByteView body = *seq;
  der::read(body, 0x06);
  auto octets = der::read(body, 0x04);
  if (!octets) return out;
  auto basic = der::only(octets->content, 0x30);
  if (!basic) return out;
  for (ByteView e = *basic; auto t = der::read(e);)
    out.emplace_back(t->whole.begin(), t->whole.end());
  return out;
}

struct BasicParts {
  Bytes produced_at;  // the GeneralizedTime TLV
  Bytes signature;    // the BIT STRING's octets
};
BasicParts basic_parts(const Bytes& response) {
  const unsigned char* p = response.data();
  OcspResponsePtr r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(response.size())));
  EXPECT_TRUE(r);
  OcspBasicPtr basic(OCSP_response_get1_basic(r.get()));
  EXPECT_TRUE(basic);
  BasicParts out;
  unsigned char* q = nullptr;
  int n = i2d_ASN1_GENERALIZEDTIME(OCSP_resp_get0_produced_at(basic.get()), &q);
  out.produced_at.assign(q, q + n);
  OPENSSL_free(q);
  const ASN1_OCTET_STRING* sig = OCSP_resp_get0_signature(basic.get());
  out.signature.assign(ASN1_STRING_get0_data(sig),
                       ASN1_STRING_get0_data(sig) + ASN1_STRING_length(sig));
  return out;
}

// Every status, both CertID hashes, serials of 1, 16 (top bit set) and 20
// octets, RSA and P-256 signers: OcspSigner's bytes are OpenSSL's but for
// producedAt (thisUpdate here, the wall clock there) and the signature over
// it, which verifies.
class OcspSignerDer : public ::testing::TestWithParam<KeyAlgorithm> {};

TEST_P(OcspSignerDer, WritesTheBytesOpenSslWouldAndASignatureThatVerifies) {
  PkiConfig config;
  config.algorithm = GetParam();
  TestPki pki(config);
  pki.clock().set(pki.clock().now() - std::chrono::hours(30));  // producedAt differs from OpenSSL's
  const auto& ca = pki.ca(CaKind::auth);
  OcspSigner signer(ca);
  const TimePoint now = pki.clock().now();
  const CertStatus statuses[] = {
      Good{}, Unknown{}, Revoked{now - std::chrono::hours(3), RevocationReason::unspecified},
      Revoked{now - std::chrono::hours(2), RevocationReason::superseded},
      Revoked{now - std::chrono::hours(1), RevocationReason::certificate_hold}};
  const Bytes serials[] = {Bytes{0x05}, Bytes(16, 0xa7), Bytes(20, 0x7f)};
  for (auto hash : {OcspQuery::Hash::sha1, OcspQuery::Hash::sha256})
    for (const auto& status : statuses)
      for (const auto& serial : serials) {
        SCOPED_TRACE(hex_encode(serial) + " status " + std::to_string(status.index()));
        auto ours = signer.sign(serial, status, now, now + std::chrono::hours(24), hash);
        ASSERT_TRUE(ours) << ours.error().message;
        Bytes ref = reference_response(ca, serial, status, now, now + std::chrono::hours(24),
                                       hash == OcspQuery::Hash::sha1 ? EVP_sha1() : EVP_sha256());
        BasicParts a = basic_parts(*ours), b = basic_parts(ref);
        EXPECT_EQ(a.produced_at, der::generalized_time(now));
        ref = splice(ref, b.produced_at, a.produced_at);
        if (GetParam() == KeyAlgorithm::rsa2048) {  // PKCS#1 v1.5: the same signature too
          EXPECT_EQ(splice(ref, b.signature, a.signature), *ours);
        } else {  // ECDSA signatures differ in length: the other parts are the same
          auto x = basic_elements(*ours), y = basic_elements(ref);
          ASSERT_EQ(x.size(), 4u);
          ASSERT_EQ(y.size(), 4u);
          EXPECT_EQ(x[0], y[0]);  // tbsResponseData
          EXPECT_EQ(x[1], y[1]);  // signatureAlgorithm
          EXPECT_EQ(x[3], y[3]);  // certs
        }
        // The whole response verifies as a relying party checks it (now: the
        // signer's certificate is not valid at the clock's earlier time).
        const unsigned char* p = ours->data();
        OcspResponsePtr r(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(ours->size())));
        OcspBasicPtr basic(OCSP_response_get1_basic(r.get()));
        X509StorePtr store(X509_STORE_new());
        X509_STORE_add_cert(store.get(), ca.certificate());
        EXPECT_EQ(OCSP_basic_verify(basic.get(), nullptr, store.get(), 0), 1);
      }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, OcspSignerDer,
                         ::testing::Values(KeyAlgorithm::rsa2048, KeyAlgorithm::p256),
                         [](const auto& info) {
                           return info.param == KeyAlgorithm::rsa2048 ? "rsa2048" : "p256";
                         });

}  // namespace
}  // namespace smacert::pki
