// A real `smacert serve` process on a free loopback port, and the `smacert`
// binary driven as a person would drive it from a shell.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "support/process.h"
#include "support/temp_dir.h"

namespace smacert::e2e {

using smacert::testing::run;
using smacert::testing::RunResult;
using smacert::testing::sh;

inline std::string smacert_bin() {
  const char* b = std::getenv("SMACERT_BIN");
  return b ? b : "smacert";
}

class CliService : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void TearDown() override { stop(); }

  void start(const std::string& config_toml = "") {
    std::string config_arg;
    if (!config_toml.empty()) {
      std::ofstream(dir_ / "smacert.toml") << config_toml;
      config_arg = " --config " + sh((dir_ / "smacert.toml").string());
    }
    std::string cmd = "exec " + sh(smacert_bin()) + " serve --data " +
                      sh((dir_ / "data").string()) + " --listen 127.0.0.1:0" + config_arg + " 2>>" +
                      sh((dir_ / "serve.log").string());
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    auto at = line.find("http://");
    ASSERT_NE(at, std::string::npos) << "the service did not start: " << line;
    url_ = line.substr(at);
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // `smacert --server URL ARGS`, with the admin token for counter commands.
  RunResult smacert(const std::string& args) {
    return run("SMACERT_ADMIN_TOKEN=\"$(cat " + sh((dir_ / "data/admin.token").string()) + ")\" " +
               sh(smacert_bin()) + " --server " + url_ + " " + args);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The counter issues 見本 花子's card (signature password CARD1234, PIN 1234).
  void issue_card(const std::string& file = "card.json") {
    auto r = smacert(
        "counter issue-card --name '見本　花子' --address '東京都千代田区霞が関１－２－３' "
        "--birth 1980-01-01 --sex 2 --sign-password CARD1234 --auth-pin 1234 --out " +
        sh(path(file)));
    ASSERT_EQ(r.rc, 0) << r.output;
  }
  // A phone that applied (kind "apply" or "change"), synced and registered.
  void phone_with_certificates(const std::string& dir, const std::string& kind,
                               const std::string& pin, const std::string& certs = "sign,auth") {
    ASSERT_EQ(smacert("phone new --dir " + sh(path(dir))).rc, 0);
    auto r = smacert("phone " + kind + " --dir " + sh(path(dir)) + " --card " +
                     sh(path("card.json")) + " --card-password CARD1234 --certs " + certs +
                     " --sign-password PHONE12 --auth-pin " + pin + " --agree" +
                     (kind == "change" ? " --agree-revoke-old" : ""));
    ASSERT_EQ(r.rc, 0) << r.output;
    r = smacert("phone sync --dir " + sh(path(dir)) + " --wait 10");
    ASSERT_EQ(r.rc, 0) << r.output;
    r = smacert("phone register --dir " + sh(path(dir)));
    ASSERT_EQ(r.rc, 0) << r.output;
  }

  smacert::testing::TempDir dir_{"e2e"};
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace smacert::e2e
