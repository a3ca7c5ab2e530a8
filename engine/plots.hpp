#pragma once
// Volcano and QQ plots of one analysis as self-contained SVG text.
#include <string>
#include <vector>

#include "io/results.hpp"

namespace pwas::engine {

/// Volcano plot: effect (log OR or beta) against -log10 P, one colour per outcome, Bonferroni line at p_threshold.
std::string volcano_svg(const io::ResultTable& t, double p_threshold);

/// QQ plot of -log10 P against the uniform expectation with a 95% band, one series per outcome, lambda_GC in the legend.
std::string qq_svg(const io::ResultTable& t);

}  // namespace pwas::engine
