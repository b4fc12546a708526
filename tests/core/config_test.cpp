#include "core/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace smacert {
namespace {

TEST(Config, EmptyTextGivesTheDefaults) {
  auto c = parse_config("");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pki.algorithm, "rsa2048");
  EXPECT_EQ(c->pki.public_url, "");  // serve uses its listening address
  EXPECT_TRUE(c->pki.policies_critical);
}

TEST(Config, ReadsEveryPkiKey) {
  auto c = parse_config(R"(
[pki]
algorithm = "p256"
public_url = "https://pki.example.jp/"
policies_critical = false
ocsp_validity = 3600
crl_validity = 7200
[pki.policies]
card_sign = "1.2.3.4"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->pki.algorithm, "p256");
  EXPECT_EQ(c->pki.public_url, "https://pki.example.jp");
  EXPECT_FALSE(c->pki.policies_critical);
  EXPECT_EQ(c->pki.ocsp_validity.count(), 3600);
  EXPECT_EQ(c->pki.crl_validity.count(), 7200);
  EXPECT_EQ(c->pki.policy_card_sign, "1.2.3.4");
}

TEST(Config, ReadsTheServiceSections) {
  auto c = parse_config(R"(
[server]
listen = "127.0.0.1:9000"
threads = 2
log_format = "json"
log_level = "warn"
[issuance]
window = "07:00-19:30"
[registration]
activation_delay = 900
[challenges]
ttl = 120
[sessions]
ttl = 600
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server.listen, "127.0.0.1:9000");
  EXPECT_EQ(c->server.threads, 2);
  EXPECT_EQ(c->server.log_format, "json");
  EXPECT_EQ(c->issuance.window, "07:00-19:30");
  EXPECT_EQ(c->registration.activation_delay.count(), 900);
  EXPECT_EQ(c->challenge_ttl.count(), 120);
  EXPECT_EQ(c->session_ttl.count(), 600);
  EXPECT_FALSE(parse_config("[server]\nlog_format = \"xml\""));
  EXPECT_FALSE(parse_config("[sessions]\nttl = 1"));
  EXPECT_FALSE(parse_config("server = 1"));
}

TEST(Config, ReadsTheStoreUrl) {
  EXPECT_EQ(parse_config("")->store.url, "");  // serve uses DATA/store.db
  auto c = parse_config(R"(
[store]
url = "postgresql://smacert@127.0.0.1:5432/smacert"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->store.url, "postgresql://smacert@127.0.0.1:5432/smacert");
  auto sqlite = parse_config("[store]\nurl = \"sqlite:/var/lib/smacert/store.db\"");
  ASSERT_TRUE(sqlite) << sqlite.error().message;
  EXPECT_EQ(sqlite->store.url, "sqlite:/var/lib/smacert/store.db");
}

TEST(Config, ErrorsNameTheKey) {
  auto expect_error = [](const char* text, const char* words) {
    auto c = parse_config(text);
    ASSERT_FALSE(c) << text;
    EXPECT_EQ(c.error().code, Errc::invalid_argument);
    EXPECT_NE(c.error().message.find(words), std::string::npos) << c.error().message;
  };
  expect_error("[pki]\nalgoritm = \"p256\"", "pki.algoritm is not a known key");
  expect_error("[pki]\nalgorithm = \"rsa1024\"", "pki.algorithm must be rsa2048 or p256");
  expect_error("[pki]\nocsp_validity = \"1h\"", "pki.ocsp_validity must be a whole number");
  expect_error("[pki]\nocsp_validity = 1", "between 60");
  expect_error("[pki]\npublic_url = \"ftp://x\"", "pki.public_url");
  expect_error("[pki]\npublic_url = \"http://a,b\"", "pki.public_url");
  expect_error("[pki]\npolicies_critical = 1", "true or false");
  expect_error("[pki.policies]\nother = \"1.2\"", "pki.policies.other");
  expect_error("[nope]", "nope is not a known key");
  expect_error("[pki\n", "not valid TOML at line 1");
  expect_error("[server]\ntls_certificate = \"c.pem\"", "server.tls_key must be set together");
  expect_error("[server]\ntls_key = \"k.pem\"", "server.tls_certificate must be set together");
  expect_error("[store]\nuri = \"sqlite:x.db\"", "store.uri is not a known key");
  expect_error("[store]\nurl = 5432", "store.url must be a string");
  expect_error("[store]\nurl = true", "store.url must be a string");
  expect_error("store = \"sqlite:x.db\"", "store must be a table");
}

TEST(Config, TlsFilesAreRelativeToTheConfigurationFile) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("smacert-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "serve.toml")
      << "[server]\ntls_certificate = \"tls/cert.pem\"\ntls_key = \"/abs/key.pem\"\n";
  auto c = load_config(dir / "serve.toml");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->server.tls_certificate, (dir / "tls/cert.pem").string());
  EXPECT_EQ(c->server.tls_key, "/abs/key.pem");
  EXPECT_EQ(parse_config("")->server.tls_certificate, "");
}

}  // namespace
}  // namespace smacert
