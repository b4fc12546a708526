// Request counters and latency histograms per route, in the Prometheus text
// exposition format (version 0.0.4). Routes get a fixed slot before serving;
// the request path only touches relaxed atomics.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace smacert::http {

class Metrics {
 public:
  // Upper bounds in seconds ("le"), Prometheus-style; +Inf is implicit.
  static constexpr std::array<double, 14> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  explicit Metrics(std::size_t max_routes = 128);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The slot for a route name, created on first use. Slots past max_routes
  // share one "other" slot. Call before serving (takes a lock).
  std::size_t slot(std::string_view route_name);

  // One answered request. Lock-free; any thread.
  void observe(std::size_t slot, int status, std::chrono::nanoseconds elapsed) noexcept;

  void connection_opened() noexcept { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() noexcept { open_connections_.fetch_sub(1, std::memory_order_relaxed); }

  std::string prometheus_text() const;

  // Reading back, for tests and health checks.
  std::uint64_t requests(std::string_view route_name, int status) const;
  std::uint64_t requests(std::string_view route_name) const;

 private:
  struct RouteStats;
  const RouteStats* find(std::string_view route_name) const;

  std::size_t capacity_;
  std::unique_ptr<RouteStats[]> stats_;
  mutable std::mutex names_mutex_;  // guards registration only
  std::atomic<std::size_t> used_{0};
  std::atomic<std::int64_t> open_connections_{0};
};

}  // namespace smacert::http
