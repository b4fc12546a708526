#include "http/session.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "http/response_head.h"
#include "http/sse_writer.h"
#include "http/target.h"

namespace smacert::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t kReadChunk = 4096;
constexpr auto kLingerTime = std::chrono::seconds(2);

// Beast 1.74 speaks boost::string_view.
std::string_view sv(beast::string_view s) {
  return {s.data(), s.size()};
}
beast::string_view bsv(std::string_view s) {
  return {s.data(), s.size()};
}

// The peer went away or a deadline passed: nothing to answer.
bool is_disconnect(const beast::error_code& ec) {
  return ec == net::error::eof || ec == net::error::operation_aborted ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == net::error::not_connected || ec == beast::error::timeout ||
         ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message;
}

// Header values from handlers end up on the wire: no line breaks (RFC 9110 5.5).
bool safe_field(std::string_view name, std::string_view value) {
  return !name.empty() && name.find_first_of("\r\n:") == std::string_view::npos &&
         value.find_first_of("\r\n") == std::string_view::npos;
}

template <class Stream>
Stream make_stream(net::ip::tcp::socket&& socket, ServerState& state) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    return Stream(beast::tcp_stream(std::move(socket)), *state.tls);
  } else {
    return Stream(std::move(socket));
  }
}

}  // namespace

template <class Stream>
Session<Stream>::Session(net::ip::tcp::socket&& socket, std::shared_ptr<ServerState> state)
    : state_(std::move(state)),
      stream_(make_stream<Stream>(std::move(socket), *state_)),
      executor_(stream_.get_executor()) {
  error_code ec;
  const auto endpoint = tcp().socket().remote_endpoint(ec);
  if (!ec) remote_address_ = endpoint.address().to_string();
  state_->options.metrics->connection_opened();
}

template <class Stream>
Session<Stream>::~Session() {
  state_->options.metrics->connection_closed();
  if (id_) state_->connections.remove(*id_);
}

template <class Stream>
void Session<Stream>::start() {
  id_ = state_->connections.add(this->weak_from_this());
  if (!id_) return close_now();  // the server is stopping
  if constexpr (kTls) {
    // The handshake is bounded like a request header (a slow handshake is a
    // slowloris too); requests follow on the same strand.
    tcp().expires_after(state_->options.header_timeout);
    stream_.async_handshake(
        net::ssl::stream_base::server,
        beast::bind_front_handler(&Session::on_handshake, this->shared_from_this()));
  } else {
    // Run on the connection's strand from the first step on.
    net::dispatch(executor_,
                  beast::bind_front_handler(&Session::await_request, this->shared_from_this()));
  }
}

template <class Stream>
void Session<Stream>::on_handshake(error_code ec) {
  if (ec) {
    // A client that does not speak TLS, or does not trust the certificate:
    // nothing can be answered over this connection.
    spdlog::debug("TLS handshake with {} failed: {}", remote_address_, ec.message());
    return close_now();
  }
  await_request();
}

template <class Stream>
void Session<Stream>::stop() {
  net::post(executor_, beast::bind_front_handler(&Session::on_stop, this->shared_from_this()));
}

template <class Stream>
void Session<Stream>::on_stop() {
  stopping_ = true;
  // A request under way is finished and answered; an idle connection goes now.
  if (idle_ || lingering_) close_now();
}

template <class Stream>
void Session<Stream>::await_request() {
  if (stopping_) return close_now();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
  parser_->body_limit(state_->max_body_limit);
  if (buffer_.size() > 0) return read_header();  // the client sent ahead
  // The idle deadline runs until the first byte; the header deadline after it.
  idle_ = true;
  tcp().expires_after(state_->options.idle_timeout);
  stream_.async_read_some(
      buffer_.prepare(kReadChunk),
      beast::bind_front_handler(&Session::on_first_bytes, this->shared_from_this()));
}

template <class Stream>
void Session<Stream>::on_first_bytes(error_code ec, std::size_t n) {
  idle_ = false;
  if (ec) return close_now();
  buffer_.commit(n);
  read_header();
}

template <class Stream>
void Session<Stream>::read_header() {
  tcp().expires_after(state_->options.header_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&Session::on_header, this->shared_from_this()));
}

template <class Stream>
void Session<Stream>::on_header(error_code ec, std::size_t) {
  if (ec == bhttp::error::header_limit) {
    return reject(
        431, "too_large",
        "The request header is over " + std::to_string(state_->options.header_limit) + " bytes.",
        state_->invalid_slot);
  }
  if (ec == bhttp::error::body_limit) {  // Content-Length over every route's limit
    return reject(413, "too_large", "The request body is too large.", state_->invalid_slot);
  }
  if (is_disconnect(ec)) return close_now();
  if (ec == bhttp::error::bad_version) {
    return reject(505, "malformed", "Only HTTP/1.0 and HTTP/1.1 are served here.",
                  state_->invalid_slot);
  }
  if (ec) {
    return reject(400, "malformed", "The request is not valid HTTP/1.1 (" + ec.message() + ").",
                  state_->invalid_slot);
  }
  header_at_ = std::chrono::steady_clock::now();

  const auto& message = parser_->get();
  if (message.version() != 10 && message.version() != 11) {
    return reject(505, "malformed", "Only HTTP/1.0 and HTTP/1.1 are served here.",
                  state_->invalid_slot);
  }
  request_.method.assign(sv(message.method_string()));
  request_.target.assign(sv(message.target()));
  request_.remote_address = remote_address_;
  request_.body.clear();
  request_.headers.clear();
  for (const auto& field : message) {
    request_.headers.add(std::string(field.name_string()), std::string(field.value()));
  }

  const auto split = split_target(request_.target);
  auto path = split ? percent_decode(split->path) : std::nullopt;
  auto query = split ? parse_query(split->query) : std::nullopt;
  if (!path || !query) {
    return reject(400, "malformed",
                  "The request target must be a path starting with '/' with valid "
                  "percent-escapes.",
                  state_->unmatched_slot);
  }
  request_.path = std::move(*path);
  request_.query = std::move(*query);
  match_ = state_->router.match(request_.method, split->path, request_.params);
  slot_ = state_->slot_of(match_);

  const auto limit = state_->body_limit_of(match_);
  if (const auto length = parser_->content_length(); length && *length > limit) {
    return reject(413, "too_large", "The request body is over " + std::to_string(limit) + " bytes.",
                  slot_);
  }
  parser_->body_limit(limit);  // bounds chunked bodies as they arrive

  if (parser_->is_done()) return dispatch();
  // RFC 9110 10.1.1: answer 100 (Continue) to a client that waits for it.
  if (const auto expect = message[bhttp::field::expect]; iequals(sv(expect), "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    tcp().expires_after(state_->options.write_timeout);
    return net::async_write(
        stream_, net::buffer(kContinue.data(), kContinue.size()),
        beast::bind_front_handler(&Session::on_continue_sent, this->shared_from_this()));
  }
  read_body();
}

template <class Stream>
void Session<Stream>::on_continue_sent(error_code ec, std::size_t) {
  if (ec) return close_now();
  read_body();
}

template <class Stream>
void Session<Stream>::read_body() {
  tcp().expires_after(state_->options.body_timeout);
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&Session::on_body, this->shared_from_this()));
}

template <class Stream>
void Session<Stream>::on_body(error_code ec, std::size_t) {
  if (ec == bhttp::error::body_limit) {
    return reject(
        413, "too_large",
        "The request body is over " + std::to_string(state_->body_limit_of(match_)) + " bytes.",
        slot_);
  }
  if (is_disconnect(ec)) return close_now();
  if (ec) {
    return reject(400, "malformed",
                  "The request body is not valid HTTP/1.1 (" + ec.message() + ").", slot_);
  }
  dispatch();
}

template <class Stream>
void Session<Stream>::dispatch() {
  auto message = parser_->release();
  parser_.reset();
  request_.body = std::move(message.body());
  const bool keep_alive = message.keep_alive() && !stopping_;

  Response response;
  if (match_.kind == RouteMatch::Kind::found) {
    try {
      response = match_.route->handler(request_);
    } catch (const std::exception& e) {
      // The detail goes to the log, never to the client; the body is not logged.
      spdlog::error("handler for route {} ({} {}) threw: {}", match_.route->name, request_.method,
                    request_.path, e.what());
      response = error_response(500, "internal", "The service failed to complete the request.");
    } catch (...) {
      spdlog::error("handler for route {} threw a non-standard exception", match_.route->name);
      response = error_response(500, "internal", "The service failed to complete the request.");
    }
  } else {
    response = unmatched_response(match_);
  }
  send(std::move(response), slot_, keep_alive);
}

namespace {

// Paths go into log lines as they are, but without what could break a line
// or a JSON log record: quotes, backslashes, control characters; and cut.
std::string loggable(std::string_view path) {
  std::string out;
  for (char c : path.substr(0, 200)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || c == '"' || c == '\\' || u == 0x7f) ? '?' : c;
  }
  return out;
}

}  // namespace

template <class Stream>
void Session<Stream>::log_access(int status) const {
  if (!state_->options.access_log) return;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - header_at_)
                    .count();
  spdlog::info("{} {} {} {} {}us", remote_address_, request_.method, loggable(request_.path),
               status, micros);
}

template <class Stream>
void Session<Stream>::send(Response response, std::size_t slot, bool keep_alive) {
  const auto now = state_->options.clock->now();
  if (auto* stream = std::get_if<SseStream>(&response.body)) {
    state_->options.metrics->observe(slot, 200, std::chrono::steady_clock::now() - header_at_);
    log_access(200);
    handed_over_ = true;
    auto writer = std::make_shared<SseWriter<Stream>>(std::move(stream_), std::move(*stream),
                                                      std::move(response.headers), state_);
    writer->start(date_.format(now));
    return;  // the writer owns the connection now
  }

  int status = response.status;
  if (status < 200 || status > 599) {
    spdlog::error("a handler answered status {}; sending 500", status);
    response = error_response(500, "internal", "The service failed to complete the request.");
    status = 500;
  }
  response_ = {};
  if (auto* text = std::get_if<std::string>(&response.body)) {
    response_.body() = std::move(*text);
  } else {
    response_.body() = std::move(std::get<SharedBytes>(response.body));
  }
  if (iequals(response.headers.get("Connection").value_or(""), "close")) keep_alive = false;
  // The fast path: the common answer's head written straight into a reused
  // string and sent with the body in one gather write, without Beast's
  // fields and serializer; the same bytes (response_head.h). HEAD, anything
  // unusual, and TLS (where Beast's ssl_stream flattens gather writes and the
  // record layer costs far more than the serializer) take Beast's way below.
  if (!kTls && request_.method != "HEAD" &&
      write_response_head(head_, status, date_.format(now), response.content_type, response.headers,
                          PayloadBody::size(response_.body()), keep_alive)) {
    state_->options.metrics->observe(slot, status, std::chrono::steady_clock::now() - header_at_);
    log_access(status);
    tcp().expires_after(state_->options.write_timeout);
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_),
                                                   PayloadBody::view(response_.body())};
    net::async_write(
        stream_, buffers,
        beast::bind_front_handler(&Session::on_write, this->shared_from_this(), keep_alive));
    return;
  }
  response_.version(11);
  response_.result(static_cast<unsigned>(status));
  response_.set(bhttp::field::date, bsv(date_.format(now)));
  if (!response.content_type.empty())
    response_.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    if (safe_field(name, value)) response_.insert(bsv(name), bsv(value));
  }
  response_.keep_alive(keep_alive);
  response_.prepare_payload();
  // A HEAD answer carries the GET answer's fields, Content-Length included, and no body.
  if (request_.method == "HEAD") response_.body() = std::string();

  state_->options.metrics->observe(slot, status, std::chrono::steady_clock::now() - header_at_);
  log_access(status);
  tcp().expires_after(state_->options.write_timeout);
  bhttp::async_write(
      stream_, response_,
      beast::bind_front_handler(&Session::on_write, this->shared_from_this(), keep_alive));
}

template <class Stream>
void Session<Stream>::reject(int status, std::string_view code, std::string_view message,
                             std::size_t slot) {
  rejecting_ = true;
  if (header_at_ == std::chrono::steady_clock::time_point{})
    header_at_ = std::chrono::steady_clock::now();
  send(error_response(status, code, message), slot, false);
}

template <class Stream>
void Session<Stream>::on_write(bool keep_alive, error_code ec, std::size_t) {
  response_.body() = std::string();  // release shared bytes promptly
  header_at_ = {};
  if (ec) return close_now();
  if (rejecting_) return linger_close();
  if (!keep_alive || stopping_) return end_gracefully();
  await_request();
}

template <class Stream>
void Session<Stream>::end_gracefully() {
  if constexpr (kTls) {
    // close_notify (RFC 8446 6.1), so the client knows the answer is whole;
    // a client that closes first, or never answers, ends it too.
    lingering_ = true;
    tcp().expires_after(kLingerTime);
    stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->close_now(); });
  } else {
    error_code ignored;
    tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    close_now();
  }
}

// After an error answer the client may still be sending (a body we refused):
// closing at once would reset the connection and could destroy the answer in
// flight, so read and drop for a short while first (as nginx's lingering close).
template <class Stream>
void Session<Stream>::linger_close() {
  // Over TLS the answer is protected by close_notify and a refused body
  // cannot be read past the record layer anyway.
  if constexpr (kTls) return end_gracefully();
  lingering_ = true;
  error_code ignored;
  tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  tcp().expires_after(kLingerTime);
  buffer_.clear();
  stream_.async_read_some(
      buffer_.prepare(kReadChunk),
      beast::bind_front_handler(&Session::on_linger_read, this->shared_from_this()));
}

template <class Stream>
void Session<Stream>::on_linger_read(error_code ec, std::size_t) {
  if (ec || stopping_) return close_now();
  stream_.async_read_some(
      buffer_.prepare(kReadChunk),
      beast::bind_front_handler(&Session::on_linger_read, this->shared_from_this()));
}

template <class Stream>
void Session<Stream>::close_now() {
  idle_ = false;
  lingering_ = false;
  if (handed_over_) return;
  error_code ignored;
  tcp().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  tcp().socket().close(ignored);
}

template class Session<PlainStream>;
template class Session<TlsStream>;

}  // namespace smacert::http::detail
