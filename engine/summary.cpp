#include "engine/summary.hpp"
namespace pwas::engine { std::string summarize(const SummaryOptions&) { return ""; } }
