// `smacert serve` over HTTPS when [server] names a certificate and a key:
// the whole API, OCSP and CRL on the TLS listener, the certificates it
// issues naming https:// URLs, our client trusting the server through
// SSL_CERT_FILE (OpenSSL's own variable), and curl as a peer. A bad key is
// refused before the data folder is made.
#include <cstdlib>
#include <fstream>

#include "integration/support/actors.h"
#include "integration/support/server_process.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/tls_files.h"

namespace smacert::integration {
namespace {

using smacert::testing::run;
using smacert::testing::sh;

std::string tls_config(const smacert::testing::TlsFiles& f, const std::string& key) {
  return "[server]\ntls_certificate = \"" + f.certificate.string() + "\"\ntls_key = \"" + key +
         "\"\n";
}

TEST(ServeTls, TheServiceSpeaksHttpsAndItsCertificatesSayHttps) {
  smacert::testing::TempDir dir("it-tls");
  smacert::testing::TlsFiles tls;
  auto made = smacert::testing::make_tls_files(dir.path(), tls);
  ASSERT_EQ(made.rc, 0) << made.output;
  ::setenv("SSL_CERT_FILE", tls.ca.c_str(), 1);  // the client's trust, as a user would set it

  ServerOptions options;
  options.config_toml = tls_config(tls, tls.key.string());
  ServerProcess server(dir.path() / "data", options);
  ASSERT_TRUE(server.start());
  ASSERT_EQ(server.url().rfind("https://127.0.0.1:", 0), 0u) << server.url();

  Api api(server.url(), server.admin_token());
  ASSERT_EQ(api.get("/healthz").status, 200);
  auto card = issue_card(api);
  auto phone = make_phone(2, 3);
  auto applied = apply(api, card, phone);
  ASSERT_EQ(applied.status, 202) << applied.body;

  // The card's certificate names the OCSP responder and CRL on the TLS listener.
  std::filesystem::path cert = dir / "card-sign.der";
  {
    std::ofstream out(cert, std::ios::binary);
    out.write(reinterpret_cast<const char*>(card.sign_cert.data()),
              static_cast<std::streamsize>(card.sign_cert.size()));
  }
  auto text = run("openssl x509 -inform DER -noout -text -in " + sh(cert.string()));
  ASSERT_EQ(text.rc, 0) << text.output;
  EXPECT_NE(text.output.find("OCSP - URI:" + server.url() + "/ocsp/sign"), std::string::npos)
      << text.output;

  // OCSP over HTTPS with our client.
  auto issuer = api.ca_certificate("sign");
  auto status = api.ocsp("sign", card.sign_cert, issuer.get(), std::chrono::system_clock::now());
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_TRUE(std::holds_alternative<pki::Good>(*status));

  // curl fetches the CRL over TLS; openssl parses it.
  const auto crl = dir / "sign.crl";
  auto fetched = run("curl -sS --fail --max-time 10 --cacert " + sh(tls.ca.string()) + " -o " +
                     sh(crl.string()) + " " + server.url() + "/crl/sign.crl");
  ASSERT_EQ(fetched.rc, 0) << fetched.output;
  auto parsed = run("openssl crl -inform DER -noout -issuer -in " + sh(crl.string()));
  EXPECT_EQ(parsed.rc, 0) << parsed.output;

  // Without the CA, curl refuses the server: the TLS is real.
  auto untrusted = run("curl -sS --max-time 10 --cacert " + sh(tls.other_ca.string()) + " " +
                       server.url() + "/healthz");
  EXPECT_NE(untrusted.rc, 0) << untrusted.output;
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

TEST(ServeTls, AKeyThatDoesNotMatchIsRefusedBeforeAnythingIsMade) {
  smacert::testing::TempDir dir("it-tls-bad");
  smacert::testing::TlsFiles tls;
  auto made = smacert::testing::make_tls_files(dir.path(), tls);
  ASSERT_EQ(made.rc, 0) << made.output;
  const auto config = dir / "bad.toml";
  std::ofstream(config) << tls_config(tls, tls.stray_key.string());
  const auto data = dir / "data";
  auto refused = run(sh(ServerProcess::binary()) + " serve --data " + sh(data.string()) +
                     " --listen 127.0.0.1:0 --config " + sh(config.string()));
  EXPECT_NE(refused.rc, 0);
  EXPECT_NE(refused.output.find("does not belong to the certificate"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(std::filesystem::exists(data)) << "a refused start made the data folder";
}

}  // namespace
}  // namespace smacert::integration
