// A blocking loopback TCP connection for tests that must send bytes no
// well-behaved client would: POSIX sockets, receive timeouts, no HTTP logic.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace smacert::http::testing {

class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return connected_; }

  // False when the peer has gone (EPIPE, reset).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Reads until the peer closes or the timeout passes; closed() tells which.
  std::string read_all(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return read_until({}, timeout);
  }

  // Reads until `marker` has been seen (or the peer closes, or the timeout).
  std::string read_until(std::string_view marker,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && (marker.empty() || received_.find(marker) == std::string::npos)) {
      if (!read_once(deadline)) break;
    }
    return received_;
  }

  // Reads one whole response with a Content-Length body and consumes it.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && received_.find("\r\n\r\n") == std::string::npos) {
      if (!read_once(deadline)) break;
    }
    const auto end = received_.find("\r\n\r\n");
    if (end == std::string::npos) return take(received_.size());
    std::size_t length = 0;
    const auto cl = lower(received_.substr(0, end)).find("content-length:");
    if (cl != std::string::npos) length = std::stoul(received_.substr(cl + 15));
    const auto total = end + 4 + length;
    while (received_.size() < total && !closed_) {
      if (!read_once(deadline)) break;
    }
    return take(std::min(total, received_.size()));
  }

  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }
  int fd() const { return fd_; }

 private:
  // One poll and read; false when the deadline has passed.
  bool read_once(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return true;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
    } else {
      received_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  std::string take(std::size_t n) {
    auto out = received_.substr(0, n);
    received_.erase(0, n);
    return out;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

}  // namespace smacert::http::testing
