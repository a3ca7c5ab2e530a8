#pragma once
// Thin helpers over the HDF5 C API for the cohort file: owned identifiers, quiet error stacks, UTF-8 strings.
#include <cstdint>
#include <string>
#include <vector>

#include <hdf5.h>

namespace pwas::io::h5 {

/// Owns an HDF5 identifier and closes it with the matching H5?close function.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  /// Closes the identifier now; returns false if HDF5 reported an error (a failed flush, say).
  bool reset();

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

/// Turns off HDF5's printing of error stacks on this thread while alive: failures become exceptions instead.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// The most specific message of this thread's last HDF5 failure (the error stack, or what a helper below saved).
std::string error_message();

/// A variable-length UTF-8 string type (h5py reads it as str).
Id utf8_string_type();

/// A simple dataspace of the given dimensions.
Id simple_space(std::vector<hsize_t> dims);

/// Writes `value` as a scalar UTF-8 string attribute; false on failure.
bool write_string_attribute(hid_t obj, const char* name, const std::string& value);
/// Writes `values` as a one-dimensional UTF-8 string attribute; false on failure.
bool write_strings_attribute(hid_t obj, const char* name, const std::vector<std::string>& values);
/// Writes `values` as a one-dimensional UTF-8 string dataset `name` under `loc`; false on failure.
bool write_strings_dataset(hid_t loc, const char* name, const std::vector<std::string>& values);

/// Reads every string of a string-typed dataset or attribute (variable or fixed length); false on failure.
bool read_strings(hid_t obj, bool is_attribute, std::vector<std::string>& out);

}  // namespace pwas::io::h5
