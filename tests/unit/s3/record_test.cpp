// Object records are stored as JSON; encode() writes plain-ASCII records by hand (the hot path of
// every PutObject) and the rest through nlohmann. Both must give the same document and read back.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "s3_store.hpp"

namespace fogbank::s3 {
namespace {

ObjectRecord sample() {
  ObjectRecord r;
  r.size = 4096;
  r.etag = "0123456789abcdef0123456789abcdef";
  r.modified_ms = 1795257503628;
  r.owner = "000000000000";
  r.headers = {{"Content-Type", "text/plain; charset=\"utf-8\""}, {"Cache-Control", "no-cache"}};
  r.metadata = {{"path", "C:\\temp\\a.txt"}, {"ctl", std::string("tab\there\x01\x1f", 11)}};
  r.tags = {{"k", "v"}};
  r.checksum_algorithm = "CRC64NVME";
  r.checksum = "AAAAAAAAAAA=";
  r.checksum_type = "FULL_OBJECT";
  r.segments = {Segment{"0001f2a3b4c5d6e7f8a9b0c1", 4096, "", ""}, Segment{"b2", 7, "e2", "k2"}};
  r.parts_count = 2;
  return r;
}

void expect_same(const ObjectRecord& a, const ObjectRecord& b) {
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.etag, b.etag);
  EXPECT_EQ(a.modified_ms, b.modified_ms);
  EXPECT_EQ(a.owner, b.owner);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.storage_class, b.storage_class);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.checksum_algorithm, b.checksum_algorithm);
  EXPECT_EQ(a.checksum, b.checksum);
  EXPECT_EQ(a.checksum_type, b.checksum_type);
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    EXPECT_EQ(a.segments[i].blob, b.segments[i].blob);
    EXPECT_EQ(a.segments[i].size, b.segments[i].size);
    EXPECT_EQ(a.segments[i].etag, b.segments[i].etag);
    EXPECT_EQ(a.segments[i].checksum, b.segments[i].checksum);
  }
  EXPECT_EQ(a.parts_count, b.parts_count);
  EXPECT_EQ(a.version_id, b.version_id);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.delete_marker, b.delete_marker);
  EXPECT_EQ(a.lock_mode, b.lock_mode);
  EXPECT_EQ(a.lock_until_ms, b.lock_until_ms);
  EXPECT_EQ(a.legal_hold, b.legal_hold);
  EXPECT_EQ(a.wrapped_key, b.wrapped_key);
  EXPECT_EQ(a.customer_key_md5, b.customer_key_md5);
  EXPECT_EQ(a.acl, b.acl);
}

TEST(ObjectRecordCodec, AsciiRecordRoundTripsAndMatchesTheGeneralEncoder) {
  const ObjectRecord r = sample();
  const std::string text = encode(r);
  // nlohmann re-dumps a parsed document with sorted keys and its own escapes: byte-identical
  // output means the hand-written path writes exactly what the general one would.
  EXPECT_EQ(nlohmann::json::parse(text).dump(), text);
  ObjectRecord back;
  ASSERT_TRUE(decode(text, back));
  expect_same(r, back);
}

TEST(ObjectRecordCodec, VersionAndLockFieldsMatchTheGeneralEncoder) {
  ObjectRecord r = sample();
  r.version_id = "Abc.def_0123456789abcdefghijklmn";
  r.seq = 1795257503628001;
  r.lock_mode = "GOVERNANCE";
  r.lock_until_ms = 1900000000000;
  r.legal_hold = "ON";
  r.wrapped_key = "c2VhbGVkIGtleQ==";
  r.customer_key_md5 = "q1w2e3r4t5y6u7i8o9p0aa==";
  r.acl = R"([{"Grantee":{"Type":"Group","URI":"http://acs.amazonaws.com/groups/global/AllUsers"},"Permission":"READ"}])";
  const std::string text = encode(r);
  EXPECT_EQ(nlohmann::json::parse(text).dump(), text);
  ObjectRecord back;
  ASSERT_TRUE(decode(text, back));
  expect_same(r, back);

  ObjectRecord marker;
  marker.delete_marker = true;
  marker.seq = 7;
  marker.version_id = "v";
  const std::string m = encode(marker);
  EXPECT_EQ(nlohmann::json::parse(m).dump(), m);
  ASSERT_TRUE(decode(m, back));
  expect_same(marker, back);
  // A record of an unversioned bucket carries none of the fields.
  EXPECT_EQ(encode(ObjectRecord{}).find("\"q\""), std::string::npos);
}

TEST(ObjectRecordCodec, EmptyRecord) {
  const ObjectRecord r;
  const std::string text = encode(r);
  EXPECT_EQ(nlohmann::json::parse(text).dump(), text);
  ObjectRecord back;
  ASSERT_TRUE(decode(text, back));
  expect_same(r, back);
}

TEST(ObjectRecordCodec, UnicodeTakesTheGeneralPath) {
  ObjectRecord r = sample();
  r.metadata.emplace_back("name", "caf\xc3\xa9 \xe2\x98\x83");
  const std::string text = encode(r);
  ObjectRecord back;
  ASSERT_TRUE(decode(text, back));
  expect_same(r, back);
}

TEST(ObjectRecordCodec, BytesThatAreNotUtf8AreReplacedNotFatal) {
  // A browser POST's Content-Type of "\xff" used to throw from the JSON encoder: a 500 (fuzz).
  ObjectRecord r = sample();
  r.headers.emplace_back("Content-Type", "\xff");
  r.metadata.emplace_back("m", "a\xc3");
  std::string text;
  ASSERT_NO_THROW(text = encode(r));
  ObjectRecord back;
  ASSERT_TRUE(decode(text, back));
  EXPECT_EQ(back.headers.back().second, "\xef\xbf\xbd");
  EXPECT_EQ(back.metadata.back().second, "a\xef\xbf\xbd");
}

}  // namespace
}  // namespace fogbank::s3
