// The server's live connections, so that stop() can reach each of them and
// wait for them to finish. Internal to src/http.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace smacert::http::detail {

class Connection {
 public:
  virtual ~Connection() = default;
  // Any thread. Asks the connection to finish its current request and close.
  virtual void stop() = 0;
};

class Connections {
 public:
  // nullopt once stopping (the caller then closes its socket).
  std::optional<std::uint64_t> add(std::weak_ptr<Connection> connection);
  void remove(std::uint64_t id);

  void stop_all();
  bool wait_until_empty(std::chrono::steady_clock::time_point deadline);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable empty_;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> live_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
};

}  // namespace smacert::http::detail
