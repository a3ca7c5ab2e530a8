#pragma once
// Helpers shared by the config parsers (config.cpp, config_survival.cpp): locations, key checks, typed values.
// Every error names "file:line:column".
#include <map>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

namespace pwas::io::toml_util {

/// "file:line:column" of a source region.
std::string at(const std::string& file, const toml::source_region& r);

/// Throws InputError "file:line:column: what" at node `n`.
[[noreturn]] void fail(const std::string& file, const toml::node& n, const std::string& what);

/// Throws InputError at the first key of `t` not in `allowed`.
void check_keys(const std::string& file, const toml::table& t, const std::set<std::string>& allowed,
                const std::string& context);

/// The string value of `n`, or an InputError naming `key`.
std::string get_string(const std::string& file, const toml::node& n, const std::string& key);

/// A string or an array of non-empty strings; each name's location is recorded in `where` when given.
std::vector<std::string> get_names(const std::string& file, const toml::node& n, const std::string& key,
                                   std::map<std::string, std::string>* where);

/// True when a name may serve as an output name: letters, digits, `_ - .` only, not empty.
bool is_plain_name(const std::string& name);

}  // namespace pwas::io::toml_util
