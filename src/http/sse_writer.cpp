#include "http/sse_writer.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>

namespace smacert::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;

template <class Stream>
SseWriter<Stream>::SseWriter(Stream&& stream, SseStream sse, Headers headers,
                             std::shared_ptr<ServerState> state)
    : state_(std::move(state)),
      stream_(std::move(stream)),
      executor_(stream_.get_executor()),
      timer_(executor_),
      sse_(std::move(sse)),
      headers_(std::move(headers)) {
  state_->options.metrics->connection_opened();
}

template <class Stream>
SseWriter<Stream>::~SseWriter() {
  subscription_.reset();
  state_->options.metrics->connection_closed();
  if (id_) state_->connections.remove(*id_);
}

template <class Stream>
void SseWriter<Stream>::start(std::string_view date) {
  id_ = state_->connections.add(this->weak_from_this());
  if (!id_ || !sse_.fetch) return close();

  // Subscribe before the first fetch: a notify between the two is not lost.
  if (sse_.hub) {
    subscription_ =
        sse_.hub->subscribe(sse_.topic, [weak = this->weak_from_this(), ex = executor_] {
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
  // The watch for the client's close has no deadline (an event stream is
  // quiet for long); the writes each have theirs. Beast keeps a pending
  // read's deadline when a write sets its own.
  tcp().expires_never();
  read_until_closed();
  write();
}

template <class Stream>
void SseWriter<Stream>::stop() {
  net::post(executor_, [self = this->shared_from_this()] { self->close(); });
}

// The client sends nothing on an event stream; a completed read means it
// closed (or broke) the connection, and the stream ends at once.
template <class Stream>
void SseWriter<Stream>::read_until_closed() {
  stream_.async_read_some(net::buffer(discard_),
                          [self = this->shared_from_this()](error_code ec, std::size_t) {
                            if (ec) return self->close();
                            self->read_until_closed();
                          });
}

template <class Stream>
void SseWriter<Stream>::on_notify() {
  notified_ = true;
  if (waiting_) timer_.cancel();
}

template <class Stream>
void SseWriter<Stream>::fetch_and_send() {
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

template <class Stream>
void SseWriter<Stream>::write() {
  writing_ = true;
  tcp().expires_after(state_->options.write_timeout);
  net::async_write(stream_, net::buffer(out_),
                   beast::bind_front_handler(&SseWriter::on_written, this->shared_from_this()));
}

template <class Stream>
void SseWriter<Stream>::on_written(error_code ec, std::size_t) {
  writing_ = false;
  if (ec || closed_) return close();
  wait();
}

template <class Stream>
void SseWriter<Stream>::wait() {
  if (closed_) return;
  if (notified_) return fetch_and_send();
  waiting_ = true;
  timer_.expires_after(state_->options.sse_keepalive);
  timer_.async_wait(beast::bind_front_handler(&SseWriter::on_timer, this->shared_from_this()));
}

template <class Stream>
void SseWriter<Stream>::on_timer(error_code ec) {
  waiting_ = false;
  if (closed_) return;
  if (!ec) keepalive_due_ = true;  // quiet for a whole interval
  fetch_and_send();
}

template <class Stream>
void SseWriter<Stream>::close() {
  if (closed_) return;
  closed_ = true;
  subscription_.reset();
  timer_.cancel();
  error_code ignored;
  tcp().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  tcp().socket().close(ignored);
}

template class SseWriter<PlainStream>;
template class SseWriter<TlsStream>;

}  // namespace smacert::http::detail
