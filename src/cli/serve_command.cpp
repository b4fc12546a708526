// smacert serve — the whole service on the embedded SQLite store or a shared
// PostgreSQL one (--store, docs/scale-out.md). This file
// only wires objects together (Boulder's thin mains): data folder, CAs,
// store, OCSP responder, service, HTTP routes, server, background work.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <iostream>
#include <thread>

#include "cli/command.h"
#include "core/encoding.h"
#include "core/files.h"
#include "http/handlers/routes.h"
#include "http/server.h"
#include "http/shutdown_signal.h"
#include "service/follower.h"
#include "store/store.h"

namespace smacert::cli {
namespace {

namespace fs = std::filesystem;

struct ServeOptions {
  std::string config;
  std::string data = "./smacert-data";
  std::string listen;            // overrides server.listen
  std::string store;             // overrides store.url
  std::string role = "service";  // or "ocsp": status only, following a shared store
  bool test_clock = false;
};

Result<std::pair<std::string, std::uint16_t>> split_listen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return fail(Errc::invalid_argument, "--listen must be HOST:PORT, e.g. 127.0.0.1:8700");
  try {
    int port = std::stoi(text.substr(colon + 1));
    if (port < 0 || port > 65535) throw std::out_of_range("port");
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    return std::pair{host, static_cast<std::uint16_t>(port)};
  } catch (...) {
    return fail(Errc::invalid_argument, "--listen must end in a port number 0-65535");
  }
}

// Port 0 asks for any free port; the certificates must name the one chosen,
// so it is chosen here, before anything is issued.
Result<std::uint16_t> free_loopback_port(const std::string& host) {
  int fd = ::socket(host.find(':') != std::string::npos ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return fail(Errc::io, "cannot open a socket to find a free port");
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (host.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    ::inet_pton(AF_INET, host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return fail(Errc::unavailable, "cannot bind " + host + " to find a free port");
  }
  ::close(fd);
  return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

// The admin token: 32 random bytes, base64url, in a file of mode 0600.
Result<std::string> admin_token(const fs::path& file, Random& random) {
  auto existing = read_file(file, 4096);
  if (existing) {
    std::string t(as_chars(*existing));
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    if (t.size() < 16)
      return fail(Errc::invalid_argument,
                  file.string() + " holds a token shorter than 16 characters");
    return t;
  }
  if (existing.error().code != Errc::not_found) return fail(existing.error());
  std::string t = base64url_encode(random.bytes(32));
  SMACERT_TRY_STATUS(write_file_atomic(file, as_bytes(t + "\n"), 0600));
  return t;
}

// The key that seals session tokens: 32 random bytes in a file of mode 0600,
// copied to every node of one service (docs/scale-out.md).
Result<Bytes> session_key(const fs::path& file, Random& random) {
  auto existing = read_file(file, 4096);
  if (existing) {
    if (existing->size() != 32)
      return fail(Errc::invalid_argument, file.string() + " must hold exactly 32 bytes");
    return std::move(*existing);
  }
  if (existing.error().code != Errc::not_found) return fail(existing.error());
  Bytes key = random.bytes(32);
  SMACERT_TRY_STATUS(write_file_atomic(file, key, 0600));
  return key;
}

void setup_logging(const Config& config) {
  auto logger = spdlog::stderr_logger_mt("smacert");
  if (config.server.log_format == "json")
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":"%v"})",
                        spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(config.server.log_level));
  spdlog::set_default_logger(logger);
}

int serve(const GlobalOptions& g, const ServeOptions& o) {
  // Before any thread exists: a SIGTERM from now on waits for the graceful stop.
  http::block_shutdown_signals();
  Config config;
  if (!o.config.empty()) {
    auto c = load_config(o.config);
    if (!c) return report(c.error(), g);
    config = *c;
  }
  setup_logging(config);
  auto pki_config = pki::pki_config(config.pki);
  if (!pki_config) return report(pki_config.error(), g);
  auto window = service::IssuanceWindow::parse(config.issuance.window);
  if (!window) return report(window.error().context("issuance.window"), g);
  auto listen = split_listen(o.listen.empty() ? config.server.listen : o.listen);
  if (!listen) return report(listen.error(), g);
  http::ServerOptions options;
  options.tls_certificate_file = config.server.tls_certificate;
  options.tls_key_file = config.server.tls_key;
  // A bad certificate or key is refused before the data folder is touched.
  if (auto tls = http::Server::check_tls(options); !tls) return report(tls.error(), g);
  const bool tls = !options.tls_certificate_file.empty();
  const bool ocsp_only = o.role == "ocsp";
  if (ocsp_only) {
    // An OCSP node learns every status change from the shared store's change
    // feed; alone on a SQLite file it would answer from a stale memory.
    const std::string& url = !o.store.empty() ? o.store : config.store.url;
    if (url.rfind("postgres", 0) != 0)
      return report(Error{Errc::invalid_argument,
                          "--role ocsp needs the shared store of the service nodes "
                          "(--store postgresql://…)"},
                    g);
  }

  // Certificates name the OCSP and CRL URLs: by default the address served.
  if (config.pki.public_url.empty()) {
    if (listen->second == 0) {
      auto port = free_loopback_port(listen->first);
      if (!port) return report(port.error(), g);
      listen->second = *port;
    }
    std::string host =
        listen->first.find(':') != std::string::npos ? "[" + listen->first + "]" : listen->first;
    if (host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
    pki_config->public_url =
        (tls ? "https://" : "http://") + host + ":" + std::to_string(listen->second);
  }
  fs::path data(o.data);
  if (auto st = ensure_directory(data, 0700); !st) return report(st.error(), g);
  SystemClock system_clock;
  ManualClock manual_clock(system_clock.now());
  const Clock& clock = o.test_clock ? static_cast<const Clock&>(manual_clock) : system_clock;
  OsRandom random;

  // Step 1: the CAs (made on first start), the store, the push key, the token.
  auto authorities = pki::Authorities::open_or_create(data, *pki_config, clock, random);
  if (!authorities) return report(authorities.error(), g);
  const std::string store_url = !o.store.empty() ? o.store
                                : !config.store.url.empty()
                                    ? config.store.url
                                    : "sqlite:" + (data / "store.db").string();
  auto store = store::open_store(store_url);
  if (!store) return report(store.error(), g);
  auto events = service::EventSigner::open_or_create(data / "push.key");
  if (!events) return report(events.error(), g);
  auto token = admin_token(data / "admin.token", random);
  if (!token) return report(token.error(), g);
  auto sessions = session_key(data / "session.key", random);
  if (!sessions) return report(sessions.error(), g);

  // Step 2: the domain, with every pre-signed OCSP answer loaded from the store.
  pki::OcspResponder responder(*authorities, clock);
  service::ServiceConfig service_config{*window, config.challenge_ttl,
                                        config.registration.activation_delay, config.session_ttl,
                                        *sessions};
  service::Service service(**store, *authorities, responder, **events, clock, random,
                           service_config);
  auto loaded = service.load_ocsp();
  if (!loaded) return report(loaded.error(), g);
  auto hub = std::make_shared<http::Hub>();
  service.on_events([hub](const std::string& device) { hub->notify(device); });
  // Nodes that share the store follow each other's commits (none on SQLite).
  auto follower = service::StoreFollower::start(
      service, **store, std::chrono::seconds(1),
      [](const Error& e) { spdlog::warn("following the shared store: {}", e.message); });
  if (!follower) return report(follower.error(), g);

  // Step 3: HTTP.
  std::mutex work_mutex;
  std::condition_variable work_cv;
  bool stopping = false, work_now = false;
  auto wake_worker = [&] {
    std::lock_guard lock(work_mutex);
    work_now = true;
    work_cv.notify_all();
  };
  auto metrics = std::make_shared<http::Metrics>();
  http::Router router;
  const http::ServiceRoutes routes{service,    responder, hub,
                                   metrics,    *token,    o.test_clock ? &manual_clock : nullptr,
                                   wake_worker};
  // An OCSP node serves what relying parties fetch (OCSP, CRL, CA
  // certificates, health, metrics) and nothing that changes state.
  if (ocsp_only) {
    http::add_public_routes(router, routes);
  } else {
    http::add_service_routes(router, routes);
  }
  options.address = listen->first;
  options.port = listen->second;
  options.threads = static_cast<unsigned>(config.server.threads);
  // A service node's handlers wait for durable commits (fsync): with one
  // thread per core the core idles meanwhile and a commit group rarely holds
  // more than one change. Four per core let the others sign ahead and join
  // the group (bench/README: about half the COMMITs per device change). An
  // OCSP node never waits on the disk: one per core.
  options.threads_per_core = ocsp_only ? 1 : 4;
  options.metrics = metrics;
  options.access_log = config.server.access_log;
  auto server = http::Server::start(std::move(router), options);
  if (!server) return report(server.error(), g);

  // Step 4: background work — waiting applications, OCSP refresh (service
  // nodes only: an OCSP node reads the refreshed answers from the store).
  std::thread worker;
  if (!ocsp_only)
    worker = std::thread([&] {
      auto last_refresh = std::chrono::steady_clock::now() - std::chrono::hours(1);
      std::unique_lock lock(work_mutex);
      while (!stopping) {
        lock.unlock();
        if (auto n = service.issue_due_applications(); !n)
          spdlog::error("issuing waiting applications: {}", n.error().message);
        else if (*n > 0)
          spdlog::info("issued {} waiting application(s)", *n);
        if (std::chrono::steady_clock::now() - last_refresh > std::chrono::minutes(1)) {
          if (auto n = service.refresh_ocsp(); !n)
            spdlog::error("refreshing OCSP: {}", n.error().message);
          last_refresh = std::chrono::steady_clock::now();
        }
        lock.lock();
        work_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping || work_now; });
        work_now = false;
      }
    });

  spdlog::info("smacert serving on {} (role {}, {} threads, data {}, {} OCSP responses loaded{})",
               (*server)->url(), o.role, (*server)->threads(), data.string(), *loaded,
               o.test_clock ? ", test clock" : "");
  if (!g.json)
    std::cout << "smacert serving on " << (*server)->url() << std::endl;
  else
    print_json({{"url", (*server)->url()}, {"data", data.string()}});

  int sig = http::wait_for_shutdown_signal(**server);
  {
    std::lock_guard lock(work_mutex);
    stopping = true;
    work_cv.notify_all();
  }
  if (worker.joinable()) worker.join();
  spdlog::info("stopped by signal {}", sig);
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, GlobalOptions& g, int& result) {
  auto o = std::make_shared<ServeOptions>();
  auto* serve_cmd = add_command(
      app, "serve", "Run the service (CA, registration, push, OCSP, CRL) on SQLite or PostgreSQL",
      result, [&g, o] { return serve(g, *o); });
  serve_cmd->add_option("--config", o->config, "TOML configuration file (docs/configuration.md)")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--data", o->data, "Data folder: store.db, ca/, push.key, admin.token")
      ->capture_default_str();
  serve_cmd->add_option("--store", o->store,
                        "sqlite:PATH or postgresql://USER@HOST:PORT/DB (default: DATA/store.db; "
                        "overrides store.url)");
  serve_cmd->add_option("--listen", o->listen,
                        "HOST:PORT (default 127.0.0.1:8700; port 0 = any free)");
  serve_cmd
      ->add_option("--role", o->role,
                   "service (everything), or ocsp: only OCSP, CRL, CA certificates, health and "
                   "metrics, following a shared PostgreSQL store")
      ->check(CLI::IsMember({"service", "ocsp"}))
      ->capture_default_str();
  serve_cmd->add_flag("--test-clock", o->test_clock,
                      "Start a movable clock and add POST /admin/v1/clock (tests only)");
}

}  // namespace smacert::cli
