// A thread-safe "something changed" notifier for Server-Sent Event streams.
// A publisher calls notify(topic) after committing new events; every stream
// subscribed to that topic wakes and fetches. It carries no data: the stream
// fetches from the source of truth, so a missed wake-up costs latency, never
// an event.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace smacert::http {

class Hub {
  struct State;

 public:
  Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Unsubscribes when destroyed; after that the wake function is never
  // called again (destruction waits for a notify() that is calling it).
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription();
    void reset();

   private:
    friend class Hub;
    Subscription(std::weak_ptr<State> hub, std::string topic, std::uint64_t id);
    std::weak_ptr<State> hub_;
    std::string topic_;
    std::uint64_t id_ = 0;
  };

  // wake must be quick and must not call back into the hub (it runs under
  // the hub's lock); the server's streams only post to their executor.
  Subscription subscribe(std::string topic, std::function<void()> wake);

  void notify(std::string_view topic) const;
  void notify_all() const;

  std::size_t subscribers(std::string_view topic) const;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace smacert::http
