#include "io/config_toml.hpp"

#include <cctype>

#include <fmt/format.h>

#include "io/error.hpp"

namespace pwas::io::toml_util {

std::string at(const std::string& file, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", file, r.begin.line, r.begin.column);
}

void fail(const std::string& file, const toml::node& n, const std::string& what) {
  throw InputError(fmt::format("{}: {}", at(file, n.source()), what));
}

void check_keys(const std::string& file, const toml::table& t, const std::set<std::string>& allowed,
                const std::string& context) {
  for (const auto& [k, v] : t) {
    if (!allowed.count(std::string(k.str())))
      throw InputError(fmt::format("{}: unknown key '{}' in {}", at(file, k.source()), k.str(), context));
  }
}

std::string get_string(const std::string& file, const toml::node& n, const std::string& key) {
  if (auto s = n.value<std::string>()) return *s;
  fail(file, n, fmt::format("'{}' must be a string", key));
}

std::vector<std::string> get_names(const std::string& file, const toml::node& n, const std::string& key,
                                   std::map<std::string, std::string>* where) {
  std::vector<std::string> out;
  auto add = [&](const toml::node& item) {
    auto s = item.value<std::string>();
    if (!s || s->empty()) fail(file, item, fmt::format("'{}' must hold non-empty strings", key));
    out.push_back(*s);
    if (where) where->emplace(*s, at(file, item.source()));
  };
  if (const auto* arr = n.as_array()) {
    for (const auto& item : *arr) add(item);
  } else {
    add(n);
  }
  return out;
}

bool is_plain_name(const std::string& name) {
  if (name.empty()) return false;
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.')) return false;
  return true;
}

}  // namespace pwas::io::toml_util
