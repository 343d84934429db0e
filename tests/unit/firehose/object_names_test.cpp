// Firehose's object names, prefixes and compression formats, checked by decoding what it wrote
// with the reference libraries (zlib, snappy).

#include "object_names.hpp"

#include <snappy-c.h>
#include <zlib.h>

#include <gtest/gtest.h>

namespace fogbank::firehose {
namespace {

constexpr std::int64_t k2026_03_04_05_06_07 = 1772600767000;  // 2026-03-04T05:06:07Z

std::uint32_t le(std::string_view s, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  }
  return v;
}

std::string unsnappy(std::string_view block) {
  std::size_t n = 0;
  EXPECT_EQ(snappy_uncompressed_length(block.data(), block.size(), &n), SNAPPY_OK);
  std::string out(n, '\0');
  EXPECT_EQ(snappy_uncompress(block.data(), block.size(), out.data(), &n), SNAPPY_OK);
  return out;
}

std::string inflate_all(std::string_view data, int window_bits) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, window_bits), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

TEST(FirehoseNames, DefaultPrefixIsTheUtcHour) {
  EXPECT_EQ(evaluate_prefix("", k2026_03_04_05_06_07), "2026/03/04/05/");
  EXPECT_EQ(evaluate_prefix("logs/", k2026_03_04_05_06_07), "logs/2026/03/04/05/");
}

TEST(FirehoseNames, ExpressionsReplaceTheDefault) {
  auto fixed = [] { return std::string("rnd"); };
  EXPECT_EQ(evaluate_prefix("y=!{timestamp:yyyy}/m=!{timestamp:MM}/d=!{timestamp:dd}/", k2026_03_04_05_06_07, "", fixed),
            "y=2026/m=03/d=04/");
  EXPECT_EQ(evaluate_prefix("!{timestamp:yyyy-MM-dd'T'HH}/!{firehose:random-string}/", k2026_03_04_05_06_07, "", fixed),
            "2026-03-04T05/rnd/");
  EXPECT_EQ(evaluate_prefix("err/!{firehose:error-output-type}/", k2026_03_04_05_06_07, "processing-failed", fixed),
            "err/processing-failed/");
  EXPECT_EQ(evaluate_prefix("!{timestamp:yyyy", 0), std::nullopt);
  EXPECT_EQ(evaluate_prefix("!{timestamp:}", 0), std::nullopt);
  EXPECT_EQ(evaluate_prefix("!{timestamp:QQ}", 0), std::nullopt);
  EXPECT_EQ(evaluate_prefix("!{nope:x}", 0), std::nullopt);
  EXPECT_FALSE(valid_prefix("!{firehose:error-output-type}", false));
  EXPECT_TRUE(valid_prefix("!{firehose:error-output-type}", true));
}

TEST(FirehoseNames, ObjectNamesAsAwsFormsThem) {
  EXPECT_EQ(object_name("s", 2, k2026_03_04_05_06_07, "id", "UNCOMPRESSED", ""), "s-2-2026-03-04-05-06-07-id");
  EXPECT_EQ(object_name("s", 1, k2026_03_04_05_06_07, "id", "GZIP", ""), "s-1-2026-03-04-05-06-07-id.gz");
  EXPECT_EQ(object_name("s", 1, k2026_03_04_05_06_07, "id", "GZIP", ".json.gz"), "s-1-2026-03-04-05-06-07-id.json.gz");
  EXPECT_EQ(object_name("s", 1, 0, "id", "Snappy", ""), "s-1-1970-01-01-00-00-00-id.snappy");
}

TEST(FirehoseCompression, EachFormatDecodesWithItsReferenceLibrary) {
  std::string data;
  for (int i = 0; i < 30000; ++i) {
    data += "{\"n\":" + std::to_string(i) + "}\n";  // > 64 KiB: several snappy chunks
  }
  EXPECT_EQ(compress("UNCOMPRESSED", data, "x"), data);
  EXPECT_EQ(inflate_all(compress("GZIP", data, "x"), 15 + 16), data);

  const std::string zip = compress("ZIP", data, "entry");
  ASSERT_EQ(le(zip, 0, 4), 0x04034b50u);
  EXPECT_EQ(le(zip, 22, 4), data.size());
  const std::size_t name_len = le(zip, 26, 2);
  EXPECT_EQ(zip.substr(30, name_len), "entry");
  const std::size_t compressed = le(zip, 18, 4);
  EXPECT_EQ(inflate_all(std::string_view(zip).substr(30 + name_len, compressed), -15), data);

  const std::string framed = compress("Snappy", data, "x");
  ASSERT_EQ(framed.substr(0, 10), std::string("\xff\x06\x00\x00sNaPpY", 10));
  std::string back;
  for (std::size_t at = 10; at < framed.size();) {
    const char type = framed[at];
    const std::size_t len = le(framed, at + 1, 3);
    const std::string_view body = std::string_view(framed).substr(at + 8, len - 4);
    back += type == 0 ? unsnappy(body) : std::string(body);
    at += 4 + len;
  }
  EXPECT_EQ(back, data);

  const std::string hadoop = compress("HADOOP_SNAPPY", data, "x");
  std::string hback;
  auto be = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      v = (v << 8) | static_cast<unsigned char>(hadoop[at + i]);
    }
    return v;
  };
  for (std::size_t at = 0; at < hadoop.size();) {
    const std::size_t raw = be(at);
    const std::size_t len = be(at + 4);
    hback += unsnappy(std::string_view(hadoop).substr(at + 8, len));
    EXPECT_EQ(hback.size() % (256 * 1024) == 0 || hback.size() == data.size(), true) << raw;
    at += 8 + len;
  }
  EXPECT_EQ(hback, data);
}

}  // namespace
}  // namespace fogbank::firehose
