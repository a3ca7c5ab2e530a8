// `pwas simulate`: people, then assays, then protein values, then the delivery files (truth.tsv last, so
// that its presence marks a finished simulation).
#include "engine/simulate.hpp"

#include <chrono>
#include <filesystem>
#include <system_error>

#include "engine/simulate_model.hpp"
#include "io/error.hpp"

namespace pwas::engine {

namespace {

namespace fs = std::filesystem;

constexpr const char* kParticipantsFile = "participants.csv";
constexpr const char* kLongFile = "olink_data.txt";
constexpr const char* kCodingFile = "coding143.tsv";
constexpr const char* kWideFile = "olink_instance_0.csv";
constexpr const char* kTruthFile = "truth.tsv";
constexpr const char* kAllFiles[] = {kParticipantsFile, kLongFile, kCodingFile, kWideFile, kTruthFile};

constexpr std::int64_t kMinParticipants = 100;

// Creates the output folder; refuses one that holds a previous simulation unless forced, and then removes all
// of the previous files so that none of them is left beside the new ones.
void prepare_folder(const SimulateOptions& opt) {
  if (opt.out.empty()) throw InputError("simulate: no output folder given");
  const fs::path out(opt.out);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec))
    throw InputError("simulate: " + opt.out + " exists and is not a folder");
  for (const char* name : kAllFiles) {
    const fs::path file = out / name;
    if (!fs::exists(file, ec)) continue;
    if (!opt.force)
      throw InputError("simulate: " + file.string() + " exists (a previous simulation); use --force to overwrite");
    fs::remove(file, ec);
    if (ec) throw InputError("simulate: cannot remove " + file.string() + ": " + ec.message());
  }
  fs::create_directories(out, ec);
  if (ec) throw InputError("simulate: cannot create " + opt.out + ": " + ec.message());
}

}  // namespace

SimulateReport simulate_cohort(const SimulateOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  if (opt.n < kMinParticipants)
    throw InputError("simulate: --n must be at least " + std::to_string(kMinParticipants));
  std::vector<sim::Assay> assays = sim::design_assays(opt);  // validates opt.proteins
  sim::plant_hazards(opt, assays);
  prepare_folder(opt);
  const int threads = sim::resolve_threads(opt.threads);

  const sim::People people = sim::simulate_people(opt, threads);
  std::vector<sim::AssayTruth> truth;
  const sim::ProteinMatrix matrix = sim::simulate_proteins(opt, people, assays, truth, threads);
  SimulateReport report;
  const sim::Outcomes outcomes = sim::simulate_outcomes(opt, people, assays, matrix, report, threads);

  const fs::path out(opt.out);
  auto record = [&](const char* name, std::int64_t bytes) {
    report.files.push_back((out / name).string());
    report.bytes += bytes;
  };
  record(kParticipantsFile, sim::write_participants((out / kParticipantsFile).string(), people, outcomes, threads));
  if (opt.write_long) {
    record(kCodingFile, sim::write_coding((out / kCodingFile).string(), assays));
    record(kLongFile, sim::write_olink_long((out / kLongFile).string(), people, matrix,
                                            static_cast<std::int64_t>(assays.size()), threads));
  }
  if (opt.write_wide)
    record(kWideFile, sim::write_olink_wide((out / kWideFile).string(), people, matrix, assays, threads));
  if (!opt.cohort.empty()) {
    sim::write_cohort(opt.cohort, opt, people, outcomes, assays, matrix);
    report.files.push_back(opt.cohort);
  }
  record(kTruthFile, sim::write_truth((out / kTruthFile).string(), assays, truth));

  report.n = opt.n;
  report.n_assays = static_cast<int>(assays.size());
  for (const sim::Assay& a : assays) {
    report.planted_isolation += a.log_or_isolation != 0.0;
    report.planted_loneliness += a.log_or_loneliness != 0.0;
  }
  report.n_withdrawn = people.size - opt.n;
  for (std::int64_t i = 0; i < people.size; ++i) {
    const auto k = static_cast<std::size_t>(i);
    report.n_without_olink += !people.withdrawn[k] && !people.has_olink[k];
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace pwas::engine
