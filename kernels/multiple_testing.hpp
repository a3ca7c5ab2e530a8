#pragma once
#include <span>
#include <vector>

namespace pwas::kernels {

/// Bonferroni-adjusted p: min(1, p * n_tests); NaN stays NaN.
std::vector<double> bonferroni(std::span<const double> p, double n_tests);

/// Benjamini-Hochberg q-values as R's p.adjust(p, "BH"): NaN entries are skipped and stay NaN,
/// n = number of non-NaN entries (or n_tests when given and larger).
std::vector<double> benjamini_hochberg(std::span<const double> p, double n_tests = 0.0);

/// Genomic-control inflation: median(chi2_1 from p) / qchisq(0.5, 1), over non-NaN p.
double genomic_inflation(std::span<const double> p);

}  // namespace pwas::kernels
