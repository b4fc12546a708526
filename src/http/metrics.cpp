#include "http/metrics.h"

#include <cstdio>

namespace smacert::http {

namespace {
constexpr int kMinStatus = 100;
constexpr int kMaxStatus = 599;
constexpr std::size_t kStatusCount = kMaxStatus - kMinStatus + 1;

// Prometheus label values escape backslash, double quote and line feed.
void append_label(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", s);
  return buf;
}
}  // namespace

struct Metrics::RouteStats {
  std::string name;  // written once, before used_ publishes the slot
  std::array<std::atomic<std::uint64_t>, kStatusCount> by_status{};
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // last: +Inf
  std::atomic<std::uint64_t> sum_ns{0};
};

Metrics::Metrics(std::size_t max_routes)
    : capacity_(max_routes + 1), stats_(std::make_unique<RouteStats[]>(capacity_)) {
  stats_[0].name = "other";
  used_.store(1, std::memory_order_release);
}

Metrics::~Metrics() = default;

std::size_t Metrics::slot(std::string_view route_name) {
  std::lock_guard lock(names_mutex_);
  const std::size_t used = used_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < used; ++i) {
    if (stats_[i].name == route_name) return i;
  }
  if (used == capacity_) return 0;
  stats_[used].name = std::string(route_name);
  used_.store(used + 1, std::memory_order_release);
  return used;
}

void Metrics::observe(std::size_t slot, int status, std::chrono::nanoseconds elapsed) noexcept {
  if (slot >= used_.load(std::memory_order_acquire)) slot = 0;
  auto& s = stats_[slot];
  if (status < kMinStatus || status > kMaxStatus) status = 500;
  s.by_status[static_cast<std::size_t>(status - kMinStatus)].fetch_add(1,
                                                                       std::memory_order_relaxed);
  const double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  s.buckets[b].fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<std::uint64_t>(elapsed.count() < 0 ? 0 : elapsed.count()),
                     std::memory_order_relaxed);
}

std::string Metrics::prometheus_text() const {
  const std::size_t used = used_.load(std::memory_order_acquire);
  std::string out;
  out.reserve(4096);
  out +=
      "# HELP smacert_http_requests_total HTTP requests answered, by route and status code.\n"
      "# TYPE smacert_http_requests_total counter\n";
  for (std::size_t i = 0; i < used; ++i) {
    const auto& s = stats_[i];
    for (std::size_t c = 0; c < kStatusCount; ++c) {
      const auto n = s.by_status[c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "smacert_http_requests_total{route=\"";
      append_label(out, s.name);
      out += "\",code=\"" + std::to_string(c + kMinStatus) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out +=
      "# HELP smacert_http_request_duration_seconds Time from a request's header to its answer.\n"
      "# TYPE smacert_http_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i < used; ++i) {
    const auto& s = stats_[i];
    std::array<std::uint64_t, kBuckets.size() + 1> counts{};
    std::uint64_t total = 0;
    for (std::size_t b = 0; b < counts.size(); ++b) {
      counts[b] = s.buckets[b].load(std::memory_order_relaxed);
      total += counts[b];
    }
    if (total == 0) continue;
    std::string label;
    append_label(label, s.name);
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < counts.size(); ++b) {
      cumulative += counts[b];
      out += "smacert_http_request_duration_seconds_bucket{route=\"" + label + "\",le=\"";
      out += b < kBuckets.size() ? format_seconds(kBuckets[b]) : std::string("+Inf");
      out += "\"} " + std::to_string(cumulative) + "\n";
    }
    const double sum = static_cast<double>(s.sum_ns.load(std::memory_order_relaxed)) / 1e9;
    out += "smacert_http_request_duration_seconds_sum{route=\"" + label + "\"} " +
           format_seconds(sum) + "\n";
    out += "smacert_http_request_duration_seconds_count{route=\"" + label + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out +=
      "# HELP smacert_http_open_connections Client connections open now.\n"
      "# TYPE smacert_http_open_connections gauge\n"
      "smacert_http_open_connections " +
      std::to_string(open_connections_.load(std::memory_order_relaxed)) + "\n";
  return out;
}

const Metrics::RouteStats* Metrics::find(std::string_view route_name) const {
  const std::size_t used = used_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < used; ++i) {
    if (stats_[i].name == route_name) return &stats_[i];
  }
  return nullptr;
}

std::uint64_t Metrics::requests(std::string_view route_name, int status) const {
  const auto* s = find(route_name);
  if (!s || status < kMinStatus || status > kMaxStatus) return 0;
  return s->by_status[static_cast<std::size_t>(status - kMinStatus)].load(
      std::memory_order_relaxed);
}

std::uint64_t Metrics::requests(std::string_view route_name) const {
  const auto* s = find(route_name);
  if (!s) return 0;
  std::uint64_t total = 0;
  for (const auto& c : s->by_status) total += c.load(std::memory_order_relaxed);
  return total;
}

}  // namespace smacert::http
