// The JPKI applet command by command and status word by status word
// (spec/jpki-card.md §2), through its public process() interface.
#include "card/applet.h"

#include <gtest/gtest.h>
#include <openssl/rsa.h>

#include <random>

#include "card/card_fixture.h"
#include "pki/signer.h"

namespace smacert::card {
namespace {

using namespace testing;

class AppletTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_ = make_token(pki_);
    auto a = Applet::open(token_.image, pki_.random());
    ASSERT_TRUE(a) << a.error().message;
    applet_.emplace(std::move(*a));
  }
  Applet& applet() { return *applet_; }
  std::uint16_t sw(std::string_view apdu) { return send(applet(), apdu).sw; }
  void select_app() { ASSERT_EQ(sw(kSelectJpki), 0x9000); }
  void select(std::uint16_t fid) {
    CommandApdu c{0x00, 0xA4, 0x02, 0x0C, {std::uint8_t(fid >> 8), std::uint8_t(fid)}, {}, false};
    ASSERT_EQ(send(applet(), c).sw, 0x9000) << fid;
  }
  Bytes read_all(std::uint16_t fid) {
    select(fid);
    Bytes out;
    for (;;) {
      CommandApdu c{0x00, 0xB0, std::uint8_t(out.size() >> 8), std::uint8_t(out.size()), {},
                    256,  false};
      auto r = send(applet(), c);
      if (r.sw == 0x6B00) break;
      EXPECT_EQ(r.sw, 0x9000);
      if (r.sw != 0x9000) break;
      out.insert(out.end(), r.data.begin(), r.data.end());
    }
    return out;
  }

  TestPki pki_;
  TestToken token_;
  std::optional<Applet> applet_;
};

TEST_F(AppletTest, SelectsTheJpkiApplicationAndNothingElse) {
  EXPECT_EQ(sw(kSelectJpki), 0x9000);
  EXPECT_EQ(sw("00A4040C0AD392100031000101040 8"), 0x6A82) << "the text AP is not implemented";
  EXPECT_EQ(sw("00A4040007A0000003080000"), 0x6A82) << "PIV";
  EXPECT_EQ(sw("00A4040006D27600012401"), 0x6A82) << "OpenPGP";
  EXPECT_EQ(sw("00A4040006A00000000101"), 0x6A82) << "MuscleCard must not answer 9000";
  EXPECT_EQ(sw("00A404000BE82B0601040181C31F0201"), 0x6A82) << "SC-HSM";
  EXPECT_EQ(sw("00A4040C00"), 0x6700) << "a DF name is needed";
  EXPECT_EQ(sw("00A40410 0AD392F000260100000001"), 0x6A86) << "P2 'next occurrence'";
  EXPECT_EQ(sw("00A4FF0C0AD392F000260100000001"), 0x6A86) << "no such selection method";
  EXPECT_EQ(sw("00A4000C023F00"), 0x6A82) << "no MF to select";
  EXPECT_EQ(sw("00A4080C043F000001"), 0x6A82) << "no path";
}

TEST_F(AppletTest, SelectsFilesOnlyInsideTheApplication) {
  EXPECT_EQ(sw("00A4020C02000A"), 0x6A82) << "before the application is selected";
  select_app();
  for (const auto& f : kJpkiFiles) select(f.fid);
  EXPECT_EQ(sw("00A4020C020099"), 0x6A82);
  EXPECT_EQ(sw("00A4020C03000A00"), 0x6700) << "a file id is 2 bytes";
  EXPECT_EQ(sw("00A4020C01 0A"), 0x6700);
}

TEST_F(AppletTest, ReadsCertificatesInChunksFromAnyOffset) {
  select_app();
  EXPECT_EQ(read_all(kAuthCertFile), token_.auth_der);
  EXPECT_EQ(read_all(kAuthCaFile), token_.auth_ca_der);
  EXPECT_EQ(read_all(kSignCaFile), token_.sign_ca_der);
  // The header first, as OpenSC does, then the rest from where it stopped.
  select(kAuthCertFile);
  auto head = send(applet(), "00B0000004");
  ASSERT_EQ(head.sw, 0x9000);
  ASSERT_EQ(head.data.size(), 4u);
  EXPECT_EQ(head.data[0], 0x30);
  EXPECT_EQ(head.data[1], 0x82);
  const std::size_t total = (head.data[2] << 8 | head.data[3]) + 4u;
  EXPECT_EQ(total, token_.auth_der.size());
  auto rest = send(applet(), "00B0000400");
  EXPECT_EQ(rest.sw, 0x9000);
  EXPECT_EQ(rest.data.size(), 256u) << "Le = 00 reads 256 bytes";
  EXPECT_TRUE(std::equal(rest.data.begin(), rest.data.end(), token_.auth_der.begin() + 4));
  // The last chunk: fewer bytes than Le, still 9000 (§2).
  CommandApdu last{0x00, 0xB0, std::uint8_t((total - 10) >> 8), std::uint8_t(total - 10), {},
                   256,  false};
  auto tail = send(applet(), last);
  EXPECT_EQ(tail.sw, 0x9000);
  EXPECT_EQ(tail.data.size(), 10u);
  CommandApdu past{0x00, 0xB0, std::uint8_t(total >> 8), std::uint8_t(total), {}, 1, false};
  EXPECT_EQ(send(applet(), past).sw, 0x6B00) << "an offset at the end";
  EXPECT_EQ(sw("00B07FFF01"), 0x6B00) << "an offset past the end";
  // Extended Le reads the whole file at once.
  CommandApdu ext{0x00, 0xB0, 0, 0, {}, 65536, true};
  EXPECT_EQ(send(applet(), ext).data, token_.auth_der);
}

TEST_F(AppletTest, ReadBinaryChecksItsParameters) {
  EXPECT_EQ(sw("00B0000004"), 0x6986) << "no current EF";
  select_app();
  EXPECT_EQ(sw("00B0000004"), 0x6986) << "the application has no current EF yet";
  select(kAuthCertFile);
  EXPECT_EQ(sw("00B00000"), 0x6700) << "no Le";
  EXPECT_EQ(sw("00B0000001AA"), 0x6700) << "a data field";
  EXPECT_EQ(sw("00B0000001AA04"), 0x6700);
  EXPECT_EQ(sw("00B0810004"), 0x6A86) << "short EF identifiers are not supported";
}

TEST_F(AppletTest, TokenInfoCarriesTheCardLabel) {
  select_app();
  Bytes label = read_all(kTokenInfoFile);
  ASSERT_EQ(label.size(), kTokenLabelSize);
  std::string text(as_chars(label));
  EXPECT_EQ(text, "JPKIAPICCTOKEN2                 ");
}

TEST_F(AppletTest, TheSignatureCertificateNeedsThePassword) {
  select_app();
  select(kSignCertFile);
  EXPECT_EQ(sw("00B0000004"), 0x6982);
  select(kSignPinFile);
  EXPECT_EQ(sw("0020008006414243313233"), 0x9000);
  EXPECT_EQ(read_all(kSignCertFile), token_.sign_der);
}

TEST_F(AppletTest, NoCommandReadsAPrivateKeyOrPin) {
  select_app();
  for (auto fid : {kAuthKeyFile, kSignKeyFile, kAuthPinFile, kSignPinFile}) {
    select(fid);
    EXPECT_EQ(sw("00B0000000"), 0x6981) << fid;
  }
  // Every instruction of both classes, with both keys unlocked: no answer
  // carries any 16-byte run of either private key's encoding.
  select(kAuthPinFile);
  ASSERT_EQ(sw("002000800431323334"), 0x9000);
  select(kSignPinFile);
  ASSERT_EQ(sw("0020008006414243313233"), 0x9000);
  std::vector<Bytes> secrets;
  for (PinRef p : kPinRefs) {
    auto key = pki::parse_private_key_pem(token_.image.key(p));
    ASSERT_TRUE(key);
    BIGNUM* d = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(key->get(), "d", &d), 1);
    Bytes db(static_cast<std::size_t>(BN_num_bytes(d)));
    BN_bn2bin(d, db.data());
    BN_free(d);
    secrets.push_back(db);
    secrets.push_back(to_bytes(token_.image.key(p)));
  }
  auto leaks = [&](const Bytes& data) {
    for (const auto& s : secrets)
      for (std::size_t i = 0; i + 16 <= s.size(); i += 16)
        if (std::search(data.begin(), data.end(), s.begin() + i, s.begin() + i + 16) != data.end())
          return true;
    return false;
  };
  for (std::uint8_t cla : {0x00, 0x80})
    for (int ins = 0; ins < 256; ++ins)
      for (std::uint16_t fid : {kAuthKeyFile, kSignKeyFile}) {
        select(fid);
        for (std::uint16_t p1p2 : {0x0000, 0x0080, 0x0017, 0x001A, 0x0100}) {
          CommandApdu c{
              cla, std::uint8_t(ins), std::uint8_t(p1p2 >> 8), std::uint8_t(p1p2), {}, 65536, true};
          auto r = send(applet(), c);
          EXPECT_FALSE(leaks(r.data)) << int(cla) << " " << ins;
        }
      }
}

TEST_F(AppletTest, AuthPinCountsDownBlocksAndAnswersItsTries) {
  select_app();
  select(kAuthPinFile);
  EXPECT_EQ(sw("00200080"), 0x63C3) << "empty VERIFY tells the tries left";
  EXPECT_EQ(sw("002000800439393939"), 0x63C2);
  EXPECT_EQ(sw("00200080"), 0x63C2);
  EXPECT_EQ(sw("002000800431323334"), 0x9000) << "the right PIN";
  EXPECT_EQ(sw("00200080"), 0x63C3) << "a correct entry resets the count";
  EXPECT_TRUE(applet().verified(PinRef::Auth));
  EXPECT_EQ(sw("002000800439393939"), 0x63C2);
  EXPECT_FALSE(applet().verified(PinRef::Auth)) << "a wrong try clears the security state";
  EXPECT_EQ(sw("00200080023132"), 0x63C1) << "a wrong length is a wrong try";
  EXPECT_EQ(sw("002000800439393939"), 0x63C0) << "the last try blocks";
  EXPECT_EQ(sw("002000800431323334"), 0x6984) << "blocked: even the right PIN is refused";
  EXPECT_EQ(sw("00200080"), 0x63C0) << "empty VERIFY on a blocked PIN";
  EXPECT_EQ(applet().image().pin(PinRef::Auth)->tries_left, 0u);
  select(kAuthKeyFile);
  EXPECT_EQ(sw("802A00801A" + std::string(52, '0') + "00"), 0x6983) << "a key behind a blocked PIN";
}

TEST_F(AppletTest, SignaturePasswordHasFiveTries) {
  select_app();
  select(kSignPinFile);
  EXPECT_EQ(sw("00200080"), 0x63C5);
  for (unsigned left = 4; left > 0; --left)
    EXPECT_EQ(sw("0020008006414243313234"), sw_tries_left(left));
  EXPECT_EQ(sw("0020008006414243313233"), 0x9000) << "the fifth try is still allowed";
  EXPECT_EQ(sw("00200080"), 0x63C5) << "also when already verified";
}

TEST_F(AppletTest, VerifyChecksItsParameters) {
  select_app();
  EXPECT_EQ(sw("002000800431323334"), 0x6A88) << "no PIN EF selected";
  select(kAuthCertFile);
  EXPECT_EQ(sw("002000800431323334"), 0x6A88) << "a certificate is not a PIN";
  select(kAuthPinFile);
  EXPECT_EQ(sw("002000810431323334"), 0x6A86);
  EXPECT_EQ(sw("002001800431323334"), 0x6A86);
  EXPECT_EQ(sw("00200080"), 0x63C3) << "parameter errors cost no try";
}

TEST_F(AppletTest, SecurityStateSurvivesFileSelectionNotReselectionOrReset) {
  select_app();
  select(kAuthPinFile);
  ASSERT_EQ(sw("002000800431323334"), 0x9000);
  select(kAuthCertFile);
  select(kAuthKeyFile);
  auto di = pki::sha256_digest_info(pki::sha256(as_bytes("hello")));
  CommandApdu cds{0x80, 0x2A, 0x00, 0x80, di, 256, false};
  EXPECT_EQ(send(applet(), cds).sw, 0x9000);
  select_app();
  select(kAuthKeyFile);
  EXPECT_EQ(send(applet(), cds).sw, 0x6982) << "re-selecting the application clears it";
  select(kAuthPinFile);
  ASSERT_EQ(sw("002000800431323334"), 0x9000);
  applet().reset();
  EXPECT_EQ(sw("00B0000004"), 0x6986) << "a reset clears the selection";
  select_app();
  select(kAuthKeyFile);
  EXPECT_EQ(send(applet(), cds).sw, 0x6982) << "and the security state";
}

TEST_F(AppletTest, ComputesSignaturesAfterThePinOnly) {
  select_app();
  const Bytes message = to_bytes("ログイン challenge");
  auto di = pki::sha256_digest_info(pki::sha256(message));
  CommandApdu cds{0x80, 0x2A, 0x00, 0x80, di, 256, false};
  EXPECT_EQ(send(applet(), cds).sw, 0x6A88) << "no key selected";
  select(kAuthKeyFile);
  EXPECT_EQ(send(applet(), cds).sw, 0x6982) << "PIN not verified";
  select(kSignPinFile);
  ASSERT_EQ(sw("0020008006414243313233"), 0x9000);
  select(kAuthKeyFile);
  EXPECT_EQ(send(applet(), cds).sw, 0x6982) << "the other PIN does not unlock this key";
  select(kAuthPinFile);
  ASSERT_EQ(sw("002000800431323334"), 0x9000);
  select(kAuthKeyFile);
  auto r = send(applet(), cds);
  ASSERT_EQ(r.sw, 0x9000);
  ASSERT_EQ(r.data.size(), 256u);
  EVP_PKEY* pub = X509_get0_pubkey(token_.auth_cert.get());
  EXPECT_TRUE(pki::verify_sha256_signature(pub, message, r.data));

  select(kSignKeyFile);
  auto s = send(applet(), cds);
  ASSERT_EQ(s.sw, 0x9000);
  EXPECT_TRUE(
      pki::verify_sha256_signature(X509_get0_pubkey(token_.sign_cert.get()), message, s.data));
}

TEST_F(AppletTest, ComputeSignatureChecksItsInput) {
  select_app();
  select(kAuthPinFile);
  ASSERT_EQ(sw("002000800431323334"), 0x9000);
  select(kAuthKeyFile);
  CommandApdu c{0x80, 0x2A, 0x00, 0x80, Bytes(246, 0x01), 256, false};
  EXPECT_EQ(send(applet(), c).sw, 0x6700) << "more than 245 bytes";
  c.data.resize(245);
  EXPECT_EQ(send(applet(), c).sw, 0x9000) << "245 bytes fit PKCS#1 v1.5";
  EXPECT_EQ(sw("802A008000"), 0x6700) << "no data";
  EXPECT_EQ(sw("802A0081020102 00"), 0x6A86);
  EXPECT_EQ(sw("002A00800201 0200"), 0x6D00) << "JPKI's signature is in the proprietary class";
  select(kAuthCertFile);
  EXPECT_EQ(sw("802A0080020102 00"), 0x6A88) << "a certificate is not a key";
}

TEST_F(AppletTest, LongAnswersWaitForGetResponse) {
  select_app();
  select(kAuthPinFile);
  ASSERT_EQ(sw("002000800431323334"), 0x9000);
  select(kAuthKeyFile);
  const Bytes message = to_bytes("chained");
  auto di = pki::sha256_digest_info(pki::sha256(message));
  CommandApdu cds{0x80, 0x2A, 0x00, 0x80, di, 16, false};
  auto first = send(applet(), cds);
  EXPECT_EQ(first.sw, 0x61F0) << "240 bytes remain";
  EXPECT_EQ(first.data.size(), 16u);
  auto rest = send(applet(), "00C0000000");
  EXPECT_EQ(rest.sw, 0x9000);
  Bytes sig = first.data;
  sig.insert(sig.end(), rest.data.begin(), rest.data.end());
  EXPECT_TRUE(pki::verify_sha256_signature(X509_get0_pubkey(token_.auth_cert.get()), message, sig));
  EXPECT_EQ(sw("00C0000000"), 0x6985) << "nothing pending";
  EXPECT_EQ(sw("00C0010000"), 0x6A86);
}

TEST_F(AppletTest, ChangeReferenceDataAfterVerifyOnly) {
  select_app();
  select(kAuthPinFile);
  EXPECT_EQ(sw("002401800435353535"), 0x6982) << "not verified";
  ASSERT_EQ(sw("002000800431323334"), 0x9000);
  EXPECT_EQ(sw("0024018003353535"), 0x6A80) << "3 digits";
  EXPECT_EQ(sw("00240180044142430A"), 0x6A80) << "not digits";
  EXPECT_EQ(sw("002400800435353535"), 0x6A86) << "P1 00 (old and new) is not supported";
  EXPECT_EQ(sw("002401800435353535"), 0x9000);
  EXPECT_EQ(sw("002000800431323334"), 0x63C2) << "the old PIN is gone";
  EXPECT_EQ(sw("002000800435353535"), 0x9000) << "the new one works";
}

TEST_F(AppletTest, UnknownInstructionsClassesAndProbes) {
  EXPECT_EQ(sw("00CA7F6800"), 0x6D00) << "GET DATA";
  EXPECT_EQ(sw("00CB3FFF055C035FC10700"), 0x6D00) << "GET DATA (odd)";
  EXPECT_EQ(sw("80CA9F7F00"), 0x6D00) << "GET DATA (GlobalPlatform CPLC)";
  EXPECT_EQ(sw("00840000 08"), 0x6D00) << "GET CHALLENGE";
  EXPECT_EQ(sw("FFCA000000"), 0x6E00) << "a reader pseudo-APDU class";
  EXPECT_EQ(sw("10A4040C0AD392F000260100000001"), 0x6E00) << "command chaining";
  EXPECT_EQ(sw("0CA4040C0AD392F000260100000001"), 0x6E00) << "secure messaging";
  select_app();
  EXPECT_EQ(sw("80460017 00"), 0x6D00) << "no key generation on an issued card";
  EXPECT_EQ(sw("800E0000"), 0x6D00) << "no erase on an issued card";
}

TEST_F(AppletTest, TruncatedAndGarbageApdusGetWrongLength) {
  for (std::string_view apdu : {"", "00", "00A4", "00A404", "00A4040C0AD392", "00A4040C000005D3"})
    EXPECT_EQ(sw(apdu), 0x6700) << apdu;
}

TEST_F(AppletTest, RandomBytesNeverCrashAndAlwaysGetAStatusWord) {
  std::mt19937 rng(4242);
  const std::array<std::uint8_t, 10> ins{0xA4, 0xB0, 0x20, 0x24, 0x2A,
                                         0xC0, 0x46, 0xD6, 0x0E, 0x44};
  for (int i = 0; i < 30000; ++i) {
    Bytes b(rng() % 40);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    // Half of them look like real commands, to get past the class check.
    if (b.size() >= 2 && (i & 1)) {
      b[0] = (i & 2) ? 0x00 : 0x80;
      b[1] = ins[rng() % ins.size()];
    }
    if (i % 97 == 0) send(applet(), kSelectJpki);
    Bytes out = applet().process(b);
    ASSERT_GE(out.size(), 2u);
    const std::uint16_t s = static_cast<std::uint16_t>(out[out.size() - 2] << 8 | out.back());
    EXPECT_TRUE(s == 0x9000 || (s & 0xFF00) == 0x6100 || (s & 0xF000) == 0x6000) << std::hex << s;
  }
}

TEST_F(AppletTest, StoredStateChangesAreCounted) {
  const auto g0 = applet().generation();
  select_app();
  select(kAuthPinFile);
  send(applet(), "00200080");
  EXPECT_EQ(applet().generation(), g0) << "asking the tries changes nothing";
  send(applet(), "002000800439393939");
  EXPECT_GT(applet().generation(), g0) << "a wrong try must be saved";
}

TEST(AppletAtr, TheCardAtrChecksum) {
  std::uint8_t x = 0;
  for (std::size_t i = 1; i < kCardAtr.size(); ++i) x ^= kCardAtr[i];
  EXPECT_EQ(x, 0) << "ISO 7816-3 8.2.5: TCK makes the XOR from T0 to TCK zero";
}

}  // namespace
}  // namespace smacert::card
