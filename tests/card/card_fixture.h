// A personalised JPKI token for tests, built straight from software keys and
// the test PKI (fast), plus helpers to speak APDUs to an applet.
#pragma once

#include <gtest/gtest.h>

#include "card/applet.h"
#include "core/encoding.h"
#include "pki/key.h"
#include "support/test_pki.h"

namespace smacert::card::testing {

using smacert::testing::TestPki;

inline Bytes hex(std::string_view h) {
  std::string clean;
  for (char c : h)
    if (c != ' ') clean += c;
  auto b = hex_decode(clean);
  EXPECT_TRUE(b) << h;
  return b ? *b : Bytes{};
}

struct TestToken {
  CardImage image;
  pki::X509Ptr auth_cert;
  pki::X509Ptr sign_cert;
  Bytes auth_der, sign_der, auth_ca_der, sign_ca_der;
};

inline constexpr std::string_view kAuthPin = "1234";
inline constexpr std::string_view kSignPassword = "ABC123";

// Few PBKDF2 rounds keep the retry tests quick; the format is the same.
inline TestToken make_token(TestPki& pki, TokenKind token = TokenKind::Card) {
  TestToken t;
  auto auth = pki.issue(pki::CertificateKind::card_auth);
  auto sign = pki.issue(pki::CertificateKind::card_sign);
  t.image.token = token;
  t.image.lifecycle = Lifecycle::Operational;
  t.image.key(PinRef::Auth) = pki::private_key_pem(auth.key.get());
  t.image.key(PinRef::Sign) = pki::private_key_pem(sign.key.get());
  t.image.pin(PinRef::Auth) = make_pin_record(as_bytes(kAuthPin), kAuthPinTries, pki.random(), 100);
  t.image.pin(PinRef::Sign) =
      make_pin_record(as_bytes(kSignPassword), kSignPinTries, pki.random(), 100);
  t.auth_der = pki::to_der(auth.cert.get());
  t.sign_der = pki::to_der(sign.cert.get());
  t.auth_ca_der = pki::to_der(pki.ca(pki::CaKind::auth).certificate());
  t.sign_ca_der = pki::to_der(pki.ca(pki::CaKind::sign).certificate());
  t.image.files[kAuthCertFile] = t.auth_der;
  t.image.files[kSignCertFile] = t.sign_der;
  t.image.files[kAuthCaFile] = t.auth_ca_der;
  t.image.files[kSignCaFile] = t.sign_ca_der;
  t.auth_cert = std::move(auth.cert);
  t.sign_cert = std::move(sign.cert);
  return t;
}

// Sends `apdu` (hex) and returns the response.
inline ResponseApdu send(Applet& a, std::string_view apdu) {
  auto r = parse_response(a.process(hex(apdu)));
  EXPECT_TRUE(r);
  return r ? *r : ResponseApdu{{}, 0};
}
inline ResponseApdu send(Applet& a, const CommandApdu& c) {
  auto r = parse_response(a.process(c.encode()));
  EXPECT_TRUE(r);
  return r ? *r : ResponseApdu{{}, 0};
}

inline constexpr std::string_view kSelectJpki = "00A4040C0AD392F000260100000001";

}  // namespace smacert::card::testing
