#include "http/listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "http/session.h"

namespace smacert::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

Listener::Listener(net::io_context& ioc, std::shared_ptr<ServerState> state)
    : ioc_(ioc),
      state_(std::move(state)),
      strand_(net::make_strand(ioc)),
      acceptor_(strand_),
      retry_(strand_) {}

Result<std::shared_ptr<Listener>> Listener::open(net::io_context& ioc,
                                                 std::shared_ptr<ServerState> state) {
  const auto& options = state->options;
  const std::string where = options.address + ":" + std::to_string(options.port);
  beast::error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) {
    return fail(Errc::invalid_argument,
                "the listen address " + options.address + " is not an IP address");
  }
  auto listener = std::make_shared<Listener>(ioc, std::move(state));
  auto& acceptor = listener->acceptor_;
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) listener->endpoint_ = acceptor.local_endpoint(ec);
  if (ec) return fail(Errc::unavailable, "cannot listen on " + where + ": " + ec.message());
  return listener;
}

void Listener::start() {
  net::dispatch(strand_, beast::bind_front_handler(&Listener::accept, shared_from_this()));
}

void Listener::stop() {
  net::post(strand_, [self = shared_from_this()] { self->close(); });
}

void Listener::close() {
  stopped_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void Listener::accept() {
  if (stopped_) return;
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(ioc_),
                         beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopped_ || ec == net::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors or memory: wait a little rather than spin.
    spdlog::warn("accepting a connection failed: {}", ec.message());
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec) self->accept();
    });
    return;
  }
  if (state_->connections.size() >= state_->options.max_connections) {
    beast::error_code ignored;
    socket.close(ignored);
  } else {
    socket.set_option(tcp::no_delay(true), ec);
    if (state_->tls) {
      std::make_shared<Session<TlsStream>>(std::move(socket), state_)->start();
    } else {
      std::make_shared<Session<PlainStream>>(std::move(socket), state_)->start();
    }
  }
  accept();
}

}  // namespace smacert::http::detail
