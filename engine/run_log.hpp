#pragma once
// run.log: timestamped lines written as they happen (rank 0 only), echoed to stderr unless quiet.
#include <cstdio>
#include <mutex>
#include <string>

#include <fmt/format.h>

namespace pwas::engine {

class RunLog {
 public:
  /// Opens `path` for writing, or appending (a resumed run); empty path: stderr only; `echo` copies lines to stderr.
  RunLog(const std::string& path, bool echo, bool append = false);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  /// Writes one timestamped line (thread-safe).
  void line(const std::string& text);
  template <typename... Args>
  void operator()(fmt::format_string<Args...> f, Args&&... args) {
    line(fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  std::mutex mutex_;   // the progress thread writes too
  std::FILE* file_ = nullptr;
  bool echo_ = true;
};

}  // namespace pwas::engine
