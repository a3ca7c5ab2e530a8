// Formats the matrices written by `r_glm_loop.R plink` as PLINK 2 text inputs (bench/study_pwas.sh), tab-separated.
//
//   f32_to_plink dosage IN NAMES.txt N_SAMPLES OUT.txt   one line per protein: "NAME P Q d1 .. dn" (PLINK 1 dosage,
//                                                        format=1, noheader; NaN -> NA)
//   f32_to_plink pheno  IN NAMES.txt PSAM OUT.txt        "#FID IID NAME1 .. NAMEp", one line per sample
//
// IN is [protein, sample] row-major, float32 (IN.f32) or float64 (any other name). Dosages are printed with 6
// significant digits (PLINK 2 stores dosages in steps of 1/16384 anyway), phenotypes with 17 (exact).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> read_lines(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

template <typename T>
std::vector<double> read_matrix(const char* path, std::size_t count) {
  std::vector<T> v(count);
  std::FILE* f = std::fopen(path, "rb");
  if (!f || std::fread(v.data(), sizeof(T), count, f) != count) {
    std::fprintf(stderr, "%s: cannot read %zu values of %zu bytes\n", path, count, sizeof(T));
    std::exit(1);
  }
  std::fclose(f);
  return {v.begin(), v.end()};
}

int digits = 17;

void put(std::FILE* out, double x) {
  if (std::isnan(x)) std::fputs("\tNA", out);
  else std::fprintf(out, "\t%.*g", digits, x);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: f32_to_plink dosage|pheno IN.f32 NAMES.txt N_SAMPLES|PSAM OUT.txt\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto names = read_lines(argv[3]);
  std::vector<std::string> ids;
  std::size_t n = 0;
  if (mode == "dosage") {
    n = std::strtoull(argv[4], nullptr, 10);
  } else {
    for (auto& l : read_lines(argv[4]))
      if (!l.empty() && l[0] != '#') ids.push_back(l);
    n = ids.size();
  }
  const std::size_t p = names.size();
  const std::string in = argv[2];
  const bool f32 = in.size() > 4 && in.compare(in.size() - 4, 4, ".f32") == 0;
  if (mode == "dosage") digits = 6;
  const auto v = f32 ? read_matrix<float>(argv[2], p * n) : read_matrix<double>(argv[2], p * n);
  std::FILE* out = std::fopen(argv[5], "w");
  if (!out) return 1;
  if (mode == "dosage") {
    for (std::size_t j = 0; j < p; ++j) {
      std::fprintf(out, "%s\tP\tQ", names[j].c_str());
      for (std::size_t i = 0; i < n; ++i) put(out, v[j * n + i]);
      std::fputc('\n', out);
    }
  } else {
    std::fputs("#FID\tIID", out);
    for (const auto& s : names) std::fprintf(out, "\t%s", s.c_str());
    std::fputc('\n', out);
    for (std::size_t i = 0; i < n; ++i) {
      std::fputs(ids[i].c_str(), out);  // "FID\tIID" from the .psam
      for (std::size_t j = 0; j < p; ++j) put(out, v[j * n + i]);
      std::fputc('\n', out);
    }
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
