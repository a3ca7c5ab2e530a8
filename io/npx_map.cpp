#include "io/npx_map.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "io/h5_util.hpp"

namespace pwas::io {
namespace {

using h5::Id;

// File offsets of the chunks of `npx`, chunk c holding proteins [c * width, (c + 1) * width); empty unless the
// layout qualifies (see NpxMap::open).
std::vector<std::uint64_t> chunk_offsets(hid_t npx, std::int64_t n, std::int64_t p, std::int64_t& width) {
  const Id dcpl(H5Dget_create_plist(npx), H5Pclose);
  if (!dcpl.valid() || H5Pget_nfilters(dcpl.get()) != 0) return {};
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t at = H5Dget_offset(npx);
    if (at == HADDR_UNDEF) return {};
    width = p;
    return {static_cast<std::uint64_t>(at)};
  }
  hsize_t dims[2] = {0, 0};
  if (layout != H5D_CHUNKED || H5Pget_chunk(dcpl.get(), 2, dims) != 2 || dims[0] != static_cast<hsize_t>(n) ||
      dims[1] == 0)
    return {};
  width = static_cast<std::int64_t>(dims[1]);
  const std::int64_t chunks = (p + width - 1) / width;
  const hsize_t chunk_bytes = dims[0] * dims[1] * sizeof(float);
  std::vector<std::uint64_t> out(static_cast<std::size_t>(chunks));
  for (std::int64_t c = 0; c < chunks; ++c) {
    const hsize_t at[2] = {0, static_cast<hsize_t>(c * width)};
    unsigned filter_mask = 0;
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    if (H5Dget_chunk_info_by_coord(npx, at, &filter_mask, &addr, &size) < 0 || addr == HADDR_UNDEF ||
        size != chunk_bytes || filter_mask != 0)
      return {};
    out[static_cast<std::size_t>(c)] = static_cast<std::uint64_t>(addr);
  }
  return out;
}

// The value HDF5 reads at (i, j).
bool read_one(hid_t npx, std::int64_t i, std::int64_t j, float& value) {
  const Id space(H5Dget_space(npx), H5Sclose);
  const hsize_t start[2] = {static_cast<hsize_t>(i), static_cast<hsize_t>(j)}, one[2] = {1, 1};
  if (H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, one, nullptr) < 0) return false;
  const Id mem = h5::simple_space({1, 1});
  return H5Dread(npx, H5T_NATIVE_FLOAT, mem.get(), space.get(), H5P_DEFAULT, &value) >= 0;
}

}  // namespace

std::shared_ptr<const NpxMap> NpxMap::open(const std::string& path, hid_t npx, std::int64_t n, std::int64_t p) {
  if (n <= 0 || p <= 0) return nullptr;
  const Id type(H5Dget_type(npx), H5Tclose);
  if (!type.valid() || H5Tequal(type.get(), H5T_NATIVE_FLOAT) <= 0) return nullptr;
  const Id file(H5Iget_file_id(npx), H5Fclose);
  const Id fcpl(H5Fget_create_plist(file.get()), H5Pclose);
  hsize_t userblock = 1;
  if (!fcpl.valid() || H5Pget_userblock(fcpl.get(), &userblock) < 0 || userblock != 0) return nullptr;
  std::int64_t width = 1;
  std::vector<std::uint64_t> offset = chunk_offsets(npx, n, p, width);
  if (offset.empty()) return nullptr;

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st {};
  const bool sized = ::fstat(fd, &st) == 0 && st.st_size > 0;
  // Every chunk (the contiguous matrix) must lie inside the file: a mapped page past its end would be a SIGBUS.
  const std::uint64_t bytes = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(width) * sizeof(float);
  bool inside = sized;
  for (const std::uint64_t at : offset)
    inside = inside && at % alignof(float) == 0 && at + bytes <= static_cast<std::uint64_t>(st.st_size);
  void* base = inside ? ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  ::close(fd);
  if (base == MAP_FAILED) return nullptr;
  std::shared_ptr<NpxMap> m(new NpxMap);
  m->base_ = base;
  m->length_ = static_cast<std::size_t>(st.st_size);
  m->n_ = n;
  m->p_ = p;
  m->width_ = width;
  m->offset_ = std::move(offset);
  // The corners and the middle of the matrix, bit for bit as HDF5 reads them (NaN payloads included).
  for (const std::int64_t i : {std::int64_t{0}, n / 2, n - 1})
    for (const std::int64_t j : {std::int64_t{0}, p / 2, p - 1}) {
      float want = 0.0F;
      const float got = m->column(j)[i];
      if (!read_one(npx, i, j, want) || std::memcmp(&want, &got, sizeof got) != 0) return nullptr;
    }
  return m;
}

NpxMap::~NpxMap() {
  if (base_ != nullptr) ::munmap(base_, length_);
}

void NpxMap::release(std::int64_t first, std::int64_t count) const {
  if (offset_.size() < 2 || count <= 0) return;
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t bytes = static_cast<std::uint64_t>(n_) * static_cast<std::uint64_t>(width_) * sizeof(float);
  for (std::int64_t c = first / width_; c * width_ < first + count; ++c) {
    const std::int64_t last = std::min(p_, (c + 1) * width_) - 1;
    if (last < first || last >= first + count) continue;
    const std::uint64_t begin = (offset_[static_cast<std::size_t>(c)] + page - 1) / page * page;
    const std::uint64_t end = (offset_[static_cast<std::size_t>(c)] + bytes) / page * page;
    if (end > begin) ::madvise(static_cast<char*>(base_) + begin, static_cast<std::size_t>(end - begin), MADV_DONTNEED);
  }
}

ProteinColumn NpxMap::column(std::int64_t j) const {
  const std::uint64_t at = offset_[static_cast<std::size_t>(j / width_)] +
                           static_cast<std::uint64_t>(j % width_) * sizeof(float);
  return {reinterpret_cast<const float*>(static_cast<const char*>(base_) + at), width_};
}

}  // namespace pwas::io
