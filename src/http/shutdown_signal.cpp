#include "http/shutdown_signal.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>

namespace smacert::http {

int wait_for_shutdown_signal(Server& server) {
  // A private io_context: the server's threads stay free to finish requests.
  boost::asio::io_context ioc(1);
  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (!ec) received = signal;
  });
  ioc.run();
  spdlog::info("signal {} received; finishing in-flight requests", received);
  server.stop();
  return received;
}

}  // namespace smacert::http
