#include "card/vpcd.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smacert::card {
namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

Error sys_error(std::string_view doing) {
  return {Errc::unavailable, std::string(doing) + ": " + std::strerror(errno)};
}

// Waits until `fd` is readable. False when stop_fd fired or the timeout ran out.
enum class Wait { Ready, Stop, Timeout };
Wait wait_readable(int fd, int stop_fd, int timeout_ms = -1) {
  pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    int n = ::poll(p, stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Wait::Timeout;
    if (n < 0) return Wait::Stop;
    if (stop_fd >= 0 && (p[1].revents & POLLIN)) return Wait::Stop;
    return Wait::Ready;
  }
}

bool read_exact(int fd, int stop_fd, std::uint8_t* buf, std::size_t n, bool& stopped) {
  while (n > 0) {
    if (wait_readable(fd, stop_fd) == Wait::Stop) {
      stopped = true;
      return false;
    }
    ssize_t r = ::recv(fd, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

bool write_frame(int fd, ByteView data) {
  Bytes frame{static_cast<std::uint8_t>(data.size() >> 8), static_cast<std::uint8_t>(data.size())};
  frame.insert(frame.end(), data.begin(), data.end());
  std::size_t off = 0;
  while (off < frame.size()) {
    ssize_t w = ::send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

Result<addrinfo*> resolve(const HostPort& a, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(a.port);
  int rc = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0)
    return fail(Errc::invalid_argument, "cannot resolve " + a.host + ": " + gai_strerror(rc));
  return res;
}

// One session with vpcd on a connected socket, until it closes or stop fires.
// Returns true when stop fired.
Result<bool> serve_connection(int fd, StoredApplet& card, const VpcdOptions& o) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  card.reset();
  for (;;) {
    bool stopped = false;
    std::uint8_t len[2];
    if (!read_exact(fd, o.stop_fd, len, 2, stopped)) return stopped;
    Bytes msg(static_cast<std::size_t>(len[0] << 8 | len[1]));
    if (!read_exact(fd, o.stop_fd, msg.data(), msg.size(), stopped)) return stopped;
    if (msg.size() == 1) {
      switch (msg[0]) {
        case 0x00:  // power off
        case 0x01:  // power on
        case 0x02:  // reset: ISO 7816-3 6.2, the security state is lost
          card.reset();
          break;
        case 0x04:
          if (!write_frame(fd, o.atr)) return false;
          break;
        default:
          break;  // vpcd expects no answer to unknown control bytes
      }
      continue;
    }
    auto response = card.transmit(msg);
    if (!response) {
      write_frame(fd, status(Sw::kMemoryFailure).encode());
      return fail(response.error());
    }
    if (!write_frame(fd, *response)) return false;
  }
}

Status serve_connect(StoredApplet& card, const VpcdOptions& o) {
  const std::string where = o.address.host + ":" + std::to_string(o.address.port);
  bool said_waiting = false;
  for (;;) {
    auto res = resolve(o.address, false);
    if (!res) return fail(res.error());
    Fd sock;
    for (addrinfo* ai = *res; ai; ai = ai->ai_next) {
      Fd s(::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol));
      if (s && ::connect(s.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
        sock = std::move(s);
        break;
      }
    }
    ::freeaddrinfo(*res);
    if (sock) {
      if (o.log) o.log("card inserted: connected to vpcd at " + where);
      said_waiting = false;
      auto r = serve_connection(sock.get(), card, o);
      if (!r) return fail(r.error());
      if (*r) return {};
      if (o.log) o.log("card removed: vpcd closed the connection");
    } else if (!said_waiting) {
      if (o.log) o.log("waiting for vpcd at " + where + " (is pcscd running with vpcd?)");
      said_waiting = true;
    }
    // Retry once a second, like vicc does, until told to stop.
    if (wait_readable(o.stop_fd, -1, 1000) == Wait::Ready) return {};
  }
}

Status serve_listen(StoredApplet& card, const VpcdOptions& o) {
  auto res = resolve(o.address, true);
  if (!res) return fail(res.error());
  Fd listener;
  for (addrinfo* ai = *res; ai && !listener; ai = ai->ai_next) {
    Fd s(::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol));
    int one = 1;
    if (!s) continue;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s.get(), ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(s.get(), 1) == 0)
      listener = std::move(s);
  }
  ::freeaddrinfo(*res);
  const std::string where = o.address.host + ":" + std::to_string(o.address.port);
  if (!listener) return fail(sys_error("listening on " + where));
  if (o.log) o.log("listening for vpcd on " + where);
  for (;;) {
    if (wait_readable(listener.get(), o.stop_fd) == Wait::Stop) return {};
    Fd conn(::accept(listener.get(), nullptr, nullptr));
    if (!conn) continue;
    if (o.log) o.log("card inserted: vpcd connected");
    auto r = serve_connection(conn.get(), card, o);
    if (!r) return fail(r.error());
    if (*r) return {};
    if (o.log) o.log("card removed: vpcd closed the connection");
  }
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port) {
  HostPort hp{"", default_port};
  std::string_view host = text, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return fail(Errc::invalid_argument, "a '[' without ']' in " + std::string(text));
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail(Errc::invalid_argument, "expected HOST:PORT, got " + std::string(text));
      port = rest.substr(1);
    }
  } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return fail(Errc::invalid_argument, "no host in '" + std::string(text) + "'");
  hp.host = std::string(host);
  if (!port.empty()) {
    unsigned long v = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || v > 65535)
        return fail(Errc::invalid_argument, "bad port in '" + std::string(text) + "'");
      v = v * 10 + static_cast<unsigned long>(c - '0');
    }
    if (v == 0 || v > 65535)
      return fail(Errc::invalid_argument, "bad port in '" + std::string(text) + "'");
    hp.port = static_cast<std::uint16_t>(v);
  }
  return hp;
}

Status serve_vpcd(StoredApplet& card, const VpcdOptions& options) {
  return options.mode == VpcdOptions::Mode::Connect ? serve_connect(card, options)
                                                    : serve_listen(card, options);
}

}  // namespace smacert::card
