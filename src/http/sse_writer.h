// Serves one Server-Sent Events stream on a connection taken over from a
// Session: writes the header, then fetch → write → wait (hub or keep-alive
// timer) until the client leaves, fetch fails or the server stops.
// Stream is a Session's: PlainStream or TlsStream. Internal to src/http.
#pragma once

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "http/connections.h"
#include "http/headers.h"
#include "http/hub.h"
#include "http/server_state.h"
#include "http/sse.h"

namespace smacert::http::detail {

template <class Stream>
class SseWriter final : public Connection, public std::enable_shared_from_this<SseWriter<Stream>> {
 public:
  SseWriter(Stream&& stream, SseStream sse, Headers headers, std::shared_ptr<ServerState> state);
  ~SseWriter() override;

  void start(std::string_view date);
  void stop() override;

 private:
  using error_code = boost::beast::error_code;

  void read_until_closed();
  void on_notify();
  void fetch_and_send();
  void write();
  void on_written(error_code ec, std::size_t);
  void wait();
  void on_timer(error_code ec);
  void close();

  std::shared_ptr<ServerState> state_;
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }

  Stream stream_;
  boost::beast::tcp_stream::executor_type executor_;
  boost::asio::steady_timer timer_;
  SseStream sse_;
  Headers headers_;
  Hub::Subscription subscription_;
  std::string out_;
  std::array<char, 512> discard_{};
  std::optional<std::uint64_t> id_;
  bool notified_ = false;
  bool waiting_ = false;
  bool writing_ = false;
  bool keepalive_due_ = false;
  bool closed_ = false;
};

}  // namespace smacert::http::detail
