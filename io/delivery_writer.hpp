#pragma once
// Fast writing of delivery-format text files (UK Biobank Showcase/RAP exports): numbers are formatted without
// locale into large in-memory buffers, which are written to the file with few, large fwrite calls.
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace pwas::io {

/// Upper bound on the characters write_int or write_fixed produce for one value.
inline constexpr std::size_t kMaxNumberChars = 24;

/// Powers of ten that fit an int64: kPow10[d] = 10^d.
inline constexpr std::array<std::int64_t, 19> kPow10 = [] {
  std::array<std::int64_t, 19> p{};
  p[0] = 1;
  for (std::size_t d = 1; d < p.size(); ++d) p[d] = p[d - 1] * 10;
  return p;
}();

/// Writes v in decimal at out (no locale, no padding); returns one past the last character.
inline char* write_int(char* out, std::int64_t v) noexcept {
  return std::to_chars(out, out + kMaxNumberChars, v).ptr;
}

/// Writes scaled / 10^decimals exactly, with `decimals` (0..18) digits after the point: (-12345, 4) -> "-1.2345".
// Inline so that a constant `decimals` turns the divisions into multiplications in the writers' hot loops.
inline char* write_fixed(char* out, std::int64_t scaled, int decimals) noexcept {
  if (decimals <= 0) return write_int(out, scaled);
  // The magnitude is taken as unsigned so that INT64_MIN does not overflow.
  const std::uint64_t magnitude =
      scaled < 0 ? 0 - static_cast<std::uint64_t>(scaled) : static_cast<std::uint64_t>(scaled);
  if (scaled < 0) *out++ = '-';
  const auto unit = static_cast<std::uint64_t>(kPow10[static_cast<std::size_t>(decimals)]);
  out = std::to_chars(out, out + kMaxNumberChars, magnitude / unit).ptr;
  *out++ = '.';
  std::uint64_t fraction = magnitude % unit;
  for (int d = decimals - 1; d >= 0; --d) {
    out[d] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  return out + decimals;
}

/// v rounded to `decimals` places (half away from zero) as the scaled integer write_fixed expects.
std::int64_t scale_round(double v, int decimals) noexcept;

/// A growable byte buffer that text is appended to; callers reserve room for a row and then write into it.
class TextBuffer {
 public:
  /// An empty buffer with `capacity` bytes reserved.
  explicit TextBuffer(std::size_t capacity = 1 << 20);

  /// Makes room for at least `bytes` more characters and returns where the next one goes.
  char* reserve(std::size_t bytes);
  /// Marks everything up to `end` (a pointer from reserve() or past it, within the reserved room) as written.
  void commit(char* end) noexcept { size_ = static_cast<std::size_t>(end - data_.get()); }

  /// Appends text.
  void put(std::string_view s);
  /// Appends one character.
  void put(char c);
  /// Appends an integer in decimal.
  void put_int(std::int64_t v);
  /// Appends scaled / 10^decimals with `decimals` digits after the point.
  void put_fixed(std::int64_t scaled, int decimals);

  /// Forgets the content, keeping the allocation.
  void clear() noexcept { size_ = 0; }
  /// The text written so far.
  std::string_view view() const noexcept { return {data_.get(), size_}; }
  /// Bytes written so far.
  std::size_t size() const noexcept { return size_; }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// A text file created (or truncated) for writing whole buffers; failures throw InputError naming the file.
class DeliveryFile {
 public:
  /// Creates or truncates `path`.
  explicit DeliveryFile(std::string path);
  /// Closes the file if still open, ignoring errors (call close() to see them).
  ~DeliveryFile();
  DeliveryFile(const DeliveryFile&) = delete;
  DeliveryFile& operator=(const DeliveryFile&) = delete;

  /// Appends bytes to the file.
  void write(std::string_view bytes);
  /// Flushes and closes the file, reporting any error (the destructor closes silently).
  void close();
  /// Bytes written so far.
  std::int64_t bytes() const noexcept { return bytes_; }
  /// The file's path.
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  std::int64_t bytes_ = 0;
};

}  // namespace pwas::io
