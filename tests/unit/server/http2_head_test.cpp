// The pure parts of the HTTP/2 edge: sniffing the client preface on the plain listener and
// turning a stream's header fields into the RequestHead every service sees.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

// Internal to fogbank_server.
#include "http2_session.hpp"

namespace fogbank::server::h2 {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(Http2PrefaceTest, WholePrefaceIsHttp2) {
  EXPECT_EQ(match_preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Preface::kYes);
  // Frames may follow in the same read.
  EXPECT_EQ(match_preface(std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\x12\x04", 28)), Preface::kYes);
}

TEST(Http2PrefaceTest, PrefixAsksForMore) {
  EXPECT_EQ(match_preface(""), Preface::kPartial);
  EXPECT_EQ(match_preface("P"), Preface::kPartial);
  EXPECT_EQ(match_preface("PRI * HTTP/2.0\r\n"), Preface::kPartial);
}

TEST(Http2PrefaceTest, Http1RequestsAreNot) {
  EXPECT_EQ(match_preface("PUT /b/k HTTP/1.1\r\n"), Preface::kNo);
  EXPECT_EQ(match_preface("POST / HTTP/1.1\r\n"), Preface::kNo);
  EXPECT_EQ(match_preface("PRI * HTTP/1.1\r\n\r\n"), Preface::kNo);
  EXPECT_EQ(match_preface("GET / HTTP/1.1\r\n"), Preface::kNo);
}

TEST(Http2HeadTest, PseudoHeadersBecomeTheRequestLine) {
  auto head = request_head({{":method", "PUT"},
                            {":scheme", "http"},
                            {":authority", "localhost:4566"},
                            {":path", "/bucket/a%20b?uploads&x=1"},
                            {"x-amz-date", "20250101T000000Z"}},
                           true, "10.0.0.1");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->method, "PUT");
  EXPECT_EQ(head->target, "/bucket/a%20b?uploads&x=1");
  EXPECT_EQ(head->path, "/bucket/a%20b");
  EXPECT_EQ(head->query, "uploads&x=1");
  EXPECT_EQ(head->headers.get("host"), "localhost:4566");
  EXPECT_EQ(head->headers.get("x-amz-date"), "20250101T000000Z");
  // Signed as such by HTTP/2 SDKs, so the verifier must see it.
  EXPECT_EQ(head->headers.get(":authority"), "localhost:4566");
  EXPECT_FALSE(head->headers.has(":method"));
  EXPECT_FALSE(head->headers.has(":scheme"));
  EXPECT_TRUE(head->tls);
  EXPECT_EQ(head->remote_address, "10.0.0.1");
}

TEST(Http2HeadTest, HostHeaderWinsOverAuthority) {
  auto head = request_head({{":method", "GET"}, {":path", "/"}, {":authority", "a:1"}, {"host", "b:2"}}, false, "");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->headers.get("host"), "b:2");
  int hosts = 0;
  for (const auto& [name, value] : head->headers.items()) {
    hosts += name == "host" ? 1 : 0;
  }
  EXPECT_EQ(hosts, 1);
}

TEST(Http2HeadTest, RepeatedFieldsStayRepeated) {
  auto head = request_head({{":method", "GET"}, {":path", "/"}, {"cookie", "a=1"}, {"cookie", "b=2"}}, false, "");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->headers.items().size(), 2u);  // no :authority: no host is made up
  EXPECT_FALSE(head->headers.has("host"));
}

TEST(Http2HeadTest, MissingMethodOrPathIsRefused) {
  EXPECT_FALSE(request_head(Fields{{":path", "/"}}, false, ""));
  EXPECT_FALSE(request_head(Fields{{":method", "CONNECT"}, {":authority", "x:443"}}, false, ""));
}

TEST(Http2HeadTest, ConnectionSpecificResponseFields) {
  for (const char* n : {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}) {
    EXPECT_TRUE(is_connection_specific(n)) << n;
  }
  EXPECT_FALSE(is_connection_specific("content-type"));
  EXPECT_FALSE(is_connection_specific("x-amz-request-id"));
}

}  // namespace
}  // namespace fogbank::server::h2
