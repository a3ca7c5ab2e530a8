#pragma once
// run.log: timestamped lines written as they happen (rank 0 only), echoed to stderr unless quiet.
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace pwas::engine {

class RunLog {
 public:
  /// Opens `path` for writing (empty path: stderr only); `echo` copies lines to stderr.
  RunLog(const std::string& path, bool echo);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;
  /// Writes one timestamped line.
  void line(const std::string& text);
  template <typename... Args>
  void operator()(fmt::format_string<Args...> f, Args&&... args) {
    line(fmt::format(f, std::forward<Args>(args)...));
  }

 private:
  std::FILE* file_ = nullptr;
  bool echo_ = true;
};

}  // namespace pwas::engine
