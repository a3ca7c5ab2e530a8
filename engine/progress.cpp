#include "engine/progress.hpp"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace pwas::engine {
namespace {

std::string duration(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const auto t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}h{:02d}m", t / 3600, (t / 60) % 60) : fmt::format("{}m{:02d}s", t / 60, t % 60);
}

}  // namespace

ProgressReporter::ProgressReporter(RunLog* log, bool terminal, double interval_s)
    : log_(log), terminal_(terminal), interval_s_(interval_s) {}

ProgressReporter::~ProgressReporter() { end(); }

void ProgressReporter::begin(const std::string& label, std::int64_t total, std::int64_t already,
                             const CheckpointStore* store) {
  end();
  label_ = label;
  total_ = total;
  already_ = already;
  store_ = store;
  start_ = std::chrono::steady_clock::now();
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void ProgressReporter::end() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!running_.exchange(false)) return;
  }
  wake_.notify_all();   // the thread returns now, not at its next 100 ms tick (that wait ended every run)
  thread_.join();
  report(true);
}

void ProgressReporter::loop() {
  const double tick = terminal_ ? 0.5 : interval_s_;
  auto last = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  while (running_) {
    if (wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return !running_; })) break;
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last).count() < tick) continue;
    last = now;
    report(false);
  }
}

void ProgressReporter::report(bool final) {
  const std::int64_t done = std::min(total_, store_ ? store_->count_done() : 0);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done - already_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  if (terminal_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(frac * kWidth);
    std::fprintf(stderr, "\r%s [%s%s] %lld/%lld proteins  %.1f/s  ETA %s   ", label_.c_str(),
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(), static_cast<long long>(done),
                 static_cast<long long>(total_), rate, duration(eta).c_str());
    if (final) std::fputc('\n', stderr);
    std::fflush(stderr);
  } else if (log_ && !final) {
    log_->line(fmt::format("progress {}: {}/{} proteins ({:.0f}%), {:.1f}/s, ETA {}", label_, done, total_, 100 * frac,
                           rate, duration(eta)));
  }
}

}  // namespace pwas::engine
