#pragma once
// The survival parts of a run config: top-level [[survival]] derivations and a Cox analysis' outcome, strata,
// ties and score screen. See configs/README.md.
#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "io/config.hpp"

namespace pwas::io {

/// Parses the top-level `[[survival]]` array (`node` may be null: none); throws InputError at file:line:column.
std::vector<SurvivalDerivation> parse_survival_tables(const std::string& file, const toml::node* node);

/// Parses a Cox analysis' `outcome`: one or a list of `[[survival]]` names and `{ time = "...", event = "..." }`
/// tables; records column locations in `where`.
std::vector<SurvivalOutcome> parse_survival_outcomes(const std::string& file, const toml::node& n,
                                                     const std::vector<SurvivalDerivation>& derivations,
                                                     std::map<std::string, std::string>& where);

/// Reads `ties`, `strata` and `score_screen_p` of an analysis table into `a`; refuses them unless `a` is Cox.
void parse_cox_options(const std::string& file, const toml::table& t, AnalysisConfig& a);

}  // namespace pwas::io
