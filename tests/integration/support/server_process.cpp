#include "integration/support/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "store/pg.h"
#include "support/temp_dir.h"

namespace smacert::integration {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits for the child to end, up to `limit`; its wait status, or nullopt.
std::optional<int> reap(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return std::nullopt;
    if (Clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// One folder per test binary whose CA keys, push key and admin token seed
// every other data folder.
const fs::path& template_folder() {
  static smacert::testing::TempDir dir("it-template");
  static std::once_flag once;
  std::call_once(once, [] {
    ServerOptions options;
    options.seed_from_template = false;
    ServerProcess p(dir.path() / "data", options);
    auto started = p.start();
    if (!started) {
      ADD_FAILURE() << "template server: " << started.message();
      return;
    }
    // Only the files matter here; the exit code has tests of its own.
    p.terminate();
    if (!fs::exists(dir.path() / "data" / "ca" / "sign" / "ca.pem"))
      ADD_FAILURE() << "the template server made no CA:\n" << p.log();
  });
  return dir.path();
}

// A database named after the data folder on the test PostgreSQL, created if
// missing; its postgresql:// URL.
std::string pg_database_for(const fs::path& data) {
  char name[40];
  std::snprintf(name, sizeof name, "it_%016zx", std::hash<std::string>{}(data.string()));
  auto admin = store::pg::Connection::open(test_pg_conninfo());
  if (!admin) {
    ADD_FAILURE() << admin.error().message;
    return "";
  }
  auto exists =
      admin->run("SELECT 1 FROM pg_database WHERE datname = $1", store::pg::Params().text(name));
  if (!exists) {
    ADD_FAILURE() << exists.error().error.message;
    return "";
  }
  if (exists->empty()) {
    // A name made of [a-z0-9_] above: safe as an identifier.
    if (auto made = admin->script(std::string("CREATE DATABASE ") + name + " TEMPLATE template0");
        !made)
      ADD_FAILURE() << made.error().error.message;
  }
  // The server connects over TCP to the host and port of the conninfo.
  std::string host = "127.0.0.1", port = "5432", user = "postgres";
  char* err = nullptr;
  if (PQconninfoOption* opts = PQconninfoParse(test_pg_conninfo().c_str(), &err)) {
    for (auto* o = opts; o->keyword; ++o) {
      if (!o->val) continue;
      if (std::string_view(o->keyword) == "host") host = o->val;
      if (std::string_view(o->keyword) == "port") port = o->val;
      if (std::string_view(o->keyword) == "user") user = o->val;
    }
    PQconninfoFree(opts);
  }
  PQfreemem(err);
  return "postgresql://" + user + "@" + host + ":" + port + "/" + name;
}

}  // namespace

std::string test_pg_conninfo() {
  const char* c = std::getenv("SMACERT_TEST_PG");
  return c ? c : "";
}

std::string ServerProcess::store_url() const {
  if (!options_.store_url.empty()) return options_.store_url;
  if (test_pg_conninfo().empty()) return "sqlite:" + (data_ / "store.db").string();
  return pg_database_for(data_);
}

ServerProcess::ServerProcess(fs::path data, ServerOptions options)
    : data_(std::move(data)), options_(std::move(options)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill9();
}

std::string ServerProcess::binary() {
  const char* bin = std::getenv("SMACERT_BIN");
  return bin ? bin : "";
}

std::uint16_t ServerProcess::free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string ServerProcess::admin_token() const {
  std::string t = read_text(data_ / "admin.token");
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

std::string ServerProcess::log() const {
  return read_text(data_.string() + ".log");
}

void ServerProcess::seed_from_template() {
  if (fs::exists(data_ / "ca")) return;
  fs::path tpl = template_folder() / "data";
  fs::create_directories(data_);
  fs::permissions(data_, fs::perms::owner_all, fs::perm_options::replace);
  fs::copy(tpl / "ca", data_ / "ca", fs::copy_options::recursive);
  fs::copy_file(tpl / "push.key", data_ / "push.key");
  fs::copy_file(tpl / "admin.token", data_ / "admin.token");
}

::testing::AssertionResult ServerProcess::start() {
  if (pid_ > 0) return ::testing::AssertionFailure() << "already running";
  if (binary().empty())
    return ::testing::AssertionFailure() << "SMACERT_BIN is not set (run through ctest)";
  if (options_.seed_from_template) seed_from_template();
  std::vector<std::string> args{binary(),   "serve",
                                "--data",   data_.string(),
                                "--listen", "127.0.0.1:" + std::to_string(options_.port)};
  if (!options_.config_toml.empty()) {
    fs::path config = data_.string() + ".toml";
    std::ofstream(config) << options_.config_toml;
    args.push_back("--config");
    args.push_back(config.string());
  }
  if (options_.test_clock) args.push_back("--test-clock");
  if (!options_.store_url.empty() || !test_pg_conninfo().empty()) {
    args.push_back("--store");
    args.push_back(store_url());
  }

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ::testing::AssertionFailure() << "pipe failed";
  std::string log_file = data_.string() + ".log";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    int err = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (pid < 0) {
    ::close(out[0]);
    return ::testing::AssertionFailure() << "fork failed";
  }
  pid_ = pid;
  stdout_fd_ = out[0];

  // The URL line, within a deadline (first start makes RSA keys).
  const std::string kPrefix = "smacert serving on ";
  std::string buffer;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    auto nl = buffer.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      if (line.rfind(kPrefix, 0) == 0) {
        url_ = line.substr(kPrefix.size());
        port_ = static_cast<std::uint16_t>(std::stoi(url_.substr(url_.rfind(':') + 1)));
        return ::testing::AssertionSuccess();
      }
      continue;
    }
    pollfd p{stdout_fd_, POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    if (n > 0) {
      char chunk[512];
      ssize_t got = ::read(stdout_fd_, chunk, sizeof chunk);
      if (got <= 0) break;  // the child closed stdout: it exited
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
  }
  kill9();
  return ::testing::AssertionFailure()
         << "smacert serve did not print its URL; stdout: " << buffer << "\nlog:\n"
         << log();
}

int ServerProcess::terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto status = reap(pid_, std::chrono::seconds(20));
  if (!status) {
    kill9();
    return -1;
  }
  pid_ = -1;
  ::close(stdout_fd_);
  stdout_fd_ = -1;
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

void ServerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  reap(pid_, std::chrono::seconds(20));
  pid_ = -1;
  ::close(stdout_fd_);
  stdout_fd_ = -1;
}

}  // namespace smacert::integration
