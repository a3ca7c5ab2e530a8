#pragma once
// Completed protein blocks of a run, one small file per block under <out>/.pwas-checkpoint/<analysis>/, written
// atomically by the rank that fitted them. A resumed run (any number of ranks) skips the proteins found there and
// merges their rows, so its outputs are byte-identical to an uninterrupted run. Rank 0's progress display counts
// the same files.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/reducer.hpp"

namespace pwas::engine {

class CheckpointStore {
 public:
  /// The store of analysis `analysis` under output folder `out`.
  CheckpointStore(const std::string& out, const std::string& analysis);
  /// Saves one fitted block: per_plan[p] holds the rows of the block's proteins (cohort indices `proteins`).
  /// `replicate_max`: the block's max-T maxima per permutation (empty without max_t).
  void save_block(const std::vector<std::vector<ProteinRows>>& per_plan, const std::vector<std::int64_t>& proteins,
                  const std::vector<std::int64_t>& qc_dropped, const std::vector<double>& replicate_max = {}) const;
  /// Everything saved so far, merged (rows of each plan, QC drops); `done` lists the proteins covered.
  RankOutput load(std::size_t n_plans, std::set<std::int64_t>& done) const;
  /// Number of proteins in saved blocks (cheap: read from file names).
  std::int64_t count_done() const;
  /// Removes this analysis' blocks.
  void clear() const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

/// The checkpoint root of an output folder (removed once every output is written).
std::string checkpoint_root(const std::string& out);

/// Every process of a run holds a shared lock on <out>/.pwas-lock for the run's duration, so a new run (a
/// resume above all) can tell that processes of an earlier attempt are still writing checkpoint blocks: ranks a
/// launcher told to stop finish their current block first. flock(2): local file systems and NFSv4.
class RunLock {
 public:
  /// Takes the shared lock; with `exclusive_first`, first waits up to `wait_s` seconds for an exclusive lock
  /// (no other run's process left) and throws InputError if it cannot get one.
  RunLock(const std::string& out, bool exclusive_first, double wait_s);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace pwas::engine
