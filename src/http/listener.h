// Accepts connections and starts a Session for each. Internal to src/http.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <memory>

#include "core/error.h"
#include "http/server_state.h"

namespace smacert::http::detail {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens; Errc::invalid_argument for a bad address,
  // Errc::unavailable when the address cannot be bound.
  static Result<std::shared_ptr<Listener>> open(boost::asio::io_context& ioc,
                                                std::shared_ptr<ServerState> state);

  Listener(boost::asio::io_context& ioc, std::shared_ptr<ServerState> state);
  void start();
  void stop();   // any thread
  void close();  // only when no I/O thread runs
  boost::asio::ip::tcp::endpoint endpoint() const { return endpoint_; }

 private:
  void accept();
  void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  std::shared_ptr<ServerState> state_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  boost::asio::ip::tcp::endpoint endpoint_;
  bool stopped_ = false;
};

}  // namespace smacert::http::detail
