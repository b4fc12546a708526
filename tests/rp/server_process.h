// A real `smacert serve` on loopback for the relying-party tests: a fresh data
// folder, a port chosen up front (the certificates' AIA and CRL URLs must name
// it, so pki.public_url is set to it), stopped with SIGTERM.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace smacert::rp::testing {

inline std::string smacert_bin() {
  const char* bin = std::getenv("SMACERT_BIN");
  return bin ? bin : "smacert";
}

// A loopback port that was free a moment ago.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { stop(); }

  // Starts the server and waits for its "smacert serving on URL" line.
  bool start() {
    int port = free_port();
    if (port <= 0) return false;
    url_ = "http://127.0.0.1:" + std::to_string(port);
    auto config = dir_ / "smacert.toml";
    std::ofstream(config) << "[pki]\npublic_url = \"" << url_ << "\"\n";
    int out[2];
    if (::pipe(out) != 0) return false;
    std::string bin = smacert_bin(), data = (dir_ / "data").string(), cfg = config.string(),
                listen = "127.0.0.1:" + std::to_string(port), log = (dir_ / "serve.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      ::close(out[0]);
      ::execl(bin.c_str(), "smacert", "serve", "--config", cfg.c_str(), "--data", data.c_str(),
              "--listen", listen.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (seen.find("smacert serving on") == std::string::npos ||
           seen.find('\n', seen.find("smacert serving on")) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{out[0], POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[512];
      auto n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<std::size_t>(n));
    }
    // Kept open until stop(): a write to a closed pipe would kill the server.
    out_ = out[0];
    bool ready = seen.find("smacert serving on " + url_) != std::string::npos;
    if (!ready) ADD_FAILURE() << "the server did not start; stdout: " << seen;
    return ready;
  }

  // SIGTERM, then the exit status (the server finishes in-flight requests).
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (out_ >= 0) ::close(out_);
    out_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  const std::string& url() const { return url_; }
  std::filesystem::path data_dir() const { return dir_ / "data"; }
  const smacert::testing::TempDir& dir() const { return dir_; }

 private:
  smacert::testing::TempDir dir_{"rp-serve"};
  pid_t pid_ = -1;
  int out_ = -1;
  std::string url_;
};

}  // namespace smacert::rp::testing
