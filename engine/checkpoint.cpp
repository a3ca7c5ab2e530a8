#include "engine/checkpoint.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "io/error.hpp"

namespace pwas::engine {
namespace fs = std::filesystem;

std::string checkpoint_root(const std::string& out) { return (fs::path(out) / ".pwas-checkpoint").string(); }

RunLock::RunLock(const std::string& out, bool exclusive_first, double wait_s) {
  const std::string path = (fs::path(out) / ".pwas-lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(fmt::format("{}: cannot open the run lock", path));
  if (exclusive_first) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_s);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::close(fd_);
        fd_ = -1;
        throw InputError(fmt::format("{}: processes of another pwas run still use this output folder", out));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ::flock(fd_, LOCK_SH);
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

CheckpointStore::CheckpointStore(const std::string& out, const std::string& analysis)
    : dir_((fs::path(checkpoint_root(out)) / analysis).string()) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw InputError(fmt::format("{}: cannot create checkpoint folder: {}", dir_, ec.message()));
}

void CheckpointStore::save_block(const std::vector<std::vector<ProteinRows>>& per_plan,
                                 const std::vector<std::int64_t>& proteins,
                                 const std::vector<std::int64_t>& qc_dropped,
                                 const std::vector<double>& replicate_max) const {
  if (proteins.empty() && qc_dropped.empty()) return;
  RankOutput block;
  block.per_plan = per_plan;
  block.qc_dropped = qc_dropped;
  block.replicate_max = replicate_max;
  // The file name carries the first protein and how many proteins the block covers (fitted + QC-dropped).
  const std::int64_t first = proteins.empty() ? qc_dropped.front() : std::min(proteins.front(), qc_dropped.empty() ? proteins.front() : qc_dropped.front());
  const auto n = static_cast<std::int64_t>(proteins.size() + qc_dropped.size());
  const std::vector<std::byte> bytes = pack(block);
  const std::string path = (fs::path(dir_) / fmt::format("b{:07d}_{}.bin", first, n)).string();
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(fmt::format("{}: cannot write checkpoint", tmp));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok) throw InputError(fmt::format("{}: checkpoint write failed", tmp));
  fs::rename(tmp, path);
}

RankOutput CheckpointStore::load(std::size_t n_plans, std::set<std::int64_t>& done) const {
  RankOutput all;
  all.per_plan.resize(n_plans);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir_))
    if (e.path().extension() == ".bin") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(raw.size());
    std::memcpy(bytes.data(), raw.data(), raw.size());
    RankOutput block = unpack(bytes, n_plans);
    for (std::size_t p = 0; p < n_plans; ++p)
      for (auto& pr : block.per_plan[p]) {
        done.insert(pr.protein);
        all.per_plan[p].push_back(std::move(pr));
      }
    for (auto q : block.qc_dropped) done.insert(q);
    all.qc_dropped.insert(all.qc_dropped.end(), block.qc_dropped.begin(), block.qc_dropped.end());
    merge_replicate_max(all.replicate_max, block.replicate_max);
  }
  return all;
}

std::int64_t CheckpointStore::count_done() const {
  std::int64_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->path().extension() != ".bin") continue;
    const auto us = name.find('_');
    if (us != std::string::npos) n += std::atoll(name.c_str() + us + 1);
  }
  return n;
}

void CheckpointStore::clear() const {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace pwas::engine
