#pragma once
#include <cstdint>
#include <string_view>

namespace pwas::kernels {

/// Why one fit produced no usable estimate; kOk when it did. Written as ERRCODE in result rows.
enum class FitStatus : std::uint8_t {
  kOk,
  kSingular,       // design rank-deficient on this fit's rows (predictor or a covariate aliased)
  kNotConverged,   // iterative fit hit its iteration limit
  kSeparation,     // logistic: (quasi-)complete separation, MLE does not exist
  kTooFewCases,    // too few rows for the number of columns, or a binary outcome with one class
  kConstant,       // the predictor (or outcome) is constant on this fit's rows
  kScreenedOut,    // Cox with a score screen: the null model's score test did not pass, no full fit
};

/// The ERRCODE spelling of a status: OK, SINGULAR, NOT_CONVERGED, SEPARATION, TOO_FEW_CASES, CONSTANT, SCREENED_OUT.
constexpr std::string_view to_string(FitStatus s) {
  switch (s) {
    case FitStatus::kOk: return "OK";
    case FitStatus::kSingular: return "SINGULAR";
    case FitStatus::kNotConverged: return "NOT_CONVERGED";
    case FitStatus::kSeparation: return "SEPARATION";
    case FitStatus::kTooFewCases: return "TOO_FEW_CASES";
    case FitStatus::kConstant: return "CONSTANT";
    case FitStatus::kScreenedOut: return "SCREENED_OUT";
  }
  return "UNKNOWN";
}

}  // namespace pwas::kernels
