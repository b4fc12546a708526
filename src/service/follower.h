// A node that shares its store with other nodes (PostgreSQL) keeps its
// memory — pre-signed OCSP answers, CRLs, push streams — in step with what
// they commit: a thread waits on the store's change feed (LISTEN/NOTIFY) and
// calls Service::follow_store() when it fires, and at least every `poll`, in
// case a notification was lost. A store only this process writes (SQLite)
// has no feed, and start() returns nullptr: there is nothing to follow.
//
// An OCSP-only node (a later `--role ocsp`) needs exactly this and the
// responder, without the rest of the service.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "service/service.h"

namespace smacert::service {

class StoreFollower {
 public:
  using OnError = std::function<void(const Error&)>;

  // Catches up once before it returns (so that from then on commit() reads
  // its own changes back in commit order), then follows in the background.
  static Result<std::unique_ptr<StoreFollower>> start(Service& service, store::Store& store,
                                                      std::chrono::milliseconds poll,
                                                      OnError on_error);
  ~StoreFollower();  // stops and joins the thread
  StoreFollower(const StoreFollower&) = delete;
  StoreFollower& operator=(const StoreFollower&) = delete;

 private:
  StoreFollower(Service& service, std::unique_ptr<store::ChangeFeed> feed,
                std::chrono::milliseconds poll, OnError on_error);
  void run();

  Service& service_;
  std::unique_ptr<store::ChangeFeed> feed_;
  std::chrono::milliseconds poll_;
  OnError on_error_;
  std::mutex mutex_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace smacert::service
