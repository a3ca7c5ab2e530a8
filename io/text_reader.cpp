#include "io/text_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "io/error.hpp"

namespace pwas::io {

TextReader::TextReader(std::string path, std::size_t block_bytes) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(where(path_, 0, 0, fmt::format("cannot open: {}", std::strerror(errno))));
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  buf_.resize(std::max<std::size_t>(block_bytes, 64));
}

TextReader::~TextReader() {
  if (fd_ >= 0) ::close(fd_);
}

// Moves the unread tail to the front and reads more after it, growing the buffer only when one line fills it.
// At end of file a missing final '\n' is supplied, so callers never see a line without its terminator.
void TextReader::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  while (!eof_) {
    const ssize_t got = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw InputError(where(path_, 0, 0, fmt::format("cannot read: {}", std::strerror(errno))));
    }
    if (got == 0) {
      eof_ = true;
      break;
    }
    end_ += static_cast<std::size_t>(got);
    bytes_read_ += got;
    if (started_ || end_ >= 3) break;  // the first fill needs three bytes to recognise a byte-order mark
  }
  if (!started_) {
    started_ = true;
    if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) begin_ = 3;
  }
  if (eof_ && end_ > begin_ && buf_[end_ - 1] != '\n') {
    if (end_ == buf_.size()) buf_.resize(buf_.size() + 1);
    buf_[end_++] = '\n';
  }
}

bool TextReader::next_line(std::string_view& line) {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - begin_));
    if (nl != nullptr) {
      std::size_t len = static_cast<std::size_t>(nl - start);
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      begin_ = static_cast<std::size_t>(nl - buf_.data()) + 1;
      ++line_;
      return true;
    }
    if (eof_) return false;
    fill();
  }
}

bool TextReader::next_block(std::string_view& block) {
  for (;;) {
    const char* start = buf_.data() + begin_;
    const auto* nl = static_cast<const char*>(::memrchr(start, '\n', end_ - begin_));
    if (nl != nullptr) {
      block = std::string_view(start, static_cast<std::size_t>(nl - start) + 1);
      begin_ = static_cast<std::size_t>(nl - buf_.data()) + 1;
      line_ += std::count(block.begin(), block.end(), '\n');
      return true;
    }
    if (eof_) return false;
    fill();
  }
}

char detect_delimiter(std::string_view header) {
  return header.find('\t') != std::string_view::npos ? '\t' : ',';
}

void split_fields(std::string_view line, char delim, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = line.find(delim, start);
    if (pos == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return;
    }
    fields.push_back(line.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const std::size_t last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

RecordReader::RecordReader(const std::string& path) : text_(path) {
  have_first_ = text_.next_line(first_);
  if (have_first_) {
    delim_ = detect_delimiter(first_);
    quoted_ = delim_ == ',';
  }
}

bool RecordReader::next_physical_line(std::string_view& line) {
  if (have_first_) {
    have_first_ = false;
    line = first_;
    return true;
  }
  return text_.next_line(line);
}

bool RecordReader::next(std::vector<std::string_view>& fields) {
  std::string_view line;
  do {
    if (!next_physical_line(line)) return false;
  } while (line.empty());
  line_ = text_.line_number();
  if (!quoted_ || line.find('"') == std::string_view::npos) {
    split_fields(line, delim_, fields);
    return true;
  }
  parse_quoted(line, fields);
  return true;
}

// RFC 4180: a field that starts with '"' runs to the next lone '"'; "" inside it is one quote, and it may span
// lines. Fields are copied into scratch_ and viewed only once the record is complete (scratch_ may reallocate).
void RecordReader::parse_quoted(std::string_view line, std::vector<std::string_view>& fields) {
  scratch_.clear();
  ends_.clear();
  std::size_t i = 0;
  for (;;) {
    const std::int64_t column = static_cast<std::int64_t>(ends_.size()) + 1;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        const std::size_t q = line.find('"', i);
        if (q == std::string_view::npos) {
          scratch_.append(line.substr(i));
          scratch_.push_back('\n');
          if (!text_.next_line(line))
            throw InputError(where(path(), line_, column, "quoted field is not closed before the end of the file"));
          i = 0;
          continue;
        }
        scratch_.append(line.substr(i, q - i));
        if (q + 1 < line.size() && line[q + 1] == '"') {
          scratch_.push_back('"');
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < line.size() && line[i] != delim_)
        throw InputError(where(path(), text_.line_number(), column, "unexpected text after a closing quote"));
    } else {
      const std::size_t d = std::min(line.find(delim_, i), line.size());
      scratch_.append(line.substr(i, d - i));
      i = d;
    }
    ends_.push_back(scratch_.size());
    if (i >= line.size()) break;
    ++i;  // the delimiter
  }
  fields.clear();
  std::size_t start = 0;
  for (const std::size_t end : ends_) {
    fields.emplace_back(scratch_.data() + start, end - start);
    start = end;
  }
}

}  // namespace pwas::io
