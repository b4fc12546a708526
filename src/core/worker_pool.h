// A fixed set of threads that run jobs for callers who wait for them.
//
// The service hands its signing ahead (Service::presign_application, ~1.5 ms
// of RSA per device change) to one of these, sized to the cores, instead of
// signing on the request's own thread. The request threads then spend their
// time in short runs (parsing, the store's writer, waiting for the sync), and
// the scheduler, which favours threads that have run little, gives a request
// holding the store's single writer its core back at once; when every
// request thread also signed, the writer's holder was descheduled
// mid-transaction behind other signers and the writers queued behind it
// (bench/README.md, "Two cores").
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace smacert {

// The cores this process may run on: under `taskset -c 0` or a container's
// CPU set that is fewer than the machine's cores.
unsigned usable_cores();

class WorkerPool {
 public:
  // `threads` 0 runs every job on the caller's thread.
  explicit WorkerPool(unsigned threads);
  // Runs the jobs already queued, then joins the threads.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

  // Runs `job` on one of the pool's threads and returns what it returns;
  // the caller waits, so the job may capture the caller's locals by
  // reference. An exception the job throws is rethrown here.
  template <class F>
  std::invoke_result_t<F&> run(F job) {
    if (threads_.empty()) return job();
    // Shared with the queued function: the worker may still be returning
    // from the task when the caller has its result and leaves.
    auto task = std::make_shared<std::packaged_task<std::invoke_result_t<F&>()>>(std::move(job));
    auto result = task->get_future();
    post([task] { (*task)(); });
    return result.get();
  }

 private:
  void post(std::function<void()> job);
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace smacert
