#pragma once
// Buffered reading of delimited text: large ::read blocks, lines and fields handed out as views, line numbers
// tracked. Nothing here holds a whole file, so a 4 GB Olink file costs one buffer of memory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pwas::io {

/// Reads a text file in large blocks; skips a UTF-8 byte-order mark and supplies a final '\n' if the file lacks one.
class TextReader {
 public:
  static constexpr std::size_t kDefaultBlockBytes = std::size_t{1} << 24;

  /// Opens `path`; throws InputError naming the file if it cannot be opened.
  explicit TextReader(std::string path, std::size_t block_bytes = kDefaultBlockBytes);
  ~TextReader();
  TextReader(const TextReader&) = delete;
  TextReader& operator=(const TextReader&) = delete;

  /// The path as given.
  const std::string& path() const { return path_; }
  /// Bytes read from the file so far (the whole size once the end is reached).
  std::int64_t bytes_read() const { return bytes_read_; }
  /// Number (1-based) of the last line handed out by next_line() or next_block().
  std::int64_t line_number() const { return line_; }

  /// Next line without its terminator ("\n" or "\r\n"); false at end of file. Valid until the next call.
  bool next_line(std::string_view& line);
  /// Next run of whole lines, each ending in '\n'; false at end of file. Valid until the next call.
  bool next_block(std::string_view& block);

 private:
  void fill();

  std::string path_;
  int fd_ = -1;
  std::vector<char> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool started_ = false;
  std::int64_t bytes_read_ = 0;
  std::int64_t line_ = 0;
};

/// Field delimiter of a file whose first line is `header`: tab if it contains one, otherwise comma.
char detect_delimiter(std::string_view header);

/// Splits `line` at every `delim` (no quote handling) into `fields`, which view `line`.
void split_fields(std::string_view line, char delim, std::vector<std::string_view>& fields);

/// Removes leading and trailing spaces and tabs.
std::string_view trim(std::string_view s);

/// Reads records of a CSV file (RFC 4180 quotes, quoted delimiters and newlines) or a TSV file (no quoting).
class RecordReader {
 public:
  /// Opens `path`; the delimiter is tab if the first line contains one, otherwise comma (quotes only in CSV).
  explicit RecordReader(const std::string& path);

  /// The path as given.
  const std::string& path() const { return text_.path(); }
  /// The delimiter detected from the first line.
  char delimiter() const { return delim_; }
  /// Line number (1-based) on which the last record returned by next() starts.
  std::int64_t line() const { return line_; }

  /// Next non-blank record's fields, unquoted; false at end of file. Views are valid until the next call.
  bool next(std::vector<std::string_view>& fields);

 private:
  bool next_physical_line(std::string_view& line);
  void parse_quoted(std::string_view line, std::vector<std::string_view>& fields);

  TextReader text_;
  char delim_ = ',';
  bool quoted_ = true;
  bool have_first_ = false;
  std::string_view first_;
  std::int64_t line_ = 0;
  std::string scratch_;
  std::vector<std::size_t> ends_;
};

}  // namespace pwas::io
