// Generates UK-Biobank-shaped import inputs for bench/import_speed.sh (standard C++ only: g++ -O2 -std=c++20).
//   gen_olink OUT_DIR ROWS [N_PROTEINS]
// writes participants.csv, coding143.tsv, olink_data.txt (Showcase long: exactly ROWS data rows, grouped by eid,
// ~1.5% NA, every 25th sample at ins_index 2) and olink_instance_0.csv (RAP wide: the same instance-0 values).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// Buffered writer: std::fwrite of 4 MiB blocks keeps generation far faster than the import it feeds.
class Out {
 public:
  explicit Out(const std::string& path) : f_(std::fopen(path.c_str(), "wb")) {
    if (f_ == nullptr) {
      std::perror(path.c_str());
      std::exit(1);
    }
    buf_.reserve(kBlock + 256);
  }
  ~Out() {
    flush();
    std::fclose(f_);
  }
  void put(std::string_view s) {
    buf_.append(s);
    if (buf_.size() >= kBlock) flush();
  }
  void put(char c) { buf_.push_back(c); }
  void put_int(std::int64_t v) {
    char tmp[24];
    buf_.append(tmp, static_cast<std::size_t>(std::to_chars(tmp, tmp + sizeof tmp, v).ptr - tmp));
  }
  void put_value(double v) {
    char tmp[32];
    buf_.append(tmp, static_cast<std::size_t>(std::to_chars(tmp, tmp + sizeof tmp, v, std::chars_format::fixed, 4).ptr - tmp));
  }

 private:
  void flush() {
    std::fwrite(buf_.data(), 1, buf_.size(), f_);
    buf_.clear();
  }
  static constexpr std::size_t kBlock = std::size_t{4} << 20;
  std::FILE* f_;
  std::string buf_;
};

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser: a value per (sample, protein) without state
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

double uniform(std::uint64_t key) { return static_cast<double>(mix(key) >> 11) * 0x1.0p-53; }

// NPX-like value: roughly normal (sum of three uniforms), or NaN for ~1.5% of pairs.
double npx(std::int64_t sample, int protein) {
  const std::uint64_t key = static_cast<std::uint64_t>(sample) * 8191 + static_cast<std::uint64_t>(protein);
  if (uniform(key ^ 0xABCDEFULL) < 0.015) return NAN;
  return (uniform(key) + uniform(key + 1) + uniform(key + 2) - 1.5) * 2.0 + 0.1 * (protein % 7);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: gen_olink OUT_DIR ROWS [N_PROTEINS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::int64_t rows = std::atoll(argv[2]);
  const int n_proteins = argc > 3 ? std::atoi(argv[3]) : 2923;
  const std::int64_t n_samples = (rows + n_proteins - 1) / n_proteins;
  const auto eid = [](std::int64_t i) { return 1000017 + 8 * i; };
  const auto instance = [](std::int64_t i) { return i % 25 == 24 ? 2 : 0; };

  {
    Out coding(dir + "/coding143.tsv");
    coding.put("coding\tmeaning\n");
    for (int j = 1; j <= n_proteins; ++j) {
      coding.put_int(j);
      coding.put("\tPROT");
      coding.put_int(j);
      coding.put(";Protein number ");
      coding.put_int(j);
      coding.put('\n');
    }
  }
  {
    Out part(dir + "/participants.csv");
    part.put("eid,age,sex,bmi,centre,lonely,pc1,pc2\n");
    for (std::int64_t i = 0; i < n_samples + n_samples / 10; ++i) {  // 10% without Olink data
      part.put_int(eid(i));
      part.put(',');
      part.put_int(40 + static_cast<int>(uniform(i * 5) * 30));
      part.put(uniform(i * 5 + 1) < 0.5 ? ",Female," : ",Male,");
      part.put_value(20 + uniform(i * 5 + 2) * 15);
      part.put(',');
      part.put_int(11000 + static_cast<int>(uniform(i * 5 + 3) * 22));
      part.put(',');
      part.put_int(uniform(i * 5 + 4) < 0.05 ? -3 : static_cast<int>(uniform(i * 7) * 2));
      part.put(',');
      part.put_value(uniform(i * 11) - 0.5);
      part.put(',');
      part.put_value(uniform(i * 13) - 0.5);
      part.put('\n');
    }
  }
  {
    Out olink(dir + "/olink_data.txt");
    olink.put("eid\tins_index\tprotein_id\tresult\n");
    std::int64_t written = 0;
    for (std::int64_t i = 0; i < n_samples && written < rows; ++i)
      for (int j = 1; j <= n_proteins && written < rows; ++j, ++written) {
        olink.put_int(eid(i));
        olink.put('\t');
        olink.put_int(instance(i));
        olink.put('\t');
        olink.put_int(j);
        olink.put('\t');
        const double v = npx(i, j);
        if (std::isnan(v)) olink.put("NA");
        else olink.put_value(v);
        olink.put('\n');
      }
  }
  {
    Out wide(dir + "/olink_instance_0.csv");
    wide.put("eid");
    for (int j = 1; j <= n_proteins; ++j) {
      wide.put(",prot");
      wide.put_int(j);
    }
    wide.put('\n');
    for (std::int64_t i = 0; i < n_samples; ++i) {
      if (instance(i) != 0) continue;
      wide.put_int(eid(i));
      for (int j = 1; j <= n_proteins; ++j) {
        wide.put(',');
        const double v = npx(i, j);
        if (!std::isnan(v) && i * n_proteins + j <= rows) wide.put_value(v);
      }
      wide.put('\n');
    }
  }
  return 0;
}
