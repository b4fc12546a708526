// A real `smacert serve` child process on loopback, for tests that drive the
// service over HTTP: start on a data folder, read the URL it prints, stop it
// with SIGTERM (graceful) or SIGKILL (a crash), and start it again on the
// same folder.
//
// The store: DATA/store.db (SQLite), or, when SMACERT_TEST_PG holds the
// conninfo of a test PostgreSQL (CTest's pg fixture sets it for the pg:
// registration of these tests), `--store postgresql://…` on a database of
// this data folder's own, created on first start. One mechanism: the same
// tests run on either store.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace smacert::integration {

struct ServerOptions {
  std::string config_toml;  // written to a file and passed with --config when not empty
  bool test_clock = false;  // --test-clock: POST /admin/v1/clock
  std::uint16_t port = 0;   // 0: any free port
  // Copy CA keys, push key and admin token from a folder made once per test
  // binary instead of generating them (unless the folder already has a CA).
  bool seed_from_template = true;
  // --store for this process: empty for the folder's own store (above);
  // another server's store_url() for two nodes on one database.
  std::string store_url;
};

// The conninfo of the test PostgreSQL, or "" when the tests run on SQLite.
std::string test_pg_conninfo();

class ServerProcess {
 public:
  // `data` is the data folder (see ServerOptions::seed_from_template).
  ServerProcess(std::filesystem::path data, ServerOptions options = {});
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the process and waits (bounded) for "smacert serving on URL".
  ::testing::AssertionResult start();
  // SIGTERM, then waits (bounded); the exit code, or -1 (signal, timeout).
  int terminate();
  // SIGKILL and reap: a crash at whatever point the server was.
  void kill9();
  bool running() const { return pid_ > 0; }

  const std::string& url() const { return url_; }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& data() const { return data_; }
  // What the server was (or will be) started with: sqlite:PATH or postgresql://…
  std::string store_url() const;
  std::filesystem::path ca_pem(const std::string& kind) const {
    return data_ / "ca" / kind / "ca.pem";
  }
  std::string admin_token() const;
  // What the server wrote on stderr (its log), for failure messages.
  std::string log() const;

  // A port that was free a moment ago (for a public_url that must name it).
  static std::uint16_t free_port();
  static std::string binary();  // $SMACERT_BIN

 private:
  void seed_from_template();
  std::filesystem::path data_;
  ServerOptions options_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string url_;
  std::uint16_t port_ = 0;
};

}  // namespace smacert::integration
