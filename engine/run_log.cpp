#include "engine/run_log.hpp"

#include <chrono>
#include <ctime>

#include "io/error.hpp"

namespace pwas::engine {

RunLog::RunLog(const std::string& path, bool echo, bool append) : echo_(echo) {
  if (path.empty()) return;
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  if (!file_) throw InputError(fmt::format("{}: cannot open the run log for writing", path));
}

RunLog::~RunLog() {
  if (file_) std::fclose(file_);
}

void RunLog::line(const std::string& text) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::lock_guard<std::mutex> lock(mutex_);
  if (file_) {
    std::fprintf(file_, "[%s] %s\n", stamp, text.c_str());
    std::fflush(file_);
  }
  if (echo_) std::fprintf(stderr, "[%s] %s\n", stamp, text.c_str());
}

}  // namespace pwas::engine
