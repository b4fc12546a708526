#include "http/hub.h"

#include <map>
#include <mutex>
#include <unordered_map>

namespace smacert::http {

struct Hub::State {
  mutable std::mutex mutex;
  std::uint64_t next_id = 1;
  std::map<std::string, std::unordered_map<std::uint64_t, std::function<void()>>, std::less<>>
      topics;

  void remove(const std::string& topic, std::uint64_t id) {
    std::lock_guard lock(mutex);
    auto it = topics.find(topic);
    if (it == topics.end()) return;
    it->second.erase(id);
    if (it->second.empty()) topics.erase(it);
  }
};

Hub::Hub() : state_(std::make_shared<State>()) {}

Hub::Subscription::Subscription(std::weak_ptr<State> hub, std::string topic, std::uint64_t id)
    : hub_(std::move(hub)), topic_(std::move(topic)), id_(id) {}

Hub::Subscription::Subscription(Subscription&& other) noexcept
    : hub_(std::move(other.hub_)), topic_(std::move(other.topic_)), id_(other.id_) {
  other.id_ = 0;
}

Hub::Subscription& Hub::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    hub_ = std::move(other.hub_);
    topic_ = std::move(other.topic_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

Hub::Subscription::~Subscription() {
  reset();
}

void Hub::Subscription::reset() {
  if (id_ == 0) return;
  if (auto hub = hub_.lock()) hub->remove(topic_, id_);
  hub_.reset();
  id_ = 0;
}

Hub::Subscription Hub::subscribe(std::string topic, std::function<void()> wake) {
  std::lock_guard lock(state_->mutex);
  const auto id = state_->next_id++;
  state_->topics[topic].emplace(id, std::move(wake));
  return Subscription(state_, std::move(topic), id);
}

void Hub::notify(std::string_view topic) const {
  // Called under the lock so that a Subscription destroyed after this
  // returns, or before it starts, is never woken (its owner may be gone).
  std::lock_guard lock(state_->mutex);
  auto it = state_->topics.find(topic);
  if (it == state_->topics.end()) return;
  for (const auto& [id, wake] : it->second) wake();
}

void Hub::notify_all() const {
  std::lock_guard lock(state_->mutex);
  for (const auto& [topic, subscribers] : state_->topics) {
    for (const auto& [id, wake] : subscribers) wake();
  }
}

std::size_t Hub::subscribers(std::string_view topic) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->topics.find(topic);
  return it == state_->topics.end() ? 0 : it->second.size();
}

}  // namespace smacert::http
