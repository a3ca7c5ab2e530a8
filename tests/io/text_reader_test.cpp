#include "io/text_reader.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/io/test_support.hpp"

namespace pwas::io {
namespace {

using test::contains;
using test::input_error;
using test::TempDir;

std::vector<std::string> all_lines(const std::string& path, std::size_t block_bytes) {
  TextReader r(path, block_bytes);
  std::vector<std::string> out;
  std::string_view line;
  while (r.next_line(line)) {
    out.emplace_back(line);
    EXPECT_EQ(r.line_number(), static_cast<std::int64_t>(out.size()));
  }
  return out;
}

TEST(TextReader, StripsBomAndCrlfAndSuppliesLastNewline) {
  TempDir dir;
  const std::string path = dir.write("a.txt", "\xEF\xBB\xBF" "eid,x\r\n1,2\r\n\r\n3,4");
  EXPECT_EQ(all_lines(path, TextReader::kDefaultBlockBytes), (std::vector<std::string>{"eid,x", "1,2", "", "3,4"}));
}

TEST(TextReader, LinesLongerThanTheBufferGrowIt) {
  TempDir dir;
  const std::string long_line(1000, 'x');
  const std::string path = dir.write("a.txt", "short\n" + long_line + "\nend\n");
  EXPECT_EQ(all_lines(path, 64), (std::vector<std::string>{"short", long_line, "end"}));
}

TEST(TextReader, BlocksHoldWholeLinesAndCountThem) {
  TempDir dir;
  std::string content;
  for (int i = 0; i < 500; ++i) content += std::to_string(i) + "\tvalue\n";
  const std::string path = dir.write("a.txt", "header\n" + content);
  TextReader r(path, 100);
  std::string_view line;
  ASSERT_TRUE(r.next_line(line));
  EXPECT_EQ(line, "header");
  std::string joined;
  std::string_view block;
  while (r.next_block(block)) {
    ASSERT_EQ(block.back(), '\n');
    joined += block;
  }
  EXPECT_EQ(joined, content);
  EXPECT_EQ(r.line_number(), 501);
  EXPECT_EQ(r.bytes_read(), static_cast<std::int64_t>(content.size() + 7));
}

TEST(TextReader, MissingFileNamesIt) {
  const std::string msg = input_error([] { TextReader r("/nonexistent/olink.txt"); });
  EXPECT_TRUE(contains(msg, "/nonexistent/olink.txt")) << msg;
  EXPECT_TRUE(contains(msg, "No such file")) << msg;
}

TEST(SplitFields, KeepsEmptyFields) {
  std::vector<std::string_view> f;
  split_fields("a,,b,", ',', f);
  EXPECT_EQ(f, (std::vector<std::string_view>{"a", "", "b", ""}));
  EXPECT_EQ(detect_delimiter("eid\tx,y"), '\t');
  EXPECT_EQ(detect_delimiter("eid,x"), ',');
  EXPECT_EQ(trim("  a b \t"), "a b");
}

TEST(RecordReader, CsvQuotesFollowRfc4180) {
  TempDir dir;
  const std::string path = dir.write("p.csv",
                                     "eid,name,note\n"
                                     "1,\"Smith, J\",\"said \"\"hi\"\"\"\n"
                                     "2,\"two\nlines\",x\n"
                                     "\n"
                                     "3,plain,\"\"\n");
  RecordReader r(path);
  EXPECT_EQ(r.delimiter(), ',');
  std::vector<std::string_view> f;
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(r.line(), 1);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string_view>{"1", "Smith, J", "said \"hi\""}));
  EXPECT_EQ(r.line(), 2);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string_view>{"2", "two\nlines", "x"}));
  EXPECT_EQ(r.line(), 3);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string_view>{"3", "plain", ""}));
  EXPECT_EQ(r.line(), 6);
  EXPECT_FALSE(r.next(f));
}

TEST(RecordReader, TsvTakesQuotesLiterally) {
  TempDir dir;
  const std::string path = dir.write("p.tsv", "eid\tname\n1\t\"a\tb\n");
  RecordReader r(path);
  std::vector<std::string_view> f;
  ASSERT_TRUE(r.next(f));
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string_view>{"1", "\"a", "b"}));
}

TEST(RecordReader, UnclosedQuoteNamesItsLine) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,x\n1,a\n2,\"open\n3,b\n");
  RecordReader r(path);
  std::vector<std::string_view> f;
  r.next(f);
  r.next(f);
  const std::string msg = input_error([&] { r.next(f); });
  EXPECT_TRUE(contains(msg, "p.csv:3:2:")) << msg;
}

TEST(RecordReader, TextAfterClosingQuoteIsAnError) {
  TempDir dir;
  const std::string path = dir.write("p.csv", "eid,x\n1,\"a\"b\n");
  RecordReader r(path);
  std::vector<std::string_view> f;
  r.next(f);
  const std::string msg = input_error([&] { r.next(f); });
  EXPECT_TRUE(contains(msg, "p.csv:2:2:")) << msg;
}

}  // namespace
}  // namespace pwas::io
