// A minimal command line around import_cohort() for tests and bench/import_speed.sh (the pwas CLI lives in engine/).
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "io/error.hpp"
#include "io/import.hpp"

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  pwas::io::ImportOptions opt;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view key = argv[i];
    const std::string value = argv[i + 1];
    if (key == "--participants") opt.participants = value;
    else if (key == "--olink") opt.olink = value;
    else if (key == "--coding") opt.coding = value;
    else if (key == "--instance") opt.instance = std::stoi(value);
    else if (key == "--deflate") opt.deflate_level = std::stoi(value);
    else if (key == "--force-categorical") opt.force_categorical = split(value);
    else if (key == "--missing-codes")
      for (const std::string& c : split(value)) opt.missing_codes.push_back(std::stod(c));
    else if (key == "--out") opt.out = value;
    else {
      std::cerr << "unknown option " << key << "\n";
      return 2;
    }
  }
  try {
    for (const std::string& line : pwas::io::import_cohort(opt).lines()) std::cout << line << "\n";
  } catch (const pwas::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
