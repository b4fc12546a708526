// The whole scale-out layout of scripts/cluster-up.sh on loopback — etcd,
// two PostgreSQL nodes under Patroni (synchronous replication), HAProxy, two
// service nodes and an OCSP node — and the loss of the primary under a
// stream of applications: the replica takes over, every application that got
// a 202 is issued exactly once, none is lost, and the audit chain verifies.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "integration/support/actors.h"
#include "store/store.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace smacert::integration {
namespace {

using namespace std::chrono_literals;
using smacert::testing::run;
using smacert::testing::sh;
using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> read_env(const std::filesystem::path& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

std::string source_dir() {
  return SMACERT_SOURCE_DIR;
}

class Cluster : public ::testing::Test {
 protected:
  void SetUp() override {
    auto up =
        run(sh(source_dir() + "/scripts/cluster-up.sh") + " " + sh(dir_.path() / "c") + " 29100");
    up_ = true;
    ASSERT_EQ(up.rc, 0) << up.output << logs();
    env_ = read_env(dir_.path() / "c" / "cluster.env");
    ASSERT_FALSE(env_["SERVICE_URL"].empty());
    std::ifstream token(env_["ADMIN_TOKEN_FILE"]);
    std::getline(token, token_);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << logs();
    if (up_) run(sh(source_dir() + "/scripts/cluster-down.sh") + " " + sh(dir_.path() / "c"));
  }
  std::string logs() {
    return run("tail -n 30 " + sh((dir_.path() / "c" / "logs").string()) + "/*.log").output;
  }

  // Which Patroni node leads: 1 or 2 (0: none answers).
  int leader() {
    for (int i : {1, 2}) {
      auto r = run("curl -s -o /dev/null -w '%{http_code}' " +
                   env_["PATRONI" + std::to_string(i) + "_URL"] + "/primary");
      if (r.output == "200") return i;
    }
    return 0;
  }
  // A crash of the leader's machine: Patroni and its PostgreSQL, SIGKILL.
  void kill_leader(int node) {
    const auto c = dir_.path() / "c";
    std::ifstream pidfile(c / "pids" / ("patroni" + std::to_string(node) + ".pid"));
    pid_t patroni = 0;
    pidfile >> patroni;
    std::ifstream pm(c / ("n" + std::to_string(node)) / "data" / "postmaster.pid");
    pid_t postmaster = 0;
    pm >> postmaster;
    ASSERT_GT(patroni, 0);
    ASSERT_GT(postmaster, 0);
    ::kill(patroni, SIGKILL);
    ::kill(postmaster, SIGKILL);
  }

  smacert::testing::TempDir dir_{"cluster"};
  bool up_ = false;
  std::map<std::string, std::string> env_;
  std::string token_;
};

TEST_F(Cluster, LosingThePrimaryLosesNoAcceptedApplication) {
  Api api(env_["SERVICE_URL"], token_);
  // Holders with cards, before the stream.
  constexpr int kHolders = 36;
  std::vector<SoftCard> cards;
  for (int i = 0; i < kHolders; ++i) cards.push_back(issue_card(api, 0, 1));
  ASSERT_FALSE(HasFailure());

  const int first_leader = leader();
  ASSERT_NE(first_leader, 0);

  struct Sent {
    std::string device_id, application_id;
    int status = 0;
    Clock::time_point at;
  };
  std::vector<Sent> sent;
  const auto start = Clock::now();
  Clock::time_point killed_at{};
  int accepted_before = 0, accepted_after = 0;
  for (int i = 0; i < kHolders && Clock::now() - start < 90s; ++i) {
    SoftPhone phone = make_phone(2, 3, "fo");
    Reply r;
    // A challenge, then the application; during the failover either may fail.
    auto challenge = api.post("/v1/challenges", {{"purpose", "application"}});
    if (challenge.status == 201) {
      ApplicationSpec spec = application_spec("new", challenge.json.value("nonce", ""));
      r = apply_body(api, phone, application_body(cards[i], phone, spec));
    } else {
      r = challenge;
    }
    sent.push_back({phone.device_id, phone.application_id, r.status, Clock::now()});
    if (r.status == 202) {
      (killed_at == Clock::time_point{} ? accepted_before : accepted_after)++;
    } else {
      --i;  // the same holder tries again, as a person would
      std::this_thread::sleep_for(500ms);
    }
    if (accepted_before == 8 && killed_at == Clock::time_point{}) {
      kill_leader(first_leader);
      killed_at = Clock::now();
    }
  }
  ASSERT_NE(killed_at, Clock::time_point{}) << "the stream ended before the primary was lost";

  // The replica took over.
  int new_leader = 0;
  for (int i = 0; i < 100 && (new_leader = leader()) == 0; ++i) std::this_thread::sleep_for(200ms);
  EXPECT_NE(new_leader, 0);
  EXPECT_NE(new_leader, first_leader);
  EXPECT_GT(accepted_after, 0) << "no application was accepted after the failover";

  // Every 202 is issued exactly once; nothing accepted was lost.
  auto store = store::open_store(env_["STORE_URL"]);
  ASSERT_TRUE(store) << store.error().message;
  auto tx = (*store)->begin();
  ASSERT_TRUE(tx) << tx.error().message;
  int accepted = 0, issued = 0, lost = 0;
  for (const auto& s : sent) {
    if (s.status != 202) continue;
    ++accepted;
    auto app = (*tx)->find_application(s.application_id);
    ASSERT_TRUE(app) << app.error().message;
    if (!*app) {
      ++lost;
      ADD_FAILURE() << "application " << s.application_id << " got 202 and is gone";
      continue;
    }
    EXPECT_EQ((*app)->status, "issued") << s.application_id;
    auto certs = (*tx)->certificates_of_device(s.device_id);
    ASSERT_TRUE(certs);
    EXPECT_EQ(certs->size(), 2u) << "device " << s.device_id << " (issued exactly once)";
    for (const auto& c : *certs) {
      EXPECT_EQ(c.application_id, s.application_id);
      EXPECT_FALSE(c.der.empty());
    }
    issued += (*app)->status == "issued" && certs->size() == 2;
  }
  tx->reset();
  auto chain = store::verify_audit_chain(**store);
  EXPECT_TRUE(chain) << chain.error().message;
  std::cout << "failover: sent " << sent.size() << " requests, accepted " << accepted
            << " (before the loss " << accepted_before << ", after " << accepted_after
            << "), issued " << issued << ", lost " << lost << "; leader node" << first_leader
            << " → node" << new_leader << "\n";
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(issued, accepted);
}

// The OCSP node holds no state of its own: a status change committed through
// a service node reaches its memory through the store's change feed.
TEST_F(Cluster, TheOcspNodeFollowsEveryStatusChangeWithinASecond) {
  Api front(env_["SERVICE_URL"], token_);
  Api node1(env_["NODE1_URL"], token_), node2(env_["NODE2_URL"], token_);
  Api ocsp(env_["OCSP_URL"], token_);
  auto issuer = ocsp.ca_certificate("sign");
  ASSERT_TRUE(issuer);
  // The OCSP node takes no state-changing request.
  EXPECT_EQ(ocsp.post("/v1/challenges", {{"purpose", "application"}}).status, 404);

  const auto status_at = [&](Api& api, const SoftCard& card) {
    return api.ocsp("sign", card.sign_cert, issuer.get(), std::chrono::system_clock::now());
  };
  double worst_ms = 0;
  for (int i = 0; i < 6; ++i) {
    auto card = issue_card(front, 0, 1);
    // Issued on one node: good at the OCSP node (it may take a moment).
    const auto issued_at = Clock::now();
    Result<pki::CertStatus> st = fail(Errc::unavailable, "not asked yet");
    while (Clock::now() - issued_at < 2s) {
      st = status_at(ocsp, card);
      if (st && std::holds_alternative<pki::Good>(*st)) break;
      std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(st && std::holds_alternative<pki::Good>(*st))
        << "issued, not good at the OCSP node";

    // Suspended or revoked through either service node.
    Api& writer = i % 2 ? node2 : node1;
    const char* action = i % 3 == 0 ? "suspend" : "revoke";
    auto r = writer.admin(
        "/admin/v1/certificates/" + card.sign_serial + "/" + action,
        i % 3 == 0 ? nlohmann::json::object() : nlohmann::json{{"reason", "keyCompromise"}});
    ASSERT_EQ(r.status, 200) << r;
    const auto changed_at = Clock::now();
    bool seen = false;
    while (!seen && Clock::now() - changed_at < 3s) {
      auto now = status_at(ocsp, card);
      seen = now && std::holds_alternative<pki::Revoked>(*now);
      if (!seen) std::this_thread::sleep_for(5ms);
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - changed_at).count();
    worst_ms = std::max(worst_ms, ms);
    EXPECT_TRUE(seen) << action << " through " << writer.base_url()
                      << " never reached the OCSP node";
    EXPECT_LT(ms, 1000.0) << action << " reached the OCSP node after " << ms << " ms";
  }
  std::cout << "OCSP node: slowest change seen after " << worst_ms << " ms\n";
}

}  // namespace
}  // namespace smacert::integration
