#include "http/sse_writer.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

namespace smacert::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;

SseWriter::SseWriter(beast::tcp_stream&& stream, SseStream sse, Headers headers,
                     std::shared_ptr<ServerState> state)
    : state_(std::move(state)),
      stream_(std::move(stream)),
      executor_(stream_.get_executor()),
      timer_(executor_),
      sse_(std::move(sse)),
      headers_(std::move(headers)) {
  state_->options.metrics->connection_opened();
}

SseWriter::~SseWriter() {
  subscription_.reset();
  state_->options.metrics->connection_closed();
  if (id_) state_->connections.remove(*id_);
}

void SseWriter::start(std::string_view date) {
  id_ = state_->connections.add(weak_from_this());
  if (!id_ || !sse_.fetch) return close();

  // Subscribe before the first fetch: a notify between the two is not lost.
  if (sse_.hub) {
    subscription_ = sse_.hub->subscribe(sse_.topic, [weak = weak_from_this(), ex = executor_] {
      net::post(ex, [weak] {
        if (auto self = weak.lock()) self->on_notify();
      });
    });
  }

  // The body runs until the connection closes (RFC 9112 6.3 item 8).
  out_ =
      "HTTP/1.1 200 OK\r\n"
      "Content-Type: text/event-stream\r\n"
      "Cache-Control: no-store\r\n"
      "Connection: close\r\n"
      "Date: ";
  out_ += date;
  out_ += "\r\n";
  for (const auto& [name, value] : headers_) {
    if (name.empty() || name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos || iequals(name, "Content-Type") ||
        iequals(name, "Cache-Control") || iequals(name, "Connection") || iequals(name, "Date") ||
        iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) {
      continue;
    }
    out_ += name + ": " + value + "\r\n";
  }
  out_ += "\r\n";
  notified_ = true;  // the first fetch happens right after the header
  write();
  read_until_closed();
}

void SseWriter::stop() {
  net::post(executor_, [self = shared_from_this()] { self->close(); });
}

// The client sends nothing on an event stream; a completed read means it
// closed (or broke) the connection, and the stream ends at once.
void SseWriter::read_until_closed() {
  stream_.socket().async_read_some(net::buffer(discard_),
                                   [self = shared_from_this()](error_code ec, std::size_t) {
                                     if (ec) return self->close();
                                     self->read_until_closed();
                                   });
}

void SseWriter::on_notify() {
  notified_ = true;
  if (waiting_) timer_.cancel();
}

void SseWriter::fetch_and_send() {
  if (closed_) return;
  notified_ = false;
  Result<std::vector<SseEvent>> events = std::vector<SseEvent>{};
  try {
    events = sse_.fetch(sse_.last_id);
  } catch (const std::exception& e) {
    spdlog::error("event stream for topic {}: fetch threw: {}", sse_.topic, e.what());
    return close();
  }
  if (!events) {
    spdlog::warn("event stream for topic {} ends: {}", sse_.topic, events.error().message);
    return close();
  }
  out_.clear();
  for (const auto& event : *events) {
    append_sse_event(out_, event);
    if (event.id > sse_.last_id) sse_.last_id = event.id;
  }
  if (keepalive_due_ && out_.empty()) out_ = ": keep-alive\n\n";
  keepalive_due_ = false;
  if (out_.empty()) return wait();
  write();
}

void SseWriter::write() {
  writing_ = true;
  stream_.expires_after(state_->options.write_timeout);
  net::async_write(stream_, net::buffer(out_),
                   beast::bind_front_handler(&SseWriter::on_written, shared_from_this()));
}

void SseWriter::on_written(error_code ec, std::size_t) {
  writing_ = false;
  if (ec || closed_) return close();
  wait();
}

void SseWriter::wait() {
  if (closed_) return;
  if (notified_) return fetch_and_send();
  waiting_ = true;
  timer_.expires_after(state_->options.sse_keepalive);
  timer_.async_wait(beast::bind_front_handler(&SseWriter::on_timer, shared_from_this()));
}

void SseWriter::on_timer(error_code ec) {
  waiting_ = false;
  if (closed_) return;
  if (!ec) keepalive_due_ = true;  // quiet for a whole interval
  fetch_and_send();
}

void SseWriter::close() {
  if (closed_) return;
  closed_ = true;
  subscription_.reset();
  timer_.cancel();
  error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.socket().close(ignored);
}

}  // namespace smacert::http::detail
