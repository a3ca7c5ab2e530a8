#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include <fmt/format.h>
#include <hdf5.h>

#include "io/error.hpp"
#include "io/results.hpp"

namespace pwas::io {
namespace {

void append_double(std::string& out, double v) {
  if (std::isnan(v)) out += "NA";
  else if (std::isinf(v)) out += v > 0 ? "Inf" : "-Inf";
  else fmt::format_to(std::back_inserter(out), "{}", v);
}

std::string temp_name(const std::string& path) { return path + ".tmp-partial"; }

void commit(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError(fmt::format("{}: cannot move the finished file into place", path));
  }
}

/// Closes an HDF5 handle when it goes out of scope.
struct H5Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~H5Handle() {
    if (id >= 0) close(id);
  }
};

/// Dataset creation without modification times, so identical results give byte-identical files.
hid_t untimed_dcpl() {
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, false);
  return dcpl;
}

void write_strings(hid_t group, const char* name, const std::vector<std::string>& values) {
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& s : values) ptrs.push_back(s.c_str());
  H5Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, H5T_VARIABLE);
  H5Tset_cset(type.id, H5T_CSET_UTF8);
  const hsize_t dims[1] = {values.size()};
  H5Handle space{H5Screate_simple(1, dims, nullptr), H5Sclose};
  H5Handle dcpl{untimed_dcpl(), H5Pclose};
  H5Handle set{H5Dcreate2(group, name, type.id, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT), H5Dclose};
  if (set.id < 0 || (!values.empty() && H5Dwrite(set.id, type.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0))
    throw InputError(fmt::format("cannot write results dataset {}", name));
}

template <typename T>
void write_numbers(hid_t group, const char* name, hid_t type, const std::vector<T>& values) {
  const hsize_t dims[1] = {values.size()};
  H5Handle space{H5Screate_simple(1, dims, nullptr), H5Sclose};
  H5Handle dcpl{untimed_dcpl(), H5Pclose};
  H5Handle set{H5Dcreate2(group, name, type, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT), H5Dclose};
  if (set.id < 0 || (!values.empty() && H5Dwrite(set.id, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0))
    throw InputError(fmt::format("cannot write results dataset {}", name));
}

void write_string_attribute(hid_t obj, const std::string& name, const std::string& value) {
  H5Handle type{H5Tcopy(H5T_C_S1), H5Tclose};
  H5Tset_size(type.id, H5T_VARIABLE);
  H5Tset_cset(type.id, H5T_CSET_UTF8);
  H5Handle space{H5Screate(H5S_SCALAR), H5Sclose};
  H5Handle attr{H5Acreate2(obj, name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT), H5Aclose};
  const char* p = value.c_str();
  if (attr.id < 0 || H5Awrite(attr.id, type.id, &p) < 0)
    throw InputError(fmt::format("cannot write results attribute {}", name));
}

template <typename T>
std::vector<T> column(const ResultTable& t, const std::function<T(const ResultRow&)>& get) {
  std::vector<T> out;
  out.reserve(t.rows.size());
  for (const auto& r : t.rows) out.push_back(get(r));
  return out;
}

}  // namespace

const std::vector<std::string>& result_columns() {
  static const std::vector<std::string> kColumns = {
      "ANALYSIS", "OUTCOME", "PREDICTOR", "PROTEIN", "MODEL", "OBS_CT", "CASE_CT", "BETA", "SE", "STAT", "P",
      "EFFECT", "EFFECT_L95", "EFFECT_U95", "P_BONF", "Q_FDR", "ERRCODE"};
  return kColumns;
}

void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = temp_name(path);
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw InputError(fmt::format("{}: cannot open for writing", tmp));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) {
    std::filesystem::remove(tmp);
    throw InputError(fmt::format("{}: write failed (disk full?)", tmp));
  }
  commit(tmp, path);
}

void write_results_tsv(const std::string& path, const ResultTable& t) {
  std::string out;
  out.reserve(t.rows.size() * 200 + 256);
  std::vector<std::string> cols = result_columns();
  cols.insert(cols.end() - 1, t.extra_columns.begin(), t.extra_columns.end());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) out += '\t';
    out += cols[i];
  }
  out += '\n';
  for (const auto& r : t.rows) {
    fmt::format_to(std::back_inserter(out), "{}\t{}\t{}\t{}\t{}\t{}\t", t.analysis, r.outcome, r.predictor,
                   r.protein, t.model, r.obs_ct);
    if (r.case_ct >= 0) fmt::format_to(std::back_inserter(out), "{}", r.case_ct);
    for (double v : {r.beta, r.se, r.stat, r.p, r.effect, r.effect_l95, r.effect_u95, r.p_bonf, r.q_fdr}) {
      out += '\t';
      append_double(out, v);
    }
    if (r.extra.size() != t.extra_columns.size())
      throw std::logic_error(fmt::format("{}: row of {} extra values under {} extra columns", path, r.extra.size(),
                                         t.extra_columns.size()));
    for (double v : r.extra) {
      out += '\t';
      append_double(out, v);
    }
    out += '\t';
    out += r.errcode;
    out += '\n';
  }
  write_text_atomic(path, out);
}

void write_results_h5(const std::string& path, const std::vector<ResultTable>& tables,
                      const std::vector<std::pair<std::string, std::string>>& attributes) {
  const std::string tmp = temp_name(path);
  {
    H5Handle file{H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose};
    if (file.id < 0) throw InputError(fmt::format("{}: cannot create HDF5 file", tmp));
    write_string_attribute(file.id, "format", "pwas-results");
    for (const auto& [k, v] : attributes) write_string_attribute(file.id, k, v);
    for (const auto& t : tables) {
      H5Handle gcpl{H5Pcreate(H5P_GROUP_CREATE), H5Pclose};
      H5Pset_obj_track_times(gcpl.id, false);
      H5Handle g{H5Gcreate2(file.id, t.analysis.c_str(), H5P_DEFAULT, gcpl.id, H5P_DEFAULT), H5Gclose};
      if (g.id < 0) throw InputError(fmt::format("{}: cannot create group {}", tmp, t.analysis));
      write_string_attribute(g.id, "model", t.model);
      using R = ResultRow;
      write_strings(g.id, "OUTCOME", column<std::string>(t, [](const R& r) { return r.outcome; }));
      write_strings(g.id, "PREDICTOR", column<std::string>(t, [](const R& r) { return r.predictor; }));
      write_strings(g.id, "PROTEIN", column<std::string>(t, [](const R& r) { return r.protein; }));
      write_strings(g.id, "ERRCODE", column<std::string>(t, [](const R& r) { return r.errcode; }));
      write_numbers(g.id, "OBS_CT", H5T_NATIVE_INT64, column<std::int64_t>(t, [](const R& r) { return r.obs_ct; }));
      write_numbers(g.id, "CASE_CT", H5T_NATIVE_INT64, column<std::int64_t>(t, [](const R& r) { return r.case_ct; }));
      const std::pair<const char*, double R::*> numeric[] = {
          {"BETA", &R::beta},         {"SE", &R::se},         {"STAT", &R::stat},
          {"P", &R::p},               {"EFFECT", &R::effect}, {"EFFECT_L95", &R::effect_l95},
          {"EFFECT_U95", &R::effect_u95}, {"P_BONF", &R::p_bonf}, {"Q_FDR", &R::q_fdr}};
      for (const auto& [name, member] : numeric)
        write_numbers(g.id, name, H5T_NATIVE_DOUBLE, column<double>(t, [m = member](const R& r) { return r.*m; }));
      for (std::size_t k = 0; k < t.extra_columns.size(); ++k)
        write_numbers(g.id, t.extra_columns[k].c_str(), H5T_NATIVE_DOUBLE,
                      column<double>(t, [k](const R& r) { return r.extra[k]; }));
    }
    if (H5Fflush(file.id, H5F_SCOPE_GLOBAL) < 0) throw InputError(fmt::format("{}: flush failed", tmp));
  }
  commit(tmp, path);
}

}  // namespace pwas::io
