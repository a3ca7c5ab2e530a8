#include "io/delivery_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <utility>

#include "io/error.hpp"

namespace pwas::io {

namespace {

std::string system_error(const std::string& path, const char* what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

}  // namespace

std::int64_t scale_round(double v, int decimals) noexcept {
  return static_cast<std::int64_t>(
      std::llround(v * static_cast<double>(kPow10[static_cast<std::size_t>(decimals)])));
}

TextBuffer::TextBuffer(std::size_t capacity)
    : data_(new char[capacity > 0 ? capacity : 1]), capacity_(capacity > 0 ? capacity : 1) {}

char* TextBuffer::reserve(std::size_t bytes) {
  if (size_ + bytes > capacity_) {
    std::size_t capacity = capacity_ * 2;
    while (capacity < size_ + bytes) capacity *= 2;
    std::unique_ptr<char[]> data(new char[capacity]);
    std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }
  return data_.get() + size_;
}

void TextBuffer::put(std::string_view s) {
  char* out = reserve(s.size());
  std::memcpy(out, s.data(), s.size());
  size_ += s.size();
}

void TextBuffer::put(char c) {
  *reserve(1) = c;
  ++size_;
}

void TextBuffer::put_int(std::int64_t v) { commit(write_int(reserve(kMaxNumberChars), v)); }

void TextBuffer::put_fixed(std::int64_t scaled, int decimals) {
  commit(write_fixed(reserve(kMaxNumberChars + static_cast<std::size_t>(decimals)), scaled, decimals));
}

DeliveryFile::DeliveryFile(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) throw InputError(system_error(path_, "cannot create file"));
  // Callers hand over multi-megabyte buffers, so stdio's own buffering would only add a copy.
  std::setvbuf(file_, nullptr, _IONBF, 0);
}

DeliveryFile::~DeliveryFile() {
  if (file_ != nullptr) std::fclose(file_);
}

void DeliveryFile::write(std::string_view bytes) {
  if (file_ == nullptr) throw InputError(path_ + ": write after close");
  if (bytes.empty()) return;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
    throw InputError(system_error(path_, "write failed"));
  bytes_ += static_cast<std::int64_t>(bytes.size());
}

void DeliveryFile::close() {
  if (file_ == nullptr) return;
  std::FILE* file = std::exchange(file_, nullptr);
  if (std::fclose(file) != 0) throw InputError(system_error(path_, "close failed"));
}

}  // namespace pwas::io
