#pragma once
// `pwas summary`: hits per analysis and outcome at the Bonferroni threshold, and recovery of planted effects.
#include <string>

namespace pwas::engine {

struct SummaryOptions {
  std::string results;   // a `pwas run` output folder
  std::string truth;     // optional truth.tsv from `pwas simulate`
};

/// The summary as printable text; throws InputError on unreadable files.
std::string summarize(const SummaryOptions& opt);

}  // namespace pwas::engine
