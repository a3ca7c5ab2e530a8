#include "io/cohort_h5.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/error.hpp"
#include "io/h5_util.hpp"
#include "io/npx_map.hpp"

namespace pwas::io {

using h5::Id;

namespace {

constexpr const char* kFormat = "pwas-cohort";
constexpr int kFormatVersion = 1;
constexpr hsize_t kMaxChunkRows = hsize_t{1} << 20;       // a chunk spans every sample up to ~1M samples
constexpr std::size_t kMinChunkCacheBytes = 16U << 20;  // HDF5's default (1 MiB) is smaller than one chunk

struct ChunkShape {
  hsize_t rows = 0;
  hsize_t proteins = 0;
};

// Chunks span all samples (up to kMaxChunkRows) and k proteins, with k chosen so a chunk holds about
// chunk_bytes: a rank reading proteins [first, first + count) decompresses only the chunks of those proteins.
ChunkShape chunk_shape(std::int64_t n_samples, std::int64_t n_proteins, std::int64_t chunk_bytes) {
  ChunkShape c;
  c.rows = std::clamp<hsize_t>(static_cast<hsize_t>(n_samples), 1, kMaxChunkRows);
  const auto per_protein = static_cast<std::int64_t>(c.rows * sizeof(float));
  c.proteins = static_cast<hsize_t>(std::clamp<std::int64_t>(chunk_bytes / per_protein, 1, std::max<std::int64_t>(n_proteins, 1)));
  return c;
}

Id dataset_access(const ChunkShape& c) {
  Id dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  const std::size_t bytes = std::max<std::size_t>(kMinChunkCacheBytes, 4 * c.rows * c.proteins * sizeof(float));
  H5Pset_chunk_cache(dapl.get(), 10007, bytes, 1.0);  // w0 = 1: a chunk read or written in full leaves first
  return dapl;
}

std::string temp_name(const std::string& path) {
  static std::atomic<int> counter{0};
  const std::filesystem::path p(path);
  return (p.parent_path() / fmt::format(".{}.tmp-{}-{}", p.filename().string(), ::getpid(), counter++)).string();
}

// The writer's metadata comes from pwas itself (import, simulate): an inconsistency is a bug, not bad input.
void check_meta(const CohortMeta& meta) {
  const std::size_t n = meta.n_samples();
  std::vector<std::string> names;
  for (const Column& c : meta.columns) {
    if (c.name.empty() || c.name.find('/') != std::string::npos || c.name == "." || c.name == "..")
      throw std::invalid_argument(fmt::format("CohortWriter: column name '{}' cannot name an HDF5 dataset", c.name));
    if (std::find(names.begin(), names.end(), c.name) != names.end())
      throw std::invalid_argument(fmt::format("CohortWriter: column '{}' appears twice", c.name));
    names.push_back(c.name);
    const bool numeric = c.holds_numbers();
    if ((numeric ? c.numeric.size() : c.codes.size()) != n)
      throw std::invalid_argument(fmt::format("CohortWriter: column '{}' does not have {} values", c.name, n));
    const auto n_levels = static_cast<std::int32_t>(c.levels.size());
    if (!numeric && std::any_of(c.codes.begin(), c.codes.end(), [&](std::int32_t x) { return x < -1 || x >= n_levels; }))
      throw std::invalid_argument(fmt::format("CohortWriter: column '{}' has a code outside its levels", c.name));
  }
  for (const auto& [key, value] : meta.provenance)
    if (key == "format" || key == "format_version")
      throw std::invalid_argument(fmt::format("CohortWriter: provenance key '{}' is reserved", key));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
struct CohortWriter::Impl {
  std::string path;
  std::string temp;
  std::int64_t n_samples = 0;
  std::int64_t n_proteins = 0;
  ChunkShape chunk;
  Id file;
  Id npx;
  std::vector<bool> written;  // [n_proteins]
  std::vector<std::int64_t> observed;  // [n_proteins] non-NaN values written
  bool finished = false;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: writing {}: {}", path, what, h5::error_message()));
  }
  void check(bool ok, const std::string& what) const {
    if (!ok) fail(what);
  }
  Id group(const char* name) const {
    Id g(H5Gcreate2(file.get(), name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    check(g.valid(), name);
    return g;
  }
  template <class T>
  void write_vector(hid_t loc, const char* name, hid_t file_type, hid_t mem_type, const std::vector<T>& v) const {
    const Id space = h5::simple_space({v.size()});
    const Id set(H5Dcreate2(loc, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    check(set.valid() && (v.empty() || H5Dwrite(set.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0), name);
  }

  void write_root(const CohortMeta& meta) const {
    check(h5::write_string_attribute(file.get(), "format", kFormat), "attribute format");
    const Id space(H5Screate(H5S_SCALAR), H5Sclose);
    const Id version(H5Acreate2(file.get(), "format_version", H5T_STD_I32LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    check(version.valid() && H5Awrite(version.get(), H5T_NATIVE_INT, &kFormatVersion) >= 0, "attribute format_version");
    for (const auto& [key, value] : meta.provenance)
      check(h5::write_string_attribute(file.get(), key.c_str(), value), "attribute " + key);
  }

  void write_proteins_meta(const CohortMeta& meta) const {
    const Id g = group("proteins");
    std::vector<std::string> name, full_name, uniprot, panel;
    for (const ProteinInfo& p : meta.proteins) {
      name.push_back(p.name);
      full_name.push_back(p.full_name);
      uniprot.push_back(p.uniprot);
      panel.push_back(p.panel);
    }
    check(h5::write_strings_dataset(g.get(), "name", name), "/proteins/name");
    check(h5::write_strings_dataset(g.get(), "full_name", full_name), "/proteins/full_name");
    check(h5::write_strings_dataset(g.get(), "uniprot", uniprot), "/proteins/uniprot");
    check(h5::write_strings_dataset(g.get(), "panel", panel), "/proteins/panel");
  }

  void create_npx(int deflate_level) {
    const Id space = h5::simple_space({static_cast<hsize_t>(n_samples), static_cast<hsize_t>(n_proteins)});
    const Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    H5Pset_fill_value(dcpl.get(), H5T_NATIVE_FLOAT, &nan);
    if (n_samples > 0 && n_proteins > 0) {
      const hsize_t dims[2] = {chunk.rows, chunk.proteins};
      H5Pset_chunk(dcpl.get(), 2, dims);
      if (deflate_level > 0) {
        H5Pset_shuffle(dcpl.get());
        check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(std::min(deflate_level, 9))) >= 0, "/proteins/npx (deflate)");
      }
    }
    const Id dapl = dataset_access(chunk);
    npx = Id(H5Dcreate2(file.get(), "/proteins/npx", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()), H5Dclose);
    check(npx.valid(), "/proteins/npx");
  }

  void write_participants(const CohortMeta& meta) const {
    const Id g = group("participants");
    std::vector<std::string> order;
    for (const Column& c : meta.columns) {
      order.push_back(c.name);
      const std::string where = "/participants/" + c.name;
      if (c.holds_numbers()) {
        write_vector(g.get(), c.name.c_str(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, c.numeric);
      } else {
        write_vector(g.get(), c.name.c_str(), H5T_STD_I32LE, H5T_NATIVE_INT32, c.codes);
      }
      const Id set(H5Dopen2(g.get(), c.name.c_str(), H5P_DEFAULT), H5Dclose);
      check(set.valid() && h5::write_string_attribute(set.get(), "kind", to_string(c.kind)), where);
      if (!c.holds_numbers()) check(h5::write_strings_attribute(set.get(), "levels", c.levels), where + " levels");
    }
    check(h5::write_strings_attribute(g.get(), "columns", order), "/participants columns");
  }
};

CohortWriter::CohortWriter(const std::string& path, const CohortMeta& meta, const CohortWriteOptions& opt)
    : impl_(std::make_unique<Impl>()) {
  check_meta(meta);
  const h5::QuietErrors quiet;
  Impl& w = *impl_;
  w.path = path;
  w.temp = temp_name(path);
  w.n_samples = static_cast<std::int64_t>(meta.n_samples());
  w.n_proteins = static_cast<std::int64_t>(meta.n_proteins());
  w.chunk = chunk_shape(w.n_samples, w.n_proteins, opt.chunk_bytes);
  w.written.assign(meta.n_proteins(), false);

  // HDF5 1.8 object headers: attributes past 64 KiB (a factor with thousands of levels) go to dense storage.
  const Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  w.file = Id(H5Fcreate(w.temp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get()), H5Fclose);
  if (!w.file.valid())
    throw InputError(where(path, 0, 0, fmt::format("cannot create {}: {}", w.temp, h5::error_message())));
  w.write_root(meta);
  const Id samples = w.group("samples");
  w.write_vector(samples.get(), "eid", H5T_STD_I64LE, H5T_NATIVE_INT64, meta.eids);
  w.write_proteins_meta(meta);
  w.create_npx(opt.deflate_level);
  w.write_participants(meta);
}

CohortWriter::~CohortWriter() {
  if (impl_->finished) return;
  const h5::QuietErrors quiet;
  impl_->npx.reset();
  impl_->file.reset();
  std::error_code ignored;
  std::filesystem::remove(impl_->temp, ignored);
}

std::int64_t CohortWriter::proteins_per_chunk() const { return static_cast<std::int64_t>(impl_->chunk.proteins); }

void CohortWriter::write_proteins(std::int64_t first, const Eigen::MatrixXf& block) {
  Impl& w = *impl_;
  if (w.finished) throw std::logic_error("CohortWriter::write_proteins after finish()");
  if (block.rows() != w.n_samples || first < 0 || first + block.cols() > w.n_proteins)
    throw std::invalid_argument(fmt::format("CohortWriter::write_proteins: block {} x {} at protein {} does not fit {} x {}",
                                            block.rows(), block.cols(), first, w.n_samples, w.n_proteins));
  if (block.cols() == 0 || block.rows() == 0) return;
  const h5::QuietErrors quiet;
  // The file is C order [n_samples, n_proteins]: a sample's proteins are adjacent, so the block is transposed.
  const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows = block;
  const hsize_t start[2] = {0, static_cast<hsize_t>(first)};
  const hsize_t count[2] = {static_cast<hsize_t>(block.rows()), static_cast<hsize_t>(block.cols())};
  const Id file_space(H5Dget_space(w.npx.get()), H5Sclose);
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  const Id mem_space = h5::simple_space({count[0], count[1]});
  w.check(H5Dwrite(w.npx.get(), H5T_NATIVE_FLOAT, mem_space.get(), file_space.get(), H5P_DEFAULT, rows.data()) >= 0,
          "/proteins/npx");
  std::fill(w.written.begin() + first, w.written.begin() + first + block.cols(), true);
  if (w.observed.empty()) w.observed.assign(static_cast<std::size_t>(w.n_proteins), 0);
  for (Eigen::Index j = 0; j < block.cols(); ++j)
    w.observed[static_cast<std::size_t>(first + j)] = (block.col(j).array() == block.col(j).array()).count();
}

void CohortWriter::finish() {
  Impl& w = *impl_;
  if (w.finished) return;
  const auto missing = std::find(w.written.begin(), w.written.end(), false);
  if (missing != w.written.end())
    throw std::logic_error(fmt::format("CohortWriter::finish: protein {} was never written", missing - w.written.begin()));
  const h5::QuietErrors quiet;
  {
    // Per-protein counts of observed samples: QC and the ranks' cost-based partition read them without the matrix.
    if (w.observed.empty()) w.observed.assign(static_cast<std::size_t>(w.n_proteins), 0);
    const Id g(H5Gopen2(w.file.get(), "proteins", H5P_DEFAULT), H5Gclose);
    w.check(g.valid(), "/proteins");
    w.write_vector(g.get(), "n_observed", H5T_STD_I64LE, H5T_NATIVE_INT64, w.observed);
  }
  w.check(w.npx.reset(), "/proteins/npx (close)");
  w.check(H5Fflush(w.file.get(), H5F_SCOPE_GLOBAL) >= 0, "(flush)");
  w.check(w.file.reset(), "(close)");
  std::error_code ec;
  std::filesystem::rename(w.temp, w.path, ec);
  if (ec) throw std::runtime_error(fmt::format("{}: cannot rename {} into place: {}", w.path, w.temp, ec.message()));
  w.finished = true;
}

// ---------------------------------------------------------------------------------------------------------------
struct CohortReader::Impl {
  std::string path;
  Id file;
  Id npx;
  ChunkShape chunk;  // of /proteins/npx ({n, 1} when not chunked)
  std::shared_ptr<const NpxMap> map;  // the matrix mapped into memory, when its layout allows
  CohortMeta meta;

  [[noreturn]] void fail(const std::string& object, const std::string& what) const {
    throw InputError(where(path, 0, 0, object.empty() ? what : fmt::format("{}: {}", object, what)));
  }

  // Opens dataset `name`, checking each link on the way down (H5Dopen on a missing path does not say which
  // part is missing), its type class and, when `dims` is given, its shape.
  Id open_dataset(const std::string& name, H5T_class_t type_class, const std::vector<hsize_t>* dims,
                  hid_t dapl = H5P_DEFAULT) const {
    std::size_t slash = 0;
    while ((slash = name.find('/', slash + 1)) != std::string::npos)
      if (H5Lexists(file.get(), name.substr(0, slash).c_str(), H5P_DEFAULT) <= 0) fail(name.substr(0, slash), "missing");
    if (H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) <= 0) fail(name, "missing");
    Id set(H5Dopen2(file.get(), name.c_str(), dapl), H5Dclose);
    if (!set.valid()) fail(name, "not a dataset");
    const Id type(H5Dget_type(set.get()), H5Tclose);
    if (H5Tget_class(type.get()) != type_class) {
      const char* expected = type_class == H5T_INTEGER ? "integer" : type_class == H5T_FLOAT ? "floating-point" : "string";
      fail(name, fmt::format("has the wrong type (expected {})", expected));
    }
    const std::vector<hsize_t> got = shape(set.get());
    if (dims != nullptr && got != *dims)
      fail(name, fmt::format("has shape [{}], expected [{}]", fmt::join(got, ", "), fmt::join(*dims, ", ")));
    if (dims == nullptr && got.size() != 1) fail(name, "is not one-dimensional");
    return set;
  }

  static std::vector<hsize_t> shape(hid_t set) {
    const Id space(H5Dget_space(set), H5Sclose);
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(H5Sget_simple_extent_ndims(space.get()), 0)));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
  }

  std::vector<std::string> strings(hid_t obj, bool is_attribute, const std::string& name) const {
    std::vector<std::string> out;
    if (!h5::read_strings(obj, is_attribute, out)) fail(name, "is not readable as strings: " + h5::error_message());
    return out;
  }

  std::string string_attribute(hid_t obj, const char* attr, const std::string& object) const {
    const std::string name = object + " attribute " + attr;
    if (H5Aexists(obj, attr) <= 0) fail(name, "missing");
    const Id a(H5Aopen(obj, attr, H5P_DEFAULT), H5Aclose);
    const std::vector<std::string> v = strings(a.get(), true, name);
    if (v.size() != 1) fail(name, "is not a single string");
    return v[0];
  }

  template <class T>
  std::vector<T> read_vector(hid_t set, hid_t mem_type, std::size_t n, const std::string& name) const {
    std::vector<T> v(n);
    if (n > 0 && H5Dread(set, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      fail(name, "read failed: " + h5::error_message());
    return v;
  }

  void read_format() {
    const std::string found = H5Aexists(file.get(), "format") > 0 ? string_attribute(file.get(), "format", "/") : "";
    if (found != kFormat) fail("", fmt::format("not a pwas cohort file (root attribute format is '{}', expected '{}')", found, kFormat));
    int version = 0;
    const Id a(H5Aopen(file.get(), "format_version", H5P_DEFAULT), H5Aclose);
    if (!a.valid() || H5Aread(a.get(), H5T_NATIVE_INT, &version) < 0) fail("/ attribute format_version", "missing or not an integer");
    if (version != kFormatVersion)
      fail("", fmt::format("cohort format_version {} is not supported (this pwas reads version {})", version, kFormatVersion));
  }

  void read_provenance() {
    std::vector<std::string> names;
    H5Aiterate2(file.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr,
                [](hid_t, const char* name, const H5A_info_t*, void* data) -> herr_t {
                  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
                  return 0;
                },
                &names);
    for (const std::string& name : names) {
      if (name == "format" || name == "format_version") continue;
      const Id a(H5Aopen(file.get(), name.c_str(), H5P_DEFAULT), H5Aclose);
      const Id type(H5Aget_type(a.get()), H5Tclose);
      if (H5Tget_class(type.get()) == H5T_STRING) meta.provenance[name] = string_attribute(file.get(), name.c_str(), "/");
    }
  }

  void read_proteins_meta() {
    const auto fill = [&](const char* dataset, std::string ProteinInfo::*field) {
      const std::string name = std::string("/proteins/") + dataset;
      const std::vector<hsize_t> dims{meta.proteins.size()};
      const Id set = open_dataset(name, H5T_STRING, &dims);
      const std::vector<std::string> v = strings(set.get(), false, name);
      for (std::size_t i = 0; i < v.size(); ++i) meta.proteins[i].*field = v[i];
    };
    fill("name", &ProteinInfo::name);
    fill("full_name", &ProteinInfo::full_name);
    fill("uniprot", &ProteinInfo::uniprot);
    fill("panel", &ProteinInfo::panel);
    if (H5Lexists(file.get(), "/proteins/n_observed", H5P_DEFAULT) > 0) {
      const std::vector<hsize_t> dims{meta.proteins.size()};
      const Id set = open_dataset("/proteins/n_observed", H5T_INTEGER, &dims);
      const auto v = read_vector<std::int64_t>(set.get(), H5T_NATIVE_INT64, meta.proteins.size(), "/proteins/n_observed");
      for (std::size_t i = 0; i < v.size(); ++i) meta.proteins[i].n_observed = v[i];
    }
  }

  void read_participants() {
    const std::size_t n = meta.n_samples();
    const std::vector<hsize_t> dims{n};
    if (H5Lexists(file.get(), "participants", H5P_DEFAULT) <= 0) fail("/participants", "missing");
    const Id g(H5Gopen2(file.get(), "participants", H5P_DEFAULT), H5Gclose);
    if (!g.valid()) fail("/participants", "not a group");
    if (H5Aexists(g.get(), "columns") <= 0) fail("/participants attribute columns", "missing");
    const Id order(H5Aopen(g.get(), "columns", H5P_DEFAULT), H5Aclose);
    for (const std::string& col : strings(order.get(), true, "/participants attribute columns")) {
      const std::string name = "/participants/" + col;
      Column c;
      c.name = col;
      if (col.empty() || col.find('/') != std::string::npos) fail(name, "is not a valid column name");
      if (H5Lexists(g.get(), col.c_str(), H5P_DEFAULT) <= 0) fail(name, "missing (listed in /participants attribute columns)");
      const Id probe(H5Dopen2(g.get(), col.c_str(), H5P_DEFAULT), H5Dclose);
      if (!probe.valid()) fail(name, "not a dataset");
      const std::string kind = string_attribute(probe.get(), "kind", name);
      if (kind == "numeric" || kind == "date") {
        const Id set = open_dataset(name, H5T_FLOAT, &dims);
        c.kind = kind == "date" ? ColumnKind::kDate : ColumnKind::kNumeric;
        c.numeric = read_vector<double>(set.get(), H5T_NATIVE_DOUBLE, n, name);
      } else if (kind == "categorical") {
        const Id set = open_dataset(name, H5T_INTEGER, &dims);
        c.kind = ColumnKind::kCategorical;
        c.codes = read_vector<std::int32_t>(set.get(), H5T_NATIVE_INT32, n, name);
        if (H5Aexists(set.get(), "levels") <= 0) fail(name + " attribute levels", "missing");
        const Id levels(H5Aopen(set.get(), "levels", H5P_DEFAULT), H5Aclose);
        c.levels = strings(levels.get(), true, name + " attribute levels");
        const auto n_levels = static_cast<std::int32_t>(c.levels.size());
        const auto bad = std::find_if(c.codes.begin(), c.codes.end(), [&](std::int32_t x) { return x < -1 || x >= n_levels; });
        if (bad != c.codes.end())
          fail(name, fmt::format("code {} at sample {} is outside its {} levels", *bad, bad - c.codes.begin(), n_levels));
      } else {
        fail(name, fmt::format("attribute kind is '{}', expected 'numeric', 'categorical' or 'date'", kind));
      }
      meta.columns.push_back(std::move(c));
    }
  }
};

CohortReader::CohortReader(const std::string& path, bool map_proteins) : impl_(std::make_unique<Impl>()) {
  const h5::QuietErrors quiet;
  Impl& r = *impl_;
  r.path = path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) r.fail("", "no such file");
  if (H5Fis_hdf5(path.c_str()) <= 0) r.fail("", "not an HDF5 file");
  r.file = Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!r.file.valid()) r.fail("", "cannot open: " + h5::error_message());
  r.read_format();
  r.read_provenance();

  // The eid and protein-name datasets fix n_samples and n_proteins; every other dataset is checked against them.
  const Id eid = r.open_dataset("/samples/eid", H5T_INTEGER, nullptr);
  const hsize_t n = Impl::shape(eid.get())[0];
  r.meta.eids = r.read_vector<std::int64_t>(eid.get(), H5T_NATIVE_INT64, n, "/samples/eid");
  const hsize_t p = Impl::shape(r.open_dataset("/proteins/name", H5T_STRING, nullptr).get())[0];
  r.meta.proteins.resize(p);
  r.read_proteins_meta();

  Id npx_probe(H5Dopen2(r.file.get(), "/proteins/npx", H5P_DEFAULT), H5Dclose);
  ChunkShape chunk{n, 1};
  if (npx_probe.valid()) {
    const Id dcpl(H5Dget_create_plist(npx_probe.get()), H5Pclose);
    hsize_t dims[2] = {0, 0};
    if (H5Pget_layout(dcpl.get()) == H5D_CHUNKED && H5Pget_chunk(dcpl.get(), 2, dims) == 2) chunk = {dims[0], dims[1]};
  }
  npx_probe.reset();
  r.chunk = chunk;
  const Id dapl = dataset_access(chunk);
  const std::vector<hsize_t> npx_dims{n, p};
  r.npx = r.open_dataset("/proteins/npx", H5T_FLOAT, &npx_dims, dapl.get());
  if (map_proteins) r.map = NpxMap::open(path, r.npx.get(), static_cast<std::int64_t>(n), static_cast<std::int64_t>(p));
  r.read_participants();
}

CohortReader::~CohortReader() {
  const h5::QuietErrors quiet;
  impl_.reset();
}

const CohortMeta& CohortReader::meta() const { return impl_->meta; }

bool CohortReader::mapped() const { return impl_->map != nullptr; }

void CohortReader::release_proteins(std::int64_t first, std::int64_t count) const {
  if (impl_->map != nullptr) impl_->map->release(first, count);
}

ProteinBlock CohortReader::proteins(std::int64_t first, std::int64_t count) const {
  const Impl& r = *impl_;
  if (r.map == nullptr) return ProteinBlock::from_matrix(read_proteins(first, count));
  const auto p = static_cast<std::int64_t>(r.meta.n_proteins());
  if (first < 0 || count < 0 || first + count > p)
    throw std::out_of_range(fmt::format("CohortReader::proteins({}, {}): the cohort has {} proteins", first, count, p));
  std::vector<ProteinColumn> columns;
  columns.reserve(static_cast<std::size_t>(count));
  for (std::int64_t j = first; j < first + count; ++j) columns.push_back(r.map->column(j));
  return {static_cast<std::int64_t>(r.meta.n_samples()), std::move(columns), r.map};
}

Eigen::MatrixXf CohortReader::read_proteins(std::int64_t first, std::int64_t count) const {
  const Impl& r = *impl_;
  const auto n = static_cast<std::int64_t>(r.meta.n_samples());
  const auto p = static_cast<std::int64_t>(r.meta.n_proteins());
  if (first < 0 || count < 0 || first + count > p)
    throw std::out_of_range(fmt::format("CohortReader::read_proteins({}, {}): the cohort has {} proteins", first, count, p));
  if (n == 0 || count == 0) return Eigen::MatrixXf(n, count);
  const h5::QuietErrors quiet;
  const Id file_space(H5Dget_space(r.npx.get()), H5Sclose);
  auto read = [&](std::int64_t c0, std::int64_t width, float* to) {
    const hsize_t start[2] = {0, static_cast<hsize_t>(c0)};
    const hsize_t size[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(width)};
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, size, nullptr);
    const Id mem_space = h5::simple_space({size[0], size[1]});
    if (H5Dread(r.npx.get(), H5T_NATIVE_FLOAT, mem_space.get(), file_space.get(), H5P_DEFAULT, to) < 0)
      r.fail("/proteins/npx", fmt::format("reading proteins {}..{} failed: {}", c0, c0 + width - 1, h5::error_message()));
  };
  Eigen::MatrixXf out(n, count);  // column-major: one contiguous vector per protein
  const auto per_chunk = static_cast<std::int64_t>(r.chunk.proteins);
  if (static_cast<std::int64_t>(r.chunk.rows) == n && per_chunk > 1) {
    // Chunk by chunk into a buffer of the chunk's own shape (HDF5 copies it whole), then out of its rows.
    std::vector<float> buffer(static_cast<std::size_t>(n * per_chunk));
    for (std::int64_t c0 = first; c0 < first + count;) {
      const std::int64_t c1 = std::min(first + count, (c0 / per_chunk + 1) * per_chunk);
      const std::int64_t width = c1 - c0;
      read(c0, width, buffer.data());
      for (std::int64_t k = 0; k < width; ++k) {
        float* col = out.col(c0 - first + k).data();
        const float* from = buffer.data() + k;
        for (std::int64_t i = 0; i < n; ++i) col[i] = from[i * width];
      }
      c0 = c1;
    }
    return out;
  }
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows(n, count);
  read(first, count, rows.data());
  out = rows;
  return out;
}

}  // namespace pwas::io
