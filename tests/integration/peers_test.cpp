// Real peers against the running server (spec/interop-peers.md): OpenSSL's
// `openssl ocsp -url`, GnuTLS `ocsptool --ask=URL` and NSS `vfychain` (OCSP
// from the certificate's AIA, failIfNoInfo) answer good, revoked and unknown
// right; the CRL fetched over HTTP parses with `openssl crl` and lists what
// was revoked or suspended.
#include <cctype>
#include <fstream>

#include "core/encoding.h"
#include "integration/support/actors.h"
#include "integration/support/server_process.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace smacert::integration {
namespace {

using smacert::testing::run;
using smacert::testing::sh;

bool has_tool(const std::string& name) {
  return run("command -v " + name).rc == 0;
}

class Peers : public ::testing::Test {
 protected:
  void SetUp() override {
    std::uint16_t port = ServerProcess::free_port();
    ServerOptions o;
    o.port = port;
    // The AIA and CRL DP of every certificate name this server.
    o.config_toml = "[pki]\npublic_url = \"http://127.0.0.1:" + std::to_string(port) + "\"\n";
    server_ = std::make_unique<ServerProcess>(dir_.path() / "data", o);
    ASSERT_TRUE(server_->start());
    api_ = std::make_unique<Api>(server_->url(), server_->admin_token());
    Api& api = *api_;

    // A holder, an old phone, a device change to a new phone.
    card_ = issue_card(api);
    old_ = make_phone(2, 3, "peer-old");
    ASSERT_EQ(apply(api, card_, old_).status, 202);
    ASSERT_EQ(register_phone(api, old_).status, 200);
    new_ = make_phone(4, 5, "peer-new");
    ASSERT_EQ(apply(api, card_, new_, application_spec("device_change")).status, 202);
    ASSERT_EQ(register_phone(api, new_).status, 200);
    auto old_certs = phone_certificates(api, old_);
    auto new_certs = phone_certificates(api, new_);
    write(root_ = file("sign-root.pem"), api.get("/ca/sign.pem").body);
    write(auth_root_ = file("auth-root.pem"), api.get("/ca/auth.pem").body);
    write_cert(good_ = file("new-sign.pem"), new_certs["phone_sign"]);
    write_cert(revoked_ = file("old-sign.pem"), old_certs["phone_sign"]);
    write_cert(good_auth_ = file("new-auth.pem"), new_certs["phone_auth"]);
    write_cert(revoked_auth_ = file("old-auth.pem"), old_certs["phone_auth"]);
    old_sign_serial_ = serial_of(old_certs["phone_sign"]);
  }
  void TearDown() override {
    if (server_) {
      EXPECT_EQ(server_->terminate(), 0);
    }
  }

  std::string file(const std::string& name) { return (dir_.path() / name).string(); }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  static void write_cert(const std::string& path, const Bytes& der) {
    auto c = pki::parse_certificate(der);
    ASSERT_TRUE(c);
    write(path, pki::to_pem(c->get()));
  }
  static std::string serial_of(const Bytes& der) {
    return pki::serial_hex(X509_get0_serialNumber(pki::parse_certificate(der)->get()));
  }
  static std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
  std::string url(const std::string& ca) { return server_->url() + "/ocsp/" + ca; }

  smacert::testing::TempDir dir_{"it-peers"};
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
  SoftCard card_;
  SoftPhone old_, new_;
  std::string root_, auth_root_, good_, revoked_, good_auth_, revoked_auth_, old_sign_serial_;
};

TEST_F(Peers, OpensslOcspGoodRevokedUnknown) {
  auto ask = [&](const std::string& what, const std::string& root, const std::string& ca) {
    return run("openssl ocsp -issuer " + sh(root) + " " + what + " -url " + sh(url(ca)) +
               " -CAfile " + sh(root));
  };
  auto g = ask("-cert " + sh(good_), root_, "sign");
  EXPECT_EQ(g.rc, 0) << g.output;
  EXPECT_NE(g.output.find("Response verify OK"), std::string::npos) << g.output;
  EXPECT_NE(g.output.find(good_ + ": good"), std::string::npos) << g.output;

  auto r = ask("-cert " + sh(revoked_), root_, "sign");
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("Response verify OK"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(revoked_ + ": revoked"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Reason: superseded"), std::string::npos) << r.output;

  auto ra = ask("-cert " + sh(revoked_auth_), auth_root_, "auth");
  EXPECT_NE(ra.output.find(revoked_auth_ + ": revoked"), std::string::npos) << ra.output;
  auto ga = ask("-cert " + sh(good_auth_), auth_root_, "auth");
  EXPECT_NE(ga.output.find(good_auth_ + ": good"), std::string::npos) << ga.output;

  auto u = ask("-serial 0x5eed", root_, "sign");
  EXPECT_EQ(u.rc, 0) << u.output;
  EXPECT_NE(u.output.find("Response verify OK"), std::string::npos) << u.output;
  EXPECT_NE(u.output.find(": unknown"), std::string::npos) << u.output;
}

TEST_F(Peers, CrlOverHttpParsesAndListsRevokedAndSuspended) {
  // Suspend the new phone's auth certificate: certificateHold on the auth CRL.
  auto s = api_->admin("/admin/v1/certificates/" +
                           serial_of(phone_certificates(*api_, new_)["phone_auth"]) + "/suspend",
                       nlohmann::json::object());
  ASSERT_EQ(s.status, 200) << s;
  for (std::string ca : {"sign", "auth"}) {
    auto crl = api_->get("/crl/" + ca + ".crl");
    ASSERT_EQ(crl.status, 200) << crl;
    EXPECT_EQ(crl.body.size() > 0, true);
    std::string path = file(ca + ".crl");
    write(path, crl.body);
    auto r = run("openssl crl -inform DER -in " + sh(path) + " -CAfile " +
                 sh(ca == "sign" ? root_ : auth_root_) + " -noout -text");
    EXPECT_EQ(r.rc, 0) << r.output;
    EXPECT_NE(r.output.find("verify OK"), std::string::npos) << r.output;
    if (ca == "sign") {
      EXPECT_NE(r.output.find("Serial Number: " + upper(old_sign_serial_)), std::string::npos)
          << r.output;
      EXPECT_NE(r.output.find("Superseded"), std::string::npos) << r.output;
      auto v = run("openssl verify -crl_check -CAfile " + sh(root_) + " -CRLfile " + sh(path) +
                   " " + sh(revoked_));
      EXPECT_NE(v.output.find("certificate revoked"), std::string::npos) << v.output;
      auto ok = run("openssl verify -crl_check -CAfile " + sh(root_) + " -CRLfile " + sh(path) +
                    " " + sh(good_));
      EXPECT_EQ(ok.rc, 0) << ok.output;
    } else {
      EXPECT_NE(r.output.find("Certificate Hold"), std::string::npos) << r.output;
    }
  }
}

TEST_F(Peers, GnutlsOcsptoolAsksTheServer) {
  if (!has_tool("ocsptool")) GTEST_SKIP() << "gnutls-bin is not installed";
  auto ask = [&](const std::string& cert) {
    return run("ocsptool --ask=" + url("sign") + " --load-issuer " + sh(root_) + " --load-cert " +
               sh(cert) + " --load-trust " + sh(root_));
  };
  auto g = ask(good_);
  EXPECT_EQ(g.rc, 0) << g.output;
  EXPECT_NE(g.output.find("Certificate Status: good"), std::string::npos) << g.output;
  EXPECT_NE(g.output.find("Verifying OCSP Response: Success."), std::string::npos) << g.output;
  auto r = ask(revoked_);
  EXPECT_EQ(r.rc, 0) << r.output;
  EXPECT_NE(r.output.find("Certificate Status: revoked"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Verifying OCSP Response: Success."), std::string::npos) << r.output;
}

TEST_F(Peers, NssVfychainChecksOcspFromTheAia) {
  if (!has_tool("vfychain") || !has_tool("certutil")) GTEST_SKIP() << "libnss3-tools missing";
  std::string db = "sql:" + file("nssdb");
  std::filesystem::create_directories(file("nssdb"));
  ASSERT_EQ(run("certutil -N -d " + sh(db) + " --empty-password").rc, 0);
  ASSERT_EQ(run("certutil -A -d " + sh(db) + " -n sign-root -t CT,C,C -a -i " + sh(root_)).rc, 0);
  ASSERT_EQ(run("certutil -A -d " + sh(db) + " -n auth-root -t CT,C,C -a -i " + sh(auth_root_)).rc,
            0);
  auto check = [&](const std::string& cert) {
    return run("vfychain -pp -d " + sh(db) + " -u 4 -g leaf -m ocsp -s failIfNoInfo -a " +
               sh(cert));
  };
  auto g = check(good_);
  EXPECT_EQ(g.rc, 0) << g.output;
  EXPECT_NE(g.output.find("Chain is good!"), std::string::npos) << g.output;
  auto r = check(revoked_);
  EXPECT_EQ(r.rc, 1) << r.output;
  EXPECT_NE(r.output.find("ERROR -8180"), std::string::npos) << r.output;
  auto ga = check(good_auth_);
  EXPECT_NE(ga.output.find("Chain is good!"), std::string::npos) << ga.output;
  auto ra = check(revoked_auth_);
  EXPECT_NE(ra.output.find("ERROR -8180"), std::string::npos) << ra.output;
}

}  // namespace
}  // namespace smacert::integration
