// The simulated assay catalogue: which assays exist, which carry planted exposure effects, which are
// below detection, and every assay's covariate effects, module, scale and missingness.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "engine/simulate_model.hpp"
#include "io/error.hpp"
#include "kernels/random_stream.hpp"

namespace pwas::engine::sim {

namespace {

using kernels::RandomStream;

/// A real Olink Explore assay with the role and the covariate effects the simulation gives it.
struct RealAssay {
  const char* symbol;
  const char* name;
  double or_isolation = 0.0;  // target OR per SD; 0: not planted
  double or_loneliness = 0.0;
  double age10 = 0.0;
  double male = 0.0;
  double bmi5 = 0.0;
  double smoking = 0.0;
};

// Planted assays, strongest first. GDF15 leads for isolation (study: OR 1.22 per SD); the first six are the
// proteins Mendelian randomisation linked to loneliness (GFRA1, ADM, FABP4, TNFRSF10A, ASGR1) plus GDF15.
// WFDC2, CXCL17, MMP12 and PLAUR carry smoking effects, GDF15 and EDA2R ageing effects, FABP4 and IL6 adiposity.
const RealAssay kPlanted[] = {
    {"GDF15", "Growth/differentiation factor 15", 1.22, 1.12, 0.45, 0.10, 0.05, 0.30},
    {"ADM", "Pro-adrenomedullin", 1.16, 1.18, 0.20, 0.0, 0.25, 0.0},
    {"FABP4", "Fatty acid-binding protein, adipocyte", 1.14, 1.16, 0.15, -0.50, 0.60, 0.0},
    {"ASGR1", "Asialoglycoprotein receptor 1", 1.12, 1.15},
    {"GFRA1", "GDNF family receptor alpha-1", 1.11, 1.15},
    {"TNFRSF10A", "Tumor necrosis factor receptor superfamily member 10A", 1.13, 1.14},
    {"WFDC2", "WAP four-disulfide core domain protein 2", 1.18, 0.0, 0.30, 0.0, 0.0, 0.45},
    {"CXCL17", "C-X-C motif chemokine 17", 1.17, 0.0, 0.0, 0.0, 0.0, 0.80},
    {"PLAUR", "Urokinase plasminogen activator surface receptor", 1.15, 0.0, 0.25, 0.0, 0.0, 0.30},
    {"EDA2R", "Tumor necrosis factor receptor superfamily member 27", 1.13, 0.0, 0.50},
    {"CDCP1", "CUB domain-containing protein 1", 1.12},
    {"MMP12", "Macrophage metalloelastase", 1.12, 0.0, 0.25, 0.0, 0.0, 0.35},
    {"TNFRSF10B", "Tumor necrosis factor receptor superfamily member 10B", 1.12},
    {"HAVCR1", "Hepatitis A virus cellular receptor 1", 1.11},
    {"IL6", "Interleukin-6", 1.10, 0.0, 0.10, 0.0, 0.20, 0.15},
};

// Low-abundance cytokines: many samples fall below the limit of detection (missing not at random).
const RealAssay kBelowDetection[] = {
    {"IL2", "Interleukin-2"},
    {"IL4", "Interleukin-4"},
    {"IL5", "Interleukin-5"},
    {"IL13", "Interleukin-13"},
    {"IL17A", "Interleukin-17A"},
    {"CSF2", "Granulocyte-macrophage colony-stimulating factor"},
    {"IL1B", "Interleukin-1 beta"},
    {"IL33", "Interleukin-33"},
    {"LIF", "Leukemia inhibitory factor"},
    {"IL1A", "Interleukin-1 alpha"},
};

// The three assays the study dropped for > 50% missing values.
const RealAssay kDropped[] = {
    {"GLIPR1", "Glioma pathogenesis-related protein 1"},
    {"NPM1", "Nucleophosmin"},
    {"PCOLCE", "Procollagen C-endopeptidase enhancer 1"},
};

// Other real assays, not planted; some with their well-known covariate effects.
const RealAssay kOther[] = {
    {"LEP", "Leptin", 0, 0, 0.05, -1.10, 0.90},
    {"NEFL", "Neurofilament light polypeptide", 0, 0, 0.55},
    {"GFAP", "Glial fibrillary acidic protein", 0, 0, 0.45},
    {"NPPB", "Natriuretic peptides B", 0, 0, 0.40, -0.20},
    {"CST3", "Cystatin-C", 0, 0, 0.40},
    {"B2M", "Beta-2-microglobulin", 0, 0, 0.35},
    {"IGFBP2", "Insulin-like growth factor-binding protein 2", 0, 0, 0.10, 0.0, -0.50},
    {"IGFBP1", "Insulin-like growth factor-binding protein 1", 0, 0, 0.0, 0.0, -0.40},
    {"FGF21", "Fibroblast growth factor 21", 0, 0, 0.10, 0.0, 0.20},
    {"IL1RN", "Interleukin-1 receptor antagonist protein", 0, 0, 0.0, 0.0, 0.30},
    {"ACE2", "Angiotensin-converting enzyme 2", 0, 0, 0.0, 0.40},
    {"CEACAM5", "Carcinoembryonic antigen-related cell adhesion molecule 5", 0, 0, 0.0, 0.0, 0.0, 0.40},
    {"LGALS4", "Galectin-4"},
    {"REN", "Renin"},
    {"PTX3", "Pentraxin-related protein PTX3"},
    {"AGRP", "Agouti-related protein"},
    {"CHGA", "Chromogranin-A"},
    {"CD14", "Monocyte differentiation antigen CD14"},
    {"TIMP1", "Metalloproteinase inhibitor 1"},
    {"MMP7", "Matrilysin"},
    {"ELN", "Elastin"},
    {"PIGR", "Polymeric immunoglobulin receptor"},
    {"KRT18", "Keratin, type I cytoskeletal 18"},
    {"KRT19", "Keratin, type I cytoskeletal 19"},
    {"SELE", "E-selectin"},
    {"ICAM1", "Intercellular adhesion molecule 1"},
    {"VCAM1", "Vascular cell adhesion protein 1"},
    {"HGF", "Hepatocyte growth factor"},
    {"VEGFA", "Vascular endothelial growth factor A"},
    {"CCL2", "C-C motif chemokine 2"},
    {"IL18", "Interleukin-18"},
    {"IL10", "Interleukin-10"},
    {"TNF", "Tumor necrosis factor"},
    {"LPL", "Lipoprotein lipase"},
    {"ANGPTL3", "Angiopoietin-related protein 3"},
    {"PCSK9", "Proprotein convertase subtilisin/kexin type 9"},
    {"LDLR", "Low-density lipoprotein receptor"},
    {"IGFBP7", "Insulin-like growth factor-binding protein 7"},
    {"A1BG", "Alpha-1B-glycoprotein"},
    {"ABL1", "Tyrosine-protein kinase ABL1"},
    {"AARSD1", "Alanyl-tRNA editing protein Aarsd1"},
    {"ACE", "Angiotensin-converting enzyme"},
    {"ANGPT2", "Angiopoietin-2"},
    {"AGER", "Advanced glycosylation end product-specific receptor"},
    {"AMBP", "Protein AMBP"},
    {"SPON1", "Spondin-1"},
    {"RELT", "Tumor necrosis factor receptor superfamily member 19L"},
    {"LTBP2", "Latent-transforming growth factor beta-binding protein 2"},
    {"PRSS8", "Prostasin"},
    {"SCARF2", "Scavenger receptor class F member 2"},
    {"LAMP3", "Lysosome-associated membrane glycoprotein 3"},
    {"APOM", "Apolipoprotein M"},
    {"PON3", "Serum paraoxonase/lactonase 3"},
    {"COL6A3", "Collagen alpha-3(VI) chain"},
    {"TNFRSF1A", "Tumor necrosis factor receptor superfamily member 1A"},
    {"TNFRSF1B", "Tumor necrosis factor receptor superfamily member 1B"},
    {"CXCL9", "C-X-C motif chemokine 9"},
    {"CXCL10", "C-X-C motif chemokine 10"},
};

constexpr int kMinProteins = 20;
constexpr double kPlantedMinOr = 1.09;  // synthetic planted effects: |log OR| uniform on [log 1.09, log 1.20]
constexpr double kPlantedMaxOr = 1.20;
constexpr double kNegativeShare = 0.35;  // synthetic planted effects lowering the protein

/// One entry of the catalogue before its random properties are drawn.
struct Slot {
  const RealAssay* real = nullptr;  // nullptr: synthetic symbol
  double log_or_isolation = 0.0;
  double log_or_loneliness = 0.0;
  bool mnar = false;
  bool qc_drop = false;
};

int scaled_count(int proteins, double per_2920, int minimum) {
  return std::min(proteins, std::max(minimum, static_cast<int>(std::lround(per_2920 * proteins / 2920.0))));
}

double synthetic_log_or(RandomStream& rs) {
  const double magnitude =
      std::log(kPlantedMinOr) + rs.uniform() * (std::log(kPlantedMaxOr) - std::log(kPlantedMinOr));
  return rs.bernoulli(kNegativeShare) ? -magnitude : magnitude;
}

// Roles at the study's proportions (150 isolation and 30 loneliness effects, two thirds of the latter shared,
// 10 assays below detection per 2,920), with minimum counts so that small test cohorts still have some.
std::vector<Slot> assign_roles(int proteins, RandomStream& rs) {
  const int n_iso = scaled_count(proteins, 150, 6);
  const int n_lon = scaled_count(proteins, 30, 4);
  const int n_both = static_cast<int>(std::lround(n_lon * 2.0 / 3.0));
  const int n_mnar = std::min(10, scaled_count(proteins, 10, 2));
  const int n_anchors = std::min<int>(std::size(kPlanted), (n_iso + 1) / 2);

  std::vector<Slot> slots;
  int lon = 0;
  for (int a = 0; a < n_anchors; ++a) {
    Slot s{&kPlanted[a], std::log(kPlanted[a].or_isolation)};
    if (kPlanted[a].or_loneliness > 0.0 && lon < n_lon) {
      s.log_or_loneliness = std::log(kPlanted[a].or_loneliness);
      ++lon;
    }
    slots.push_back(s);
  }
  for (int k = n_anchors; k < n_iso; ++k) {
    Slot s;
    s.log_or_isolation = synthetic_log_or(rs);
    if (lon < n_both) {
      // Shared effects mostly point the same way for both exposures.
      const double magnitude = std::fabs(synthetic_log_or(rs));
      s.log_or_loneliness = rs.bernoulli(0.85) == (s.log_or_isolation > 0.0) ? magnitude : -magnitude;
      ++lon;
    }
    slots.push_back(s);
  }
  for (; lon < n_lon; ++lon) slots.push_back(Slot{nullptr, 0.0, synthetic_log_or(rs)});
  if (static_cast<int>(slots.size()) + n_mnar > proteins)
    throw InputError("simulate: --proteins " + std::to_string(proteins) + " is too few for the planted effects");
  for (int k = 0; k < n_mnar; ++k) slots.push_back(Slot{&kBelowDetection[k], 0.0, 0.0, true});
  for (const RealAssay& real : kOther) {
    if (static_cast<int>(slots.size()) == proteins) break;
    slots.push_back(Slot{&real});
  }
  while (static_cast<int>(slots.size()) < proteins) slots.push_back(Slot{});
  for (const RealAssay& real : kDropped) slots.push_back(Slot{&real, 0.0, 0.0, false, true});
  return slots;
}

// Draws an assay's random properties from the catalogue stream. Every draw is made whatever the assay's role
// (and in a fixed order: C++ leaves the order of operands unspecified), so that --null changes effects only.
Assay draw_assay(const Slot& slot, const std::vector<double>& module_weights, RandomStream& rs) {
  const auto n_modules = static_cast<int>(module_weights.size());
  Assay a;
  a.panel = static_cast<int>(rs.below(kNumPanels));
  const bool in_module = rs.bernoulli(0.8) && !slot.qc_drop;
  const bool planted = slot.log_or_isolation != 0.0 || slot.log_or_loneliness != 0.0;
  // Module k has weight 1 / (k + 1), so sizes range from a few dozen to several hundred assays as in the study.
  // Planted assays gather in the first two modules, so that module eigengenes relate to the exposures.
  double u_module = rs.uniform() * std::accumulate(module_weights.begin(), module_weights.end(), 0.0);
  int any_module = n_modules - 1;
  for (int k = 0; k < n_modules; ++k) {
    u_module -= module_weights[static_cast<std::size_t>(k)];
    if (u_module < 0.0) {
      any_module = k;
      break;
    }
  }
  const auto first_modules = static_cast<int>(rs.below(2));
  const int module = rs.bernoulli(0.5) && planted ? first_modules : any_module;
  const double loading_size = 0.3 + 0.5 * rs.uniform();
  const double loading = rs.bernoulli(0.15) ? -loading_size : loading_size;
  if (in_module) {
    a.module = module + 1;
    a.loading = loading;
  }
  a.mean = -0.5 + 3.5 * rs.uniform();
  a.scale = std::clamp(std::exp(std::log(0.6) + 0.45 * rs.normal()), 0.15, 3.0);
  a.age10 = rs.normal(0.0, 0.12);
  a.male = rs.normal(0.0, 0.12);
  // Heavy tails: a few assays depend strongly on adiposity, smoking or income and so confound the simple model.
  a.bmi5 = rs.normal(0.0, 0.06);
  if (rs.bernoulli(0.1)) a.bmi5 *= 4.0;
  a.gap1000 = rs.normal(0.0, 0.05);
  a.smoking = rs.normal(0.0, 0.04);
  if (rs.bernoulli(0.08)) a.smoking *= 5.0;
  a.income_low = rs.normal(0.0, 0.03);
  if (rs.bernoulli(0.1)) a.income_low *= 3.0;
  a.alcohol = rs.normal(0.0, 0.04);
  for (int k = 1; k < kNumEducation; ++k) a.education[k] = rs.normal(0.0, 0.03);
  for (int k = 1; k < kNumEthnicities; ++k) a.ethnicity[k] = rs.normal(0.0, 0.15);
  for (double& b : a.batch) b = rs.normal(0.0, 0.12);
  for (double& c : a.centre) c = rs.normal(0.0, 0.03);
  // Missing fractions 1%-27% (study: per-protein N 30,778-41,396 of 42,062), most near the low end.
  const double u = rs.uniform();
  a.missing_rate = 0.01 + 0.26 * std::pow(u, 2.5);
  const double lod_u = rs.uniform();
  if (slot.mnar) {
    a.mnar = true;
    a.missing_rate = 0.01 + 0.05 * u;
    a.lod_quantile = 0.15 + 0.25 * lod_u;
  }
  if (slot.qc_drop) a.missing_rate = 0.56 + 0.16 * u;
  if (slot.real != nullptr) {
    a.age10 += slot.real->age10;
    a.male += slot.real->male;
    a.bmi5 += slot.real->bmi5;
    a.smoking += slot.real->smoking;
  }
  a.log_or_isolation = slot.log_or_isolation;
  a.log_or_loneliness = slot.log_or_loneliness;
  a.qc_drop = slot.qc_drop;
  return a;
}

}  // namespace

std::vector<Assay> design_assays(const SimulateOptions& opt) {
  if (opt.proteins < kMinProteins)
    throw InputError("simulate: --proteins must be at least " + std::to_string(kMinProteins));
  RandomStream rs(opt.seed, kCatalogueDraws);
  const std::vector<Slot> slots = assign_roles(opt.proteins, rs);
  std::vector<double> module_weights(static_cast<std::size_t>(std::clamp(opt.proteins / 40, 2, 13)));
  for (std::size_t k = 0; k < module_weights.size(); ++k) module_weights[k] = 1.0 / static_cast<double>(k + 1);

  // Synthetic symbols are numbered in random order so that the planted ones are not recognisable by number.
  const auto n_synthetic =
      static_cast<int>(std::count_if(slots.begin(), slots.end(), [](const Slot& s) { return s.real == nullptr; }));
  std::vector<int> numbers(static_cast<std::size_t>(n_synthetic));
  std::iota(numbers.begin(), numbers.end(), 1);
  rs.shuffle(numbers.begin(), numbers.end());
  const int width = std::max<int>(4, static_cast<int>(std::to_string(n_synthetic).size()));

  std::vector<Assay> assays;
  assays.reserve(slots.size());
  int next_synthetic = 0;
  for (const Slot& slot : slots) {
    Assay a = draw_assay(slot, module_weights, rs);
    if (slot.real != nullptr) {
      a.symbol = slot.real->symbol;
      a.name = slot.real->name;
    } else {
      const std::string number = std::to_string(numbers[static_cast<std::size_t>(next_synthetic++)]);
      a.symbol = "SIMP" + std::string(static_cast<std::size_t>(width) - number.size(), '0') + number;
      a.name = "Simulated protein " + number;
    }
    if (opt.null_effects) {
      a.log_or_isolation = 0.0;
      a.log_or_loneliness = 0.0;
    }
    assays.push_back(std::move(a));
  }
  // Data-Coding 143 numbers the assays in alphabetical order of their symbols.
  std::sort(assays.begin(), assays.end(), [](const Assay& x, const Assay& y) { return x.symbol < y.symbol; });
  return assays;
}

}  // namespace pwas::engine::sim
