// The `pwas` command line: simulate, import, run, summary.
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "engine/comm.hpp"
#include "engine/run.hpp"
#include "engine/simulate.hpp"
#include "engine/summary.hpp"
#include "io/error.hpp"
#include "io/import.hpp"
#include "pwas_version.hpp"

namespace {

std::vector<double> parse_codes(const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size()) throw pwas::InputError(fmt::format("--missing-codes: '{}' is not a number", item));
    out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  auto comm = pwas::engine::make_world_comm(&argc, &argv);

  CLI::App app{fmt::format("pwas {}: proteome-wide association studies at biobank scale", pwas::kVersion)};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(pwas::kVersion));

  pwas::engine::SimulateOptions sim;
  auto* simulate = app.add_subcommand("simulate", "Write a simulated UK-Biobank-shaped cohort in the delivery formats");
  simulate->add_option("--out", sim.out, "Output folder")->required();
  simulate->add_option("--n", sim.n, "Participants")->capture_default_str()->check(CLI::PositiveNumber);
  simulate->add_option("--proteins", sim.proteins, "Assays passing QC (3 more with > 50% missing are added)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  simulate->add_option("--seed", sim.seed, "Random seed")->capture_default_str();
  simulate->add_flag("--null", sim.null_effects, "Plant no protein effects");
  simulate->add_flag("--force", sim.force, "Overwrite an existing simulation");
  simulate->add_option("--cohort", sim.cohort, "Also write the cohort HDF5 file directly (skips pwas import)");
  bool no_olink_text = false;
  simulate->add_flag("--no-olink-text", no_olink_text, "Write no Olink text files (long, wide); use with --cohort");

  pwas::io::ImportOptions imp;
  std::string codes;
  std::string categorical;
  auto* import = app.add_subcommand("import", "Import participants + Olink files into a cohort HDF5 file");
  import->add_option("--participants", imp.participants, "Participants CSV/TSV with an eid column")->required();
  import->add_option("--olink", imp.olink, "Olink data: Showcase long (olink_data.txt) or RAP wide CSV")->required();
  import->add_option("--coding", imp.coding, "coding143.tsv (needed for the long format)");
  import->add_option("--instance", imp.instance, "ins_index kept from a long file")->capture_default_str();
  import->add_option("--missing-codes", codes, "Comma-separated codes that mean missing, e.g. -1,-3");
  import->add_option("--categorical", categorical, "Comma-separated numeric-looking columns to keep categorical");
  import->add_option("--compression", imp.deflate_level, "Deflate level 0-9 for the protein matrix")
      ->capture_default_str()->check(CLI::Range(0, 9));
  import->add_option("--out", imp.out, "Cohort file to write")->required();

  pwas::engine::RunOptions run;
  auto* runcmd = app.add_subcommand("run", "Run every analysis of a config file");
  runcmd->add_option("config", run.config, "Config file (TOML)")->required();
  runcmd->add_option("--out", run.out, "Output folder (overrides the config)");
  runcmd->add_option("--cohort", run.cohort, "Cohort file (overrides the config)");
  runcmd->add_option("--threads", run.threads, "OpenMP threads per rank (default: config, OMP_NUM_THREADS, all)")
      ->check(CLI::NonNegativeNumber);
  runcmd->add_flag("--force", run.force, "Replace results in an existing output folder");
  runcmd->add_flag("--resume", run.resume, "Complete an interrupted run from its checkpoint (any number of ranks)");
  runcmd->add_flag("--quiet", run.quiet, "Do not echo the run log on stderr");

  pwas::engine::SummaryOptions sum;
  auto* summary = app.add_subcommand("summary", "Summarise a results folder (hits per analysis, recovery vs truth)");
  summary->add_option("results", sum.results, "Results folder of `pwas run`")->required();
  summary->add_option("--truth", sum.truth, "truth.tsv of `pwas simulate`, to score recovery");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = comm->rank() == 0 ? app.exit(e) : (e.get_exit_code() ? 2 : 0);
    pwas::engine::finalize_world();
    return rc;
  }

  try {
    if (*simulate) {
      if (no_olink_text) sim.write_long = sim.write_wide = false;
      const auto report = pwas::engine::simulate_cohort(sim);
      std::printf("simulated %lld participants x %d assays in %.1f s (planted: isolation %d, loneliness %d)\n",
                  static_cast<long long>(report.n), report.n_assays, report.seconds, report.planted_isolation,
                  report.planted_loneliness);
      for (const auto& o : report.outcomes)
        std::printf("  %-10s prevalent %5.2f%%  incident %5.2f%%  median follow-up %.1f y  planted HRs %d\n",
                    o.name.c_str(), 100.0 * static_cast<double>(o.prevalent) / static_cast<double>(report.n),
                    100.0 * static_cast<double>(o.events) / static_cast<double>(report.n - o.prevalent),
                    o.median_follow_up, o.planted);
      for (const auto& f : report.files) std::printf("  %s\n", f.c_str());
    } else if (*import) {
      imp.missing_codes = parse_codes(codes);
      std::stringstream ss(categorical);
      for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) imp.force_categorical.push_back(item);
      const auto report = pwas::io::import_cohort(imp);
      for (const auto& line : report.lines()) std::printf("%s\n", line.c_str());
    } else if (*runcmd) {
      run.command_line = command_line;
      const int rc = pwas::engine::run_config(run, *comm);
      if (rc != 0) {
        pwas::engine::finalize_world();
        return rc;
      }
    } else if (*summary) {
      std::fputs(pwas::engine::summarize(sum).c_str(), stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pwas: error: %s\n", e.what());
    std::fflush(stderr);
    if (comm->size() > 1) comm->abort(2);
    pwas::engine::finalize_world();
    return 2;
  }
  pwas::engine::finalize_world();
  return 0;
}
