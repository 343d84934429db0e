#include <gtest/gtest.h>

#include <set>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/uri.hpp"

namespace fogbank::protocol {
namespace {

TEST(Crypto, Sha256KnownAnswers) {
  EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, Md5KnownAnswers) {
  EXPECT_EQ(hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex(md5("The quick brown fox jumps over the lazy dog")), "9e107d9d372bb6826bd81d3542a419d6");
}

TEST(Crypto, HmacSha256Rfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  EXPECT_EQ(hex(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hex(hmac_sha256("", "")), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Crypto, AesCtrSp800_38aVectorAndMidStreamOffsets) {
  // NIST SP 800-38A F.5.5 (CTR-AES256.Encrypt), first two blocks.
  const auto key = *unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
  const auto iv = *unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  auto data = *unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
  AesCtr(key, iv).apply(data.data(), data.size());
  EXPECT_EQ(hex(data), "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5");

  // Starting anywhere gives the bytes a whole pass gives there, across the counter's carry.
  const auto carry_iv = *unhex("00000000000000000000000000fffffe");
  std::string plain(1000, '\0');
  for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<char>(i * 7);
  std::string whole = plain;
  AesCtr(key, carry_iv).apply(whole.data(), whole.size());
  for (std::uint64_t offset : {0u, 1u, 15u, 16u, 17u, 37u, 512u, 999u}) {
    std::string part = plain.substr(offset);
    AesCtr(key, carry_iv, offset).apply(part.data(), part.size());
    EXPECT_EQ(part, whole.substr(offset)) << offset;
  }
}

TEST(Crypto, AesGcmSealsAndRefusesTampering) {
  const std::string key(32, 'k');
  const auto sealed = aes_gcm_seal(key, "data key", "context");
  EXPECT_EQ(aes_gcm_open(key, sealed, "context"), "data key");
  EXPECT_FALSE(aes_gcm_open(key, sealed, "other"));
  EXPECT_FALSE(aes_gcm_open(std::string(32, 'x'), sealed, "context"));
  auto flipped = sealed;
  flipped[14] = static_cast<char>(flipped[14] ^ 1);
  EXPECT_FALSE(aes_gcm_open(key, flipped, "context"));
  EXPECT_FALSE(aes_gcm_open(key, "short"));
}

TEST(Crypto, IncrementalMatchesOneShot) {
  std::string data;
  for (int i = 0; i < 10000; ++i) {
    data.push_back(static_cast<char>(i * 7));
  }
  Sha256 s;
  Md5 m;
  for (std::size_t i = 0; i < data.size(); i += 333) {
    s.update(std::string_view(data).substr(i, 333));
    m.update(std::string_view(data).substr(i, 333));
  }
  EXPECT_EQ(s.finish(), sha256(data));
  EXPECT_EQ(m.finish(), md5(data));

  Sha256 moved_from;
  Sha256 moved_to = std::move(moved_from);
  moved_to.update("abc");
  EXPECT_EQ(hex(moved_to.finish()), hex(sha256("abc")));
}

TEST(Crypto, HexRoundTrip) {
  EXPECT_EQ(hex(std::string_view("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(unhex("00fF10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(unhex(""), std::string());
  EXPECT_FALSE(unhex("abc"));
  EXPECT_FALSE(unhex("zz"));
  EXPECT_FALSE(unhex("0g"));
}

TEST(Crypto, Base64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string_view("\xfb\xff", 2)), "+/8=");
  EXPECT_EQ(base64_decode("Zm9vYmFy"), "foobar");
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode(""), "");
  EXPECT_EQ(base64_decode("+/8="), std::string("\xfb\xff", 2));
  EXPECT_FALSE(base64_decode("Zg"));        // missing padding
  EXPECT_FALSE(base64_decode("Zg=a"));      // data after padding
  EXPECT_FALSE(base64_decode("Z==="));      // too much padding
  EXPECT_FALSE(base64_decode("Zg==Zg=="));  // padding in the middle
  EXPECT_FALSE(base64_decode("Zm9v\n"));    // whitespace
  EXPECT_FALSE(base64_decode("Zm-_"));      // url-safe alphabet
  EXPECT_FALSE(base64_decode("Zh=="));      // non-canonical trailing bits
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  for (std::size_t n = 0; n < all.size(); n += 17) {
    auto part = all.substr(0, n);
    EXPECT_EQ(base64_decode(base64_encode(part)), part);
  }
}

TEST(Crypto, Randomness) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(100).size(), 100u);
  EXPECT_NE(random_bytes(32), random_bytes(32));

  auto id = random_upper_alnum(20);
  ASSERT_EQ(id.size(), 20u);
  for (char c : id) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << c;
  }

  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto u = random_uuid();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[13], '-');
    EXPECT_EQ(u[14], '4');
    EXPECT_EQ(u[18], '-');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
    EXPECT_EQ(u[23], '-');
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Uri, Encode) {
  EXPECT_EQ(uri_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(uri_encode("a b/c+d=e&f*"), "a%20b%2Fc%2Bd%3De%26f%2A");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4"), "%E1%88%B4");
  EXPECT_EQ(uri_encode("%"), "%25");
}

TEST(Uri, Decode) {
  EXPECT_EQ(percent_decode("a%20b%2fc"), "a b/c");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%E1%88%B4"), "\xe1\x88\xb4");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("abc%"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("%g0"));
}

TEST(Uri, ParseQueryString) {
  auto q = parse_query_string("a=1&b=&c&d=x%20y+z&&e=%3D=");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 5u);
  EXPECT_EQ((*q)[0], (std::pair<std::string, std::string>{"a", "1"}));
  EXPECT_EQ((*q)[1], (std::pair<std::string, std::string>{"b", ""}));
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>{"c", ""}));
  EXPECT_EQ((*q)[3], (std::pair<std::string, std::string>{"d", "x y z"}));
  EXPECT_EQ((*q)[4], (std::pair<std::string, std::string>{"e", "=="}));
  ASSERT_NE(find_param(*q, "d"), nullptr);
  EXPECT_EQ(*find_param(*q, "d"), "x y z");
  EXPECT_EQ(find_param(*q, "D"), nullptr);
  EXPECT_TRUE(parse_query_string("")->empty());
  EXPECT_FALSE(parse_query_string("a=%zz"));
}

}  // namespace
}  // namespace fogbank::protocol
