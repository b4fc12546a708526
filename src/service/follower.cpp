#include "service/follower.h"

#include <algorithm>

namespace smacert::service {

namespace {
// The feed is waited on in slices this long, so a stop is noticed quickly.
constexpr std::chrono::milliseconds kSlice{250};
}  // namespace

Result<std::unique_ptr<StoreFollower>> StoreFollower::start(Service& service, store::Store& store,
                                                            std::chrono::milliseconds poll,
                                                            OnError on_error) {
  auto feed = store.change_feed();
  if (!feed) return fail(feed.error());
  if (!*feed) return std::unique_ptr<StoreFollower>();
  if (auto first = service.follow_store(); !first) return fail(first.error());
  return std::unique_ptr<StoreFollower>(
      new StoreFollower(service, std::move(*feed), poll, std::move(on_error)));
}

StoreFollower::StoreFollower(Service& service, std::unique_ptr<store::ChangeFeed> feed,
                             std::chrono::milliseconds poll, OnError on_error)
    : service_(service),
      feed_(std::move(feed)),
      poll_(poll),
      on_error_(std::move(on_error)),
      thread_([this] { run(); }) {}

StoreFollower::~StoreFollower() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void StoreFollower::run() {
  auto last_catch_up = std::chrono::steady_clock::now();
  bool failing = false;  // report a failure once, not on every slice
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    auto heard = feed_->wait(std::min(kSlice, poll_));
    if (!heard) {
      if (!failing && on_error_) on_error_(heard.error());
      failing = true;
      continue;
    }
    if (!*heard && std::chrono::steady_clock::now() - last_catch_up < poll_) continue;
    auto followed = service_.follow_store();
    if (!followed) {
      if (!failing && on_error_) on_error_(followed.error());
      failing = true;
      continue;
    }
    failing = false;
    last_catch_up = std::chrono::steady_clock::now();
  }
}

}  // namespace smacert::service
