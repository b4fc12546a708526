// One client connection: reads a request (bounded and under deadlines),
// routes it, runs the handler, writes the answer, repeats while keep-alive.
// An event-stream answer hands the connection over to an SseWriter.
// One template for both transports: Stream is a beast::tcp_stream (plain
// HTTP) or a beast::ssl_stream over one (HTTPS, after the handshake); both
// are instantiated in session.cpp. Internal to src/http.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "http/connections.h"
#include "http/http_date.h"
#include "http/payload_body.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server_state.h"

namespace smacert::http::detail {

template <class Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // A TLS session takes the server's context from state->tls.
  Session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ServerState> state);
  ~Session() override;

  void start();
  void stop() override;

 private:
  using error_code = boost::beast::error_code;

  void on_handshake(error_code ec);
  void await_request();
  void on_first_bytes(error_code ec, std::size_t n);
  void read_header();
  void on_header(error_code ec, std::size_t);
  void on_continue_sent(error_code ec, std::size_t);
  void read_body();
  void on_body(error_code ec, std::size_t);
  void dispatch();
  void send(Response response, std::size_t slot, bool keep_alive);
  void log_access(int status) const;
  // Answers a request that cannot be served and closes the connection.
  void reject(int status, std::string_view code, std::string_view message, std::size_t slot);
  void on_write(bool keep_alive, error_code ec, std::size_t);
  void on_stop();
  void close_now();
  void end_gracefully();  // after the last answer: TLS close_notify, then close
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }
  void linger_close();
  void on_linger_read(error_code ec, std::size_t);

  std::shared_ptr<ServerState> state_;
  Stream stream_;
  boost::beast::tcp_stream::executor_type executor_;  // a strand; outlives a hand-over of stream_
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<PayloadBody> response_;
  std::string head_;  // the fast path's status line and fields, reused
  Request request_;
  RouteMatch match_;
  std::size_t slot_ = 0;
  std::chrono::steady_clock::time_point header_at_;
  std::string remote_address_;
  HttpDate date_;
  std::optional<std::uint64_t> id_;
  bool idle_ = false;       // waiting for the first byte of a request
  bool stopping_ = false;   // the server is stopping: close after this answer
  bool rejecting_ = false;  // the answer is an error: linger, then close
  bool lingering_ = false;
  bool handed_over_ = false;  // stream_ belongs to an SseWriter
};

}  // namespace smacert::http::detail
