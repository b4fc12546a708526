#include "pki/ocsp_store.h"

#include <gtest/gtest.h>

#include <set>

#include "core/encoding.h"
#include "pki/ocsp.h"
#include "support/test_pki.h"

namespace smacert::pki {
namespace {

using testing::TestPki;

PkiConfig with(KeyAlgorithm algorithm) {
  PkiConfig c;
  c.algorithm = algorithm;
  return c;
}

// A serial of `size` octets (1-20), its first octet with the top bit set
// or not (DER then pads it with 0x00, so the CertID grows by one).
Bytes serial_of_size(OsRandom& random, std::size_t size, bool high) {
  Bytes s = random.bytes(size);
  s[0] = static_cast<std::uint8_t>(high ? (s[0] | 0x80) : ((s[0] & 0x7f) | 0x01));
  return s;
}

CertStatus status_number(std::size_t i, TimePoint now) {
  switch (i % 5) {
    case 0:
      return Good{};
    case 1:
      return Revoked{from_unix(to_unix(now)), RevocationReason::superseded};
    case 2:  // suspended
      return Revoked{from_unix(to_unix(now) - 86400 * 30), RevocationReason::certificate_hold};
    case 3:
      return Revoked{from_unix(to_unix(now) - 5), RevocationReason::unspecified};
    default:
      return Unknown{};
  }
}

Bytes request_for(const X509* issuer, ByteView serial) {
  BignumPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  Asn1IntegerPtr sn(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(issuer),
                                                   X509_get0_pubkey_bitstr(issuer), sn.get()));
  unsigned char* der = nullptr;
  int len = i2d_OCSP_REQUEST(req.get(), &der);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// The signature BIT STRING's length inside a response: ECDSA's varies.
std::size_t signature_size(ByteView response) {
  auto parts = split_ocsp_response(response);
  return parts ? parts->signature.size() : 0;
}

struct Signed {
  CaKind ca;
  Bytes serial;
  std::shared_ptr<const OcspEntry> entry;
};

// Responses as OcspSigner makes them: both CAs, every status,
// serials of 1 to 20 octets, none of them in `used` (hex; filled in).
std::vector<Signed> sign_many(TestPki& pki, const OcspResponder& signer, std::size_t n,
                              std::set<std::string>& used) {
  std::vector<Signed> out;
  for (std::size_t i = 0; i < n; ++i) {
    CaKind ca = i % 2 ? CaKind::sign : CaKind::auth;
    Bytes serial;
    do serial = serial_of_size(pki.random(), 1 + i % 20, i % 3 == 0);
    while (!used.insert(hex_encode(serial)).second);
    auto e = signer.sign_entry(ca, serial, status_number(i / 2, pki.clock().now()));
    EXPECT_TRUE(e) << e.error().message;
    if (e) out.push_back({ca, serial, *e});
  }
  return out;
}

class OcspSplice : public ::testing::TestWithParam<KeyAlgorithm> {};

// The answer put together from the kept parts and the shared frame is, byte
// for byte, the signed response, whatever the signer's algorithm,
// the status, the serial's length or the signature's length; through the
// store, through the responder's fast path, and through its parsed path.
TEST_P(OcspSplice, SplicedAnswersAreTheSignedResponsesByteForByte) {
  TestPki pki(with(GetParam()));
  OcspResponder responder(pki.authorities(), pki.clock());
  const std::size_t n = GetParam() == KeyAlgorithm::p256 ? 600 : 200;
  std::set<std::string> used;
  auto signed_ = sign_many(pki, responder, n, used);
  ASSERT_EQ(signed_.size(), n);
  OcspStore store;
  std::set<std::size_t> signature_sizes, response_sizes;
  for (const auto& s : signed_) {
    // The response splits, and joining it again gives the same bytes.
    auto parts = split_ocsp_response(s.entry->response);
    ASSERT_TRUE(parts) << hex_encode(s.entry->response);
    Bytes joined;
    join_ocsp_response(*parts, joined);
    ASSERT_EQ(hex_encode(joined), hex_encode(s.entry->response));
    signature_sizes.insert(signature_size(s.entry->response));
    response_sizes.insert(s.entry->response.size());
    ASSERT_TRUE(store.put(s.serial, s.entry->response, s.entry->status, s.entry->next_update));
    responder.put(s.ca, s.serial, s.entry);
  }
  if (GetParam() == KeyAlgorithm::p256) {
    EXPECT_GE(signature_sizes.size(), 2u);
  }
  EXPECT_GE(response_sizes.size(), 10u);
  EXPECT_EQ(store.size(), n);
  EXPECT_EQ(responder.size(), n);
  Bytes out;
  for (const auto& s : signed_) {
    ASSERT_TRUE(store.answer(s.serial, out));
    ASSERT_EQ(hex_encode(out), hex_encode(s.entry->response));
    auto request = request_for(pki.ca(s.ca).certificate(), s.serial);
    ASSERT_EQ(hex_encode(*responder.respond(request)), hex_encode(s.entry->response));
    ASSERT_EQ(hex_encode(*responder.respond_parsed(request)), hex_encode(s.entry->response));
    auto found = responder.find(s.ca, s.serial);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->response, s.entry->response);
    EXPECT_EQ(found->next_update, s.entry->next_update);
    EXPECT_EQ(found->status.index(), s.entry->status.index());
    if (auto* r = std::get_if<Revoked>(&s.entry->status)) {
      EXPECT_EQ(std::get<Revoked>(found->status).at, r->at);
      EXPECT_EQ(std::get<Revoked>(found->status).reason, r->reason);
    }
  }
  // One frame holds the shared parts: far less than the responses per entry.
  std::size_t total = 0;
  for (const auto& s : signed_) total += s.entry->response.size();
  const std::size_t signer_cert = split_ocsp_response(signed_[0].entry->response)->extra.size();
  EXPECT_GT(signer_cert, 300u);
  EXPECT_LT(store.memory() - OcspStore().memory(), total + (4u << 20) + (1u << 16) * 64);
}

INSTANTIATE_TEST_SUITE_P(Signers, OcspSplice,
                         ::testing::Values(KeyAlgorithm::rsa2048, KeyAlgorithm::p256),
                         [](const auto& info) {
                           return std::string(key_algorithm_name(info.param));
                         });

// Responses of two signers (a renewed OCSP signer certificate) live side by
// side; each answer is its own response.
TEST(OcspStore, ResponsesOfSeveralSignersKeepTheirOwnFrames) {
  TestPki a(with(KeyAlgorithm::p256)), b(with(KeyAlgorithm::p256)), c;
  OcspStore store;
  std::vector<Signed> all;
  std::set<std::string> used;  // one store: no serial twice across the three
  for (TestPki* pki : {&a, &b, &c}) {
    OcspResponder signer(pki->authorities(), pki->clock());
    for (auto& s : sign_many(*pki, signer, 30, used)) all.push_back(std::move(s));
  }
  for (const auto& s : all)
    ASSERT_TRUE(store.put(s.serial, s.entry->response, s.entry->status, s.entry->next_update));
  Bytes out;
  for (const auto& s : all) {
    ASSERT_TRUE(store.answer(s.serial, out));
    EXPECT_EQ(hex_encode(out), hex_encode(s.entry->response));
  }
}

// What is not of the signer's shape is kept whole and answered as it is.
TEST(OcspStore, ResponsesOfAnotherShapeAreKeptWhole) {
  TestPki pki(with(KeyAlgorithm::p256));
  OcspResponder signer(pki.authorities(), pki.clock());
  auto e = signer.sign_entry(CaKind::auth, Bytes{0x42}, Good{});
  ASSERT_TRUE(e);
  const Bytes& good = (*e)->response;
  // The layout below: 30 82 LL LL | 0a 01 00 | a0 82 LL LL | 30 82 LL LL | 06 09 <OID> ...
  ASSERT_EQ(hex_encode(ByteView(good.data(), 2)), "3082");
  ASSERT_EQ(hex_encode(ByteView(good.data() + 15, 2)), "0609");
  // A non-minimal length in the outer SEQUENCE, trailing bytes, an error
  // answer, another responseType, an unsuccessful status with a body.
  Bytes padded{0x30, 0x83, 0x00, good[2], good[3]};
  padded.insert(padded.end(), good.begin() + 4, good.end());
  Bytes trailing = good;
  trailing.push_back(0x00);
  Bytes other_type = good;
  other_type[17] ^= 0x01;  // the OID's first octet
  Bytes unsuccessful = good;
  unsuccessful[6] = 0x03;  // tryLater
  for (const Bytes& odd : {padded, trailing, ocsp_error_response(OCSP_RESPONSE_STATUS_TRYLATER),
                           other_type, unsuccessful}) {
    EXPECT_FALSE(split_ocsp_response(odd)) << hex_encode(odd);
    OcspStore store;
    ASSERT_TRUE(store.put(Bytes{0x42}, odd, Good{}, pki.clock().now()));
    Bytes out;
    ASSERT_TRUE(store.answer(Bytes{0x42}, out));
    EXPECT_EQ(hex_encode(out), hex_encode(odd));
  }
  EXPECT_TRUE(split_ocsp_response(good));
}

// A status change replaces the entry at once; the old record's room is used
// again; a replace() for a version that is gone does nothing.
TEST(OcspStore, ReplacementsAnswerAtOnceAndReuseRoom) {
  TestPki pki(with(KeyAlgorithm::p256));
  OcspResponder signer(pki.authorities(), pki.clock());
  OcspStore store;
  const Bytes serial{0x01, 0x02, 0x03};
  auto good = signer.sign_entry(CaKind::auth, serial, Good{});
  ASSERT_TRUE(store.put(serial, (*good)->response, Good{}, (*good)->next_update));
  const std::size_t memory = store.memory();
  auto v0 = store.facts(serial)->version;
  Bytes out;
  for (int round = 0; round < 200; ++round) {
    CertStatus st = round % 2 ? CertStatus{Good{}}
                              : CertStatus{Revoked{from_unix(to_unix(pki.clock().now())),
                                                   RevocationReason::certificate_hold}};
    auto e = signer.sign_entry(CaKind::auth, serial, st);
    ASSERT_TRUE(store.put(serial, (*e)->response, st, (*e)->next_update));
    ASSERT_TRUE(store.answer(serial, out));
    ASSERT_EQ(out, (*e)->response);
    EXPECT_EQ(store.facts(serial)->status.index(), st.index());
  }
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.memory(), memory);  // 200 replacements within the first arena block
  auto key = *SerialKey::of(serial);
  EXPECT_FALSE(store.replace(key, v0, (*good)->response, Good{}, (*good)->next_update));
  auto now = store.facts(serial)->version;
  EXPECT_TRUE(store.replace(key, now, (*good)->response, Good{}, (*good)->next_update));
  ASSERT_TRUE(store.answer(serial, out));
  EXPECT_EQ(out, (*good)->response);
  EXPECT_FALSE(store.answer(Bytes{0x09}, out));
  EXPECT_FALSE(store.put(Bytes(21, 0x01), (*good)->response, Good{}, (*good)->next_update));
}

// The index by nextUpdate: due() hands out exactly the entries before the
// horizon, soonest first, at most `limit`, and forgets an entry once it is
// put again with a later nextUpdate.
TEST(OcspStore, DueFindsWhatExpiresBeforeTheHorizonOnly) {
  OcspStore store;
  const Bytes response = ocsp_error_response(OCSP_RESPONSE_STATUS_TRYLATER);
  const TimePoint t0 = from_unix(1'800'000'000);
  // 3,000 entries, nextUpdate spread over 50 hours (one a minute), shuffled.
  std::vector<int> order(3000);
  for (int i = 0; i < 3000; ++i) order[static_cast<std::size_t>(i)] = (i * 1237) % 3000;
  auto serial = [](int i) {
    return Bytes{0x10, static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
  };
  for (int i : order)
    ASSERT_TRUE(store.put(serial(i), response, Good{},
                          t0 + std::chrono::minutes(i) + std::chrono::seconds(30)));
  EXPECT_TRUE(store.due(t0, 100).empty());
  // Before t0 + 10 min: entries 0-9 (entry 10's nextUpdate is t0 + 10:30).
  auto due = store.due(t0 + std::chrono::minutes(10) + std::chrono::seconds(30), 100);
  ASSERT_EQ(due.size(), 10u);
  for (std::size_t k = 0; k < due.size(); ++k)
    EXPECT_EQ(hex_encode(due[k].serial.view()), hex_encode(serial(static_cast<int>(k))));
  // A limit.
  EXPECT_EQ(store.due(t0 + std::chrono::hours(100), 25).size(), 25u);
  // Entries 0-4 re-signed with a nextUpdate 200 hours on: no longer due.
  for (int i = 0; i < 5; ++i) {
    auto key = *SerialKey::of(serial(i));
    auto v = store.facts(serial(i))->version;
    ASSERT_TRUE(store.replace(key, v, response, Good{}, t0 + std::chrono::hours(200)));
  }
  due = store.due(t0 + std::chrono::minutes(10) + std::chrono::seconds(30), 100);
  ASSERT_EQ(due.size(), 5u);
  EXPECT_EQ(hex_encode(due[0].serial.view()), hex_encode(serial(5)));
  // Everything, once each, soonest first.
  due = store.due(t0 + std::chrono::hours(199), 10'000);
  ASSERT_EQ(due.size(), 2995u);
  for (std::size_t k = 1; k < due.size(); ++k)
    EXPECT_LT(due[k - 1].facts.next_update, due[k].facts.next_update);
}

}  // namespace
}  // namespace smacert::pki
