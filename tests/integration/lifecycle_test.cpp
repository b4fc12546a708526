// The server process itself: graceful stop on SIGTERM, restart on the same
// data folder (same CAs, same token, same answers).
#include <sched.h>

#include "integration/support/actors.h"
#include "integration/support/server_process.h"
#include "support/temp_dir.h"

namespace smacert::integration {
namespace {

TEST(ServerLifecycle, SigtermExitsZeroAndARestartKeepsCasTokenAndCertificates) {
  smacert::testing::TempDir dir("it-life");
  ServerProcess server(dir.path() / "data");
  ASSERT_TRUE(server.start());
  Api api(server.url(), server.admin_token());
  ASSERT_EQ(api.get("/healthz").status, 200);
  auto card = issue_card(api);
  std::string sign_pem = api.get("/ca/sign.pem").body;
  std::string token = server.admin_token();
  EXPECT_EQ(server.terminate(), 0) << server.log();

  ASSERT_TRUE(server.start());
  Api again(server.url(), server.admin_token());
  EXPECT_EQ(server.admin_token(), token);
  EXPECT_EQ(again.get("/ca/sign.pem").body, sign_pem);
  auto issuer = again.ca_certificate("sign");
  auto st = again.ocsp("sign", card.sign_cert, issuer.get(), std::chrono::system_clock::now());
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_TRUE(std::holds_alternative<pki::Good>(*st)) << "OCSP answers were reloaded";
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

// A service node's handlers wait for durable commits: by default it runs four
// threads for each core it may run on (docs/configuration.md), and says so.
TEST(ServerLifecycle, AServiceNodeRunsFourThreadsPerCoreByDefault) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);  // the child inherits it
  smacert::testing::TempDir dir("it-threads");
  ServerProcess server(dir.path() / "data");
  ASSERT_TRUE(server.start());
  EXPECT_NE(
      server.log().find("(role service, " + std::to_string(4 * CPU_COUNT(&set)) + " threads,"),
      std::string::npos)
      << server.log();
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

// A supervisor may stop the service the moment it announced itself: the
// signal must wait for the graceful stop (spec/interfaces.md: SIGTERM →
// finish in-flight requests, exit 0), not kill the process half-started.
TEST(ServerLifecycle, SigtermRightAfterTheReadyLineExitsZero) {
  int failures = 0;
  for (int i = 0; i < 10; ++i) {
    smacert::testing::TempDir dir("it-life-race");
    ServerProcess server(dir.path() / "data");
    ASSERT_TRUE(server.start());
    int rc = server.terminate();
    if (rc != 0) ++failures;
  }
  EXPECT_EQ(failures, 0) << failures << " of 10 servers did not exit 0 on SIGTERM sent right after "
                         << "the ready line";
}

}  // namespace
}  // namespace smacert::integration
