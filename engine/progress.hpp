#pragma once
// Rank 0's view of the whole job's progress: proteins done across all ranks (counted from the checkpoint blocks
// every rank writes), rate and ETA. A bar on a terminal; a log line every few seconds in batch jobs.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "engine/checkpoint.hpp"
#include "engine/run_log.hpp"

namespace pwas::engine {

class ProgressReporter {
 public:
  /// `terminal`: draw a bar on stderr; otherwise write a line to `log` every `interval_s` seconds.
  ProgressReporter(RunLog* log, bool terminal, double interval_s);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;
  /// Starts watching `store` for an analysis of `total` proteins of which `already` were done before this run.
  void begin(const std::string& label, std::int64_t total, std::int64_t already, const CheckpointStore* store);
  /// Stops watching (draws the final state).
  void end();

 private:
  void loop();
  void report(bool final);

  RunLog* log_;
  bool terminal_;
  double interval_s_;
  std::string label_;
  std::int64_t total_ = 0, already_ = 0;
  const CheckpointStore* store_ = nullptr;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> running_{false};
  std::mutex mutex_;                 // with wake_: end() wakes the thread at once instead of after its next tick
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace pwas::engine
