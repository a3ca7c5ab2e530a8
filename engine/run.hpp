#pragma once
// `pwas run CONFIG.toml`: every analysis of a config, across MPI ranks and OpenMP threads.
#include <string>

#include "engine/comm.hpp"

namespace pwas::engine {

struct RunOptions {
  std::string config;
  std::string out;        // overrides the config's `out`
  std::string cohort;     // overrides the config's `cohort`
  int threads = 0;        // overrides the config's `threads` (0 = keep)
  bool force = false;     // allow an output folder that already holds files (and drop its checkpoint)
  bool resume = false;    // complete an interrupted run from its checkpoint
  bool quiet = false;     // no echo of the log on stderr
  std::string command_line;
};

/// Runs the config; rank 0 writes <out>/<analysis>.tsv, results.h5, plots and run.log. Returns 0, or
/// kExitCheckpointed when a stop signal ended the run early. Throws InputError on bad input (the caller aborts
/// every rank).
int run_config(const RunOptions& opt, Comm& comm);

}  // namespace pwas::engine
