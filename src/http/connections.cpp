#include "http/connections.h"

#include <vector>

namespace smacert::http::detail {

std::optional<std::uint64_t> Connections::add(std::weak_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  if (stopping_) return std::nullopt;
  const auto id = next_id_++;
  live_.emplace(id, std::move(connection));
  return id;
}

void Connections::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  live_.erase(id);
  if (live_.empty()) empty_.notify_all();
}

void Connections::stop_all() {
  std::vector<std::weak_ptr<Connection>> targets;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    targets.reserve(live_.size());
    for (const auto& [id, c] : live_) targets.push_back(c);
  }
  for (const auto& weak : targets) {
    if (auto c = weak.lock()) c->stop();
  }
}

bool Connections::wait_until_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return empty_.wait_until(lock, deadline, [&] { return live_.empty(); });
}

std::size_t Connections::size() const {
  std::lock_guard lock(mutex_);
  return live_.size();
}

}  // namespace smacert::http::detail
