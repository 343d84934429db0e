#include "fogbank/server/request_guard.hpp"

#include <gtest/gtest.h>

namespace fogbank::server {
namespace {

bool served(const HostPolicy& p, std::string_view host) { return p.host_allowed({host}); }

TEST(AuthorityTest, Forms) {
  auto a = parse_authority("LocalHost.:4566");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "localhost");
  EXPECT_EQ(a->port, 4566);
  EXPECT_FALSE(a->ip);
  auto v6 = parse_authority("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_TRUE(v6->ip);
  auto v4 = parse_authority("127.0.0.1");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->ip);
  EXPECT_FALSE(v4->port);
  EXPECT_TRUE(parse_authority("localhost:"));
  for (std::string_view bad : {"", "::1", "[::1", "[nope]:1", "a:b", "a:70000", "a b", "a@b", "a/b", "x:1:2"}) {
    EXPECT_FALSE(parse_authority(bad)) << bad;
  }
}

TEST(HostPolicyTest, LocalNamesIpsAndAwsNames) {
  HostPolicy p("127.0.0.1", {});
  for (std::string_view ok : {"localhost", "localhost:4566", "LOCALHOST.:1", "b.localhost:4566", "b.s3.localhost",
                              "b.s3.us-east-1.localhost:4566", "127.0.0.1:4566", "[::1]:4566", "10.1.2.3",
                              "s3.amazonaws.com", "bucket.s3.us-east-1.amazonaws.com:4566",
                              "sqs.us-east-1.amazonaws.com"}) {
    EXPECT_TRUE(served(p, ok)) << ok;
  }
  for (std::string_view bad : {"attacker.example", "attacker.example:4566", "localhost.attacker.example",
                               "evilamazonaws.com", "notlocalhost", "b.s3.attacker.example", "a b"}) {
    EXPECT_FALSE(served(p, bad)) << bad;
  }
  EXPECT_TRUE(p.host_allowed({}));  // HTTP/1.0 without a Host: not a browser
  EXPECT_FALSE(p.host_allowed({"localhost", "attacker.example"}));
}

TEST(HostPolicyTest, ConfiguredHostAndAllowList) {
  HostPolicy p("devbox.lan", {"ci.internal,Other.Example", " spaced.test "});
  for (std::string_view ok : {"devbox.lan:4566", "b.s3.devbox.lan", "ci.internal", "x.ci.internal", "other.example",
                              "spaced.test"}) {
    EXPECT_TRUE(served(p, ok)) << ok;
  }
  EXPECT_FALSE(served(p, "internal"));
  EXPECT_FALSE(served(p, "xci.internal"));
  HostPolicy any("127.0.0.1", {"*"});
  EXPECT_TRUE(served(any, "attacker.example"));
}

TEST(HostPolicyTest, OriginsOfThisServerOnly) {
  HostPolicy p("127.0.0.1", {"devbox.lan"});
  const std::optional<std::string_view> host = "127.0.0.1:4566";
  for (std::string_view ok : {"http://localhost:4566", "http://127.0.0.1:4566", "https://[::1]:4566",
                              "HTTP://LOCALHOST:4566", "http://devbox.lan:4566"}) {
    EXPECT_TRUE(p.origin_allowed(ok, host, 4566)) << ok;
  }
  for (std::string_view bad : {"http://attacker.example", "http://localhost:3000", "http://localhost",
                               "null", "file://", "http://b.localhost:4566", "http://localhost:4566/x",
                               "ftp://localhost:4566", "http://x.devbox.lan:4566"}) {
    EXPECT_FALSE(p.origin_allowed(bad, host, 4566)) << bad;
  }
  // A container publishing its port 4566 as 8080: the page and the Host say 8080.
  EXPECT_TRUE(p.origin_allowed("http://localhost:8080", "localhost:8080", 4566));
  EXPECT_TRUE(p.origin_allowed("http://localhost", "localhost", 4566));
  // "*" turns off the Host check, not the admin API's Origin rule.
  HostPolicy any("127.0.0.1", {"*"});
  EXPECT_FALSE(any.origin_allowed("http://attacker.example:4566", "attacker.example:4566", 4566));
}

TEST(HostPolicyTest, CrossSiteRule) {
  HostPolicy p("127.0.0.1", {});
  const std::optional<std::string_view> host = "127.0.0.1:4566";
  const std::optional<std::string_view> none;
  EXPECT_FALSE(p.cross_site_refusal(none, none, host, 4566));                       // curl, SDKs
  EXPECT_FALSE(p.cross_site_refusal("http://127.0.0.1:4566", "same-origin", host, 4566));
  EXPECT_FALSE(p.cross_site_refusal(none, "none", host, 4566));                     // typed into the bar
  EXPECT_TRUE(p.cross_site_refusal("http://attacker.example", none, host, 4566));
  EXPECT_TRUE(p.cross_site_refusal("null", none, host, 4566));
  EXPECT_TRUE(p.cross_site_refusal(none, "cross-site", host, 4566));
  EXPECT_TRUE(p.cross_site_refusal("http://127.0.0.1:4566", "Cross-Site", host, 4566));
  EXPECT_TRUE(p.cross_site_refusal(none, "same-site", host, 4566));
  EXPECT_TRUE(p.cross_site_refusal("http://localhost:3000", "same-site", host, 4566));
  EXPECT_FALSE(p.cross_site_refusal("http://localhost:4566", "same-site", host, 4566));
}

TEST(HostPolicyTest, ServicesRefuseForeignPagesThatChangeState) {
  HostPolicy p("127.0.0.1", {"devbox.lan"}, {"http://app.test:8080", "tools.example"});
  const std::optional<std::string_view> none;
  // SDKs and curl send no Origin; a page of the developer's own machine may call (any port).
  EXPECT_FALSE(p.api_cross_site_refusal("POST", "", none, none));
  for (std::string_view local : {"http://localhost:3000", "https://app.localhost", "http://127.0.0.1:5173",
                                 "http://127.1.2.3", "http://[::1]:8000", "http://devbox.lan:3000",
                                 "http://x.devbox.lan", "http://app.test:8080", "https://tools.example",
                                 "http://a.tools.example:1"}) {
    EXPECT_FALSE(p.api_cross_site_refusal("POST", "", local, "same-site")) << local;
    EXPECT_FALSE(p.api_cross_site_refusal("PUT", "", local, "cross-site")) << local;
  }
  for (std::string_view foreign : {"http://attacker.example", "null", "file://", "http://app.test:9090",
                                   "http://localhost.attacker.example", "http://10.0.0.1", "ftp://localhost",
                                   "http://localhost:3000/path"}) {
    EXPECT_TRUE(p.api_cross_site_refusal("POST", "", foreign, none)) << foreign;
    EXPECT_TRUE(p.api_cross_site_refusal("DELETE", "", foreign, none)) << foreign;
    EXPECT_TRUE(p.api_cross_site_refusal("GET", "Action=DeleteQueue&X-Amz-Signature=ab", foreign, none)) << foreign;
    EXPECT_TRUE(p.api_cross_site_refusal("GET", "QueueUrl=x&Action=PurgeQueue", foreign, none)) << foreign;
    // Reads and preflights change nothing.
    EXPECT_FALSE(p.api_cross_site_refusal("GET", "", foreign, "cross-site")) << foreign;
    EXPECT_FALSE(p.api_cross_site_refusal("HEAD", "versionId=1", foreign, "cross-site")) << foreign;
    EXPECT_FALSE(p.api_cross_site_refusal("OPTIONS", "", foreign, "cross-site")) << foreign;
  }
  // A navigation or form from another site that carries no Origin.
  EXPECT_TRUE(p.api_cross_site_refusal("POST", "", none, "cross-site"));
  EXPECT_TRUE(p.api_cross_site_refusal("GET", "Action=Publish", none, "cross-site"));
  EXPECT_FALSE(p.api_cross_site_refusal("GET", "list-type=2", none, "cross-site"));
  // '*' lets every page in; "null" can be listed for file: pages.
  HostPolicy any("127.0.0.1", {}, {"*"});
  EXPECT_FALSE(any.api_cross_site_refusal("POST", "", "http://attacker.example", "cross-site"));
  HostPolicy files("127.0.0.1", {}, {"null"});
  EXPECT_FALSE(files.api_cross_site_refusal("POST", "", "null", "cross-site"));
}

}  // namespace
}  // namespace fogbank::server
