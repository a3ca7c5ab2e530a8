#include "io/h5_util.hpp"

#include <cstring>

namespace pwas::io::h5 {

Id& Id::operator=(Id&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    close_ = o.close_;
    o.id_ = -1;
  }
  return *this;
}

bool Id::reset() {
  bool ok = true;
  if (id_ >= 0 && close_ != nullptr) ok = close_(id_) >= 0;
  id_ = -1;
  return ok;
}

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

namespace {

thread_local std::string t_saved;  // message of the last helper failure, read before later calls clear the stack

std::string stack_message() {
  std::string message;
  // Walking upward starts at the innermost error, which says what actually went wrong ("file exists", ...).
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* data) -> herr_t {
        if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(data) = err->desc;
        return 0;
      },
      &message);
  return message;
}

// Every HDF5 call clears the error stack, including the closes that follow a failure; keep the message now.
bool failed() {
  t_saved = stack_message();
  return false;
}

}  // namespace

std::string error_message() {
  std::string message = stack_message();
  if (message.empty()) message.swap(t_saved);
  t_saved.clear();
  return message.empty() ? std::string("HDF5 error") : message;
}

Id utf8_string_type() {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

Id simple_space(std::vector<hsize_t> dims) {
  return Id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
}

namespace {

std::vector<const char*> c_strings(const std::vector<std::string>& values) {
  std::vector<const char*> p(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) p[i] = values[i].c_str();
  return p;
}

}  // namespace

bool write_string_attribute(hid_t obj, const char* name, const std::string& value) {
  const Id type = utf8_string_type();
  const Id space(H5Screate(H5S_SCALAR), H5Sclose);
  const Id attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* p = value.c_str();
  return (attr.valid() && H5Awrite(attr.get(), type.get(), &p) >= 0) || failed();
}

bool write_strings_attribute(hid_t obj, const char* name, const std::vector<std::string>& values) {
  const Id type = utf8_string_type();
  const Id space = simple_space({values.size()});
  const Id attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const std::vector<const char*> p = c_strings(values);
  return (attr.valid() && (values.empty() || H5Awrite(attr.get(), type.get(), p.data()) >= 0)) || failed();
}

bool write_strings_dataset(hid_t loc, const char* name, const std::vector<std::string>& values) {
  const Id type = utf8_string_type();
  const Id space = simple_space({values.size()});
  const Id set(H5Dcreate2(loc, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  const std::vector<const char*> p = c_strings(values);
  return (set.valid() && (values.empty() || H5Dwrite(set.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) >= 0)) ||
         failed();
}

bool read_strings(hid_t obj, bool is_attribute, std::vector<std::string>& out) {
  const Id file_type(is_attribute ? H5Aget_type(obj) : H5Dget_type(obj), H5Tclose);
  const Id space(is_attribute ? H5Aget_space(obj) : H5Dget_space(obj), H5Sclose);
  if (!file_type.valid() || !space.valid() || H5Tget_class(file_type.get()) != H5T_STRING) return failed();
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) return failed();
  out.assign(static_cast<std::size_t>(n), std::string());
  if (n == 0) return true;
  const Id mem_type(H5Tcopy(file_type.get()), H5Tclose);
  auto read = [&](void* buf) {
    return (is_attribute ? H5Aread(obj, mem_type.get(), buf)
                         : H5Dread(obj, mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) >= 0;
  };
  if (H5Tis_variable_str(file_type.get()) > 0) {
    std::vector<char*> p(static_cast<std::size_t>(n), nullptr);
    if (!read(p.data())) return failed();
    for (std::size_t i = 0; i < p.size(); ++i)
      if (p[i] != nullptr) out[i] = p[i];
    H5Dvlen_reclaim(mem_type.get(), space.get(), H5P_DEFAULT, p.data());
    return true;
  }
  const std::size_t size = H5Tget_size(file_type.get());
  std::vector<char> buf(size * static_cast<std::size_t>(n));
  if (!read(buf.data())) return failed();
  const bool space_padded = H5Tget_strpad(file_type.get()) == H5T_STR_SPACEPAD;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char* s = buf.data() + i * size;
    std::size_t len = strnlen(s, size);
    while (space_padded && len > 0 && s[len - 1] == ' ') --len;
    out[i].assign(s, len);
  }
  return true;
}

}  // namespace pwas::io::h5
