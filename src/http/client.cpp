#include "http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <variant>

#include "http/error_status.h"
#include "http/sse_parser.h"
#include "http/tls.h"
#include "http/url.h"

namespace smacert::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
// A connection: plain, or TLS after its handshake.
using Stream = std::variant<beast::tcp_stream, TlsStream>;

beast::tcp_stream& tcp_of(Stream& s) {
  return std::visit([](auto& x) -> beast::tcp_stream& { return beast::get_lowest_layer(x); }, s);
}

namespace {

// A kept-alive connection older than this is not reused: the server may be
// closing it (its idle timeout is 30 s by default).
constexpr auto kReuseWindow = std::chrono::seconds(4);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

bool peer_closed(const beast::error_code& ec) {
  return ec == net::error::eof || ec == net::ssl::error::stream_truncated ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message;
}

bool replayable(std::string_view method, const Headers& headers) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS" || headers.contains("Idempotency-Key");
}

template <class Fields>
Headers to_headers(const Fields& fields) {
  Headers out;
  for (const auto& f : fields) out.add(std::string(f.name_string()), std::string(f.value()));
  return out;
}

std::string millis(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  net::io_context ioc{1};
  std::shared_ptr<net::ssl::context> tls;  // made on the first https:// call
  std::optional<Stream> stream;            // the kept-alive connection
  std::string connected_to;                // its "host:port"
  Clock::time_point last_used;
  beast::flat_buffer buffer;

  explicit Impl(ClientOptions o) : options(std::move(o)) {}

  // Runs asynchronous work started on ioc to completion; the tcp_stream's
  // own deadlines bound it.
  void run() {
    ioc.restart();
    ioc.run();
  }

  Result<tcp::resolver::results_type> resolve(const Url& url, Clock::time_point deadline) {
    tcp::resolver resolver(ioc);
    beast::error_code result = net::error::would_block;
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(url.host, url.port,
                           [&](beast::error_code ec, tcp::resolver::results_type r) {
                             result = ec;
                             endpoints = std::move(r);
                           });
    ioc.restart();
    ioc.run_until(deadline);
    if (result == net::error::would_block) {
      resolver.cancel();
      run();
      return fail(Errc::unavailable, "cannot resolve " + url.host + ": timed out");
    }
    if (result)
      return fail(Errc::unavailable, "cannot resolve " + url.host + ": " + result.message());
    return endpoints;
  }

  Result<Stream> connect(const Url& url, Clock::time_point deadline) {
    auto endpoints = resolve(url, deadline);
    if (!endpoints) return fail(endpoints.error());
    beast::tcp_stream s(ioc);
    beast::error_code result;
    s.expires_at(deadline);
    s.async_connect(*endpoints, [&](beast::error_code ec, const tcp::endpoint&) { result = ec; });
    run();
    const std::string where = url.host_field();
    if (result == beast::error::timeout) {
      return fail(Errc::unavailable, "cannot connect to " + where + ": timed out");
    }
    if (result)
      return fail(Errc::unavailable, "cannot connect to " + where + ": " + result.message());
    beast::error_code ignored;
    s.socket().set_option(tcp::no_delay(true), ignored);
    if (!url.tls) return Stream(std::move(s));
    return handshake(std::move(s), url, deadline);
  }

  // TLS: the server's certificate must chain to a trusted CA and name the
  // host (DNS name or IP address); the host name goes in SNI.
  Result<Stream> handshake(beast::tcp_stream s, const Url& url, Clock::time_point deadline) {
    if (!tls) {
      auto context = detail::client_tls_context(options.ca_file);
      if (!context) return fail(context.error());
      tls = std::move(*context);
    }
    TlsStream t(std::move(s), *tls);
    beast::error_code ec;
    net::ip::make_address(url.host, ec);
    if (ec && !SSL_set_tlsext_host_name(t.native_handle(), url.host.c_str())) {
      return fail(Errc::invalid_argument, "the host name " + url.host + " cannot be sent in SNI");
    }
    t.set_verify_callback(net::ssl::host_name_verification(url.host));
    beast::error_code result;
    beast::get_lowest_layer(t).expires_at(deadline);
    t.async_handshake(net::ssl::stream_base::client, [&](beast::error_code e) { result = e; });
    run();
    const std::string where = url.host_field();
    if (result == beast::error::timeout) {
      return fail(Errc::unavailable, "TLS with " + where + " timed out");
    }
    if (result) {
      const long verify = SSL_get_verify_result(t.native_handle());
      if (verify != X509_V_OK) {
        return fail(Errc::verification, "the TLS certificate of " + where + " is not trusted: " +
                                            X509_verify_cert_error_string(verify));
      }
      return fail(Errc::unavailable, "TLS with " + where + " failed: " + result.message());
    }
    return Stream(std::move(t));
  }

  bhttp::request<bhttp::string_body> make_request(std::string_view method, const Url& url,
                                                  const Headers& headers, std::string_view body) {
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(url.target);
    req.set(bhttp::field::host, url.host_field());
    req.set(bhttp::field::user_agent, options.user_agent);
    for (const auto& [name, value] : headers) req.insert(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    return req;
  }

  // One exchange on an open connection. `fresh` tells whether a failure
  // before any answer byte may be retried on a new connection.
  struct Attempt {
    Result<ClientResponse> result;
    bool retry = false;
  };
  template <class S>
  Attempt exchange(S& s, bhttp::request<bhttp::string_body>& req, std::string_view url,
                   Clock::time_point deadline, std::chrono::milliseconds timeout, bool reused,
                   bool& keep) {
    keep = false;
    const bool method_is_head = req.method() == bhttp::verb::head;
    beast::error_code ec;
    beast::get_lowest_layer(s).expires_at(deadline);
    bhttp::async_write(s, req, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) {
      if (ec == beast::error::timeout) {
        return {fail(Errc::unavailable,
                     "no answer from " + std::string(url) + " within " + millis(timeout)),
                false};
      }
      return {
          fail(Errc::unavailable, "sending to " + std::string(url) + " failed: " + ec.message()),
          reused && peer_closed(ec)};
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(options.body_limit);
    parser.skip(method_is_head);  // RFC 9110 9.3.2: no body follows, whatever the fields say
    buffer.clear();
    const auto failed = [&](beast::error_code e) -> std::optional<Attempt> {
      if (!e) return std::nullopt;
      if (e == beast::error::timeout) {
        return Attempt{fail(Errc::unavailable,
                            "no answer from " + std::string(url) + " within " + millis(timeout)),
                       false};
      }
      if (e == bhttp::error::body_limit) {
        return Attempt{fail(Errc::too_large, "the answer from " + std::string(url) + " is over " +
                                                 std::to_string(options.body_limit) + " bytes"),
                       false};
      }
      if (peer_closed(e)) {
        return Attempt{fail(Errc::unavailable,
                            "the connection to " + std::string(url) + " closed before the answer"),
                       reused && !parser.got_some()};
      }
      if (e.category() == bhttp::make_error_code(bhttp::error::bad_version).category()) {
        return Attempt{fail(Errc::malformed, "the answer from " + std::string(url) +
                                                 " is not valid HTTP (" + e.message() + ")"),
                       false};
      }
      return Attempt{
          fail(Errc::unavailable, "receiving from " + std::string(url) + " failed: " + e.message()),
          false};
    };
    bhttp::async_read_header(s, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (auto f = failed(ec)) return std::move(*f);
    // Checked here because Beast 1.74 skips the Content-Length check of its
    // body limit when the body arrives together with the header (eager mode).
    if (const auto length = parser.content_length(); length && *length > options.body_limit) {
      return *failed(bhttp::error::body_limit);
    }
    if (!parser.is_done()) {
      bhttp::async_read(s, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
      run();
      if (auto f = failed(ec)) return std::move(*f);
    }
    auto message = parser.release();
    keep = message.keep_alive();
    ClientResponse out{static_cast<int>(message.result_int()), to_headers(message),
                       std::move(message.body())};
    return {std::move(out), false};
  }

  template <class S>
  Status read_events_on(S& s, const Url& url, const std::string& where,
                        std::optional<std::int64_t> last_event_id,
                        const std::function<bool(const SseEvent&)>& on_event,
                        Clock::time_point connect_deadline, Clock::time_point events_deadline,
                        const Headers& headers) {
    Headers all = headers;
    all.set("Accept", "text/event-stream");
    all.set("Cache-Control", "no-store");
    if (last_event_id) all.set("Last-Event-ID", std::to_string(*last_event_id));
    auto req = make_request("GET", url, all, {});

    beast::error_code ec;
    beast::get_lowest_layer(s).expires_at(connect_deadline);
    bhttp::async_write(s, req, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec) return fail(Errc::unavailable, "sending to " + where + " failed: " + ec.message());

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    // Bounded by time, not size (and boost::none would trip Beast 1.74 on
    // Content-Length: it compares the length with an empty optional).
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    bhttp::async_read_header(s, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
    run();
    if (ec == beast::error::timeout) {
      return fail(Errc::unavailable,
                  "no answer from " + where + " within " + millis(options.timeout));
    }
    if (ec) return fail(Errc::unavailable, "receiving from " + where + " failed: " + ec.message());

    const int status = static_cast<int>(parser.get().result_int());
    if (status != 200) {
      std::string message = "the server answered " + std::to_string(status);
      bhttp::response_parser<bhttp::string_body> rest(std::move(parser));
      rest.body_limit(64 * 1024);
      const auto length = rest.content_length();
      if (!length || *length <= 64 * 1024) {
        bhttp::async_read(s, buffer, rest, [&](beast::error_code e, std::size_t) { ec = e; });
        run();
      }
      if (!ec && rest.is_done()) {
        const auto json = nlohmann::json::parse(rest.get().body(), nullptr, false);
        if (json.is_object() && json.contains("message") && json["message"].is_string()) {
          message = json["message"].get<std::string>();
        }
      }
      return fail(errc_from_http_status(status), message);
    }

    SseParser sse;
    std::array<char, 4096> chunk;
    while (!parser.is_done()) {
      if (Clock::now() >= events_deadline) return {};
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      beast::get_lowest_layer(s).expires_at(events_deadline);
      bhttp::async_read_some(s, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
      run();
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (n > 0) {
        auto more = sse.feed(std::string_view(chunk.data(), n), on_event);
        if (!more) return fail(more.error().context("reading events from " + where));
        if (!*more) return {};
      }
      if (ec == bhttp::error::need_buffer) continue;
      if (ec == beast::error::timeout || peer_closed(ec)) return {};
      if (ec)
        return fail(Errc::unavailable,
                    "the event stream from " + where + " broke: " + ec.message());
    }
    return {};
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Result<ClientResponse> Client::request(std::string_view method, std::string_view url_text,
                                       const Headers& headers, std::string_view body,
                                       std::optional<std::chrono::milliseconds> timeout) {
  auto& d = *impl_;
  auto url = parse_url(url_text);
  if (!url) return fail(url.error());
  const auto limit = timeout.value_or(d.options.timeout);
  const auto deadline = Clock::now() + limit;
  auto req = d.make_request(method, *url, headers, body);
  const std::string where = (url->tls ? "https://" : "http://") + url->host + ":" + url->port;

  const bool reusable =
      d.stream && d.connected_to == where && Clock::now() - d.last_used < kReuseWindow;
  if (!reusable) d.stream.reset();
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = d.stream.has_value();
    if (!reused) {
      auto s = d.connect(*url, deadline);
      if (!s) return fail(s.error());
      d.stream.emplace(std::move(*s));
      d.connected_to = where;
    }
    bool keep = false;
    auto outcome = std::visit(
        [&](auto& s) { return d.exchange(s, req, url_text, deadline, limit, reused, keep); },
        *d.stream);
    if (outcome.result && keep) {
      d.last_used = Clock::now();
    } else {
      d.stream.reset();
    }
    if (!outcome.result && outcome.retry && replayable(method, headers)) continue;
    return std::move(outcome.result);
  }
  return fail(Errc::unavailable, "the connection to " + std::string(url_text) + " keeps closing");
}

Result<ClientResponse> Client::get(std::string_view url, const Headers& headers) {
  return request("GET", url, headers);
}

Result<ClientResponse> Client::post(std::string_view url, std::string_view body,
                                    std::string_view content_type, const Headers& headers) {
  Headers all = headers;
  all.set("Content-Type", std::string(content_type));
  return request("POST", url, all, body);
}

Status Client::read_events(std::string_view url_text, std::optional<std::int64_t> last_event_id,
                           const std::function<bool(const SseEvent&)>& on_event,
                           std::chrono::milliseconds max_wait, const Headers& headers) {
  auto& d = *impl_;
  auto url = parse_url(url_text);
  if (!url) return fail(url.error());
  const auto start = Clock::now();
  const auto connect_deadline = start + d.options.timeout;
  const auto events_deadline = start + max_wait;
  const std::string where(url_text);

  auto connected = d.connect(*url, connect_deadline);
  if (!connected) return fail(connected.error());
  return std::visit(
      [&](auto& s) {
        return d.read_events_on(s, *url, where, last_event_id, on_event, connect_deadline,
                                events_deadline, headers);
      },
      *connected);
}

}  // namespace smacert::http
