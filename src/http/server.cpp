#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "core/worker_pool.h"
#include "http/listener.h"
#include "http/server_state.h"
#include "http/tls.h"

namespace smacert::http {

namespace net = boost::asio;

struct Server::Impl {
  std::shared_ptr<detail::ServerState> state;
  std::unique_ptr<net::io_context> ioc;  // after state: destroyed first
  std::shared_ptr<detail::Listener> listener;
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool stopped = false;

  bool on_io_thread() const {
    const auto me = std::this_thread::get_id();
    for (const auto& t : threads) {
      if (t.get_id() == me) return true;
    }
    return false;
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Server>> Server::start(Router router, ServerOptions options) {
  SMACERT_TRY_STATUS(router.check());
  unsigned threads =
      options.threads ? options.threads : usable_cores() * std::max(1u, options.threads_per_core);

  std::shared_ptr<net::ssl::context> tls;
  if (!options.tls_certificate_file.empty() || !options.tls_key_file.empty()) {
    auto context = detail::server_tls_context(options.tls_certificate_file, options.tls_key_file);
    if (!context) return fail(context.error());
    tls = std::move(*context);
  }

  auto impl = std::make_unique<Impl>();
  impl->state = std::make_shared<detail::ServerState>(std::move(router), std::move(options));
  impl->state->tls = std::move(tls);
  // A hint of 1 lets Asio drop its internal locking on a single thread.
  impl->ioc = std::make_unique<net::io_context>(static_cast<int>(threads));
  auto listener = detail::Listener::open(*impl->ioc, impl->state);
  if (!listener) return fail(listener.error());
  impl->listener = std::move(*listener);
  impl->listener->start();
  impl->threads.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    impl->threads.emplace_back([ioc = impl->ioc.get()] {
      // Handlers catch their own exceptions; anything here is a bug in the
      // transport, logged rather than taking the process down.
      while (true) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::critical("HTTP I/O thread caught: {}", e.what());
        }
      }
    });
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::check_tls(const ServerOptions& options) {
  if (options.tls_certificate_file.empty() && options.tls_key_file.empty()) return {};
  auto context = detail::server_tls_context(options.tls_certificate_file, options.tls_key_file);
  if (!context) return fail(context.error());
  return {};
}

Server::~Server() {
  stop();
}

std::uint16_t Server::port() const {
  return impl_->listener->endpoint().port();
}

std::string Server::address() const {
  return impl_->listener->endpoint().address().to_string();
}

std::string Server::url() const {
  const auto endpoint = impl_->listener->endpoint();
  const auto host = endpoint.address().is_v6() ? "[" + address() + "]" : address();
  return (impl_->state->tls ? "https://" : "http://") + host + ":" +
         std::to_string(endpoint.port());
}

unsigned Server::threads() const {
  return static_cast<unsigned>(impl_->threads.size());
}

const std::shared_ptr<Metrics>& Server::metrics() const {
  return impl_->state->options.metrics;
}

void Server::stop() {
  if (!impl_) return;
  std::lock_guard lock(impl_->stop_mutex);
  if (!impl_->stopped) {
    // Step 1: no new connections. Step 2: every connection finishes the
    // request it is serving and closes; idle ones and event streams close now.
    impl_->listener->stop();
    impl_->state->connections.stop_all();
  }
  // From a handler, waiting would block the thread the drain needs.
  if (impl_->on_io_thread()) {
    impl_->stopped = true;
    return;
  }
  if (impl_->threads.empty()) return;
  // Step 3: wait for them (bounded), then cut off whatever is left.
  const auto deadline = std::chrono::steady_clock::now() + impl_->state->options.drain_timeout;
  if (!impl_->state->connections.wait_until_empty(deadline)) {
    spdlog::warn("{} connections still open after the drain timeout; closing them",
                 impl_->state->connections.size());
  }
  impl_->stopped = true;
  impl_->ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // The posted close may not have run before the I/O threads stopped.
  impl_->listener->close();
}

}  // namespace smacert::http
