#include "fogbank/protocol/sigv4.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fogbank/protocol/crypto.hpp"

namespace fogbank::protocol::sigv4 {
namespace {

using nlohmann::json;

class MapLookup final : public CredentialLookup {
 public:
  void add(Credential c) { keys_[c.access_key] = std::move(c); }
  [[nodiscard]] std::optional<Credential> find(std::string_view access_key) const override {
    auto it = keys_.find(std::string(access_key));
    if (it == keys_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

 private:
  std::map<std::string, Credential> keys_;
};

Credential long_term(std::string access_key, std::string secret) {
  Credential c;
  c.access_key = std::move(access_key);
  c.secret_key = std::move(secret);
  c.account_id = "000000000000";
  return c;
}

struct RawRequest {
  RequestHead head;
  std::string body;
};

// Parses the test-suite text form: "GET /path?q HTTP/1.1\nName:value\n...\n\nbody".
RawRequest parse_raw(std::string_view text) {
  RawRequest r;
  auto header_end = text.find("\n\n");
  std::string_view head = text.substr(0, header_end);
  r.body = header_end == std::string_view::npos ? std::string() : std::string(text.substr(header_end + 2));
  auto eol = head.find('\n');
  std::string_view request_line = head.substr(0, eol);
  auto first_space = request_line.find(' ');
  auto proto = request_line.rfind(" HTTP/");
  r.head.method = std::string(request_line.substr(0, first_space));
  r.head.target = std::string(request_line.substr(first_space + 1, proto - first_space - 1));
  r.head.split_target();
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    auto colon = line.find(':');
    r.head.headers.add(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  return r;
}

RequestHead make_request(std::string method, std::string target, std::vector<std::pair<std::string, std::string>> headers) {
  RequestHead h;
  h.method = std::move(method);
  h.target = std::move(target);
  h.split_target();
  for (auto& [n, v] : headers) {
    h.headers.add(n, v);
  }
  return h;
}

std::int64_t at(std::string_view amz_date) {
  auto t = parse_amz_date(amz_date);
  EXPECT_TRUE(t) << amz_date;
  return t.value_or(0);
}

json load_json(const std::string& relative) {
  std::ifstream in(std::string(FOGBANK_TEST_DATA_DIR) + "/" + relative);
  EXPECT_TRUE(in.good()) << relative;
  return json::parse(in);
}

Verification parse_and_verify(const RequestHead& request, const CredentialLookup& keys, std::string_view payload,
                              PathStyle style, std::int64_t now) {
  AuthFailure failure = AuthFailure::kNone;
  std::string message;
  ParsedAuth auth = parse(request, failure, message);
  if (failure != AuthFailure::kNone) {
    Verification v;
    v.failure = failure;
    v.message = message;
    return v;
  }
  return verify(request, auth, keys, payload, style, now);
}

// ---- AWS's SigV4 test suite (aws-c-auth copy of the official vectors) ----

TEST(SigV4TestSuite, AllVectorsVerify) {
  json doc = load_json("sigv4/aws_signing_testsuite.json");
  const std::int64_t now = at(doc["amz_date"].get<std::string>());
  ASSERT_GE(doc["cases"].size(), 20u);
  for (const auto& c : doc["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    MapLookup keys;
    Credential cred = long_term(doc["access_key"], doc["secret_key"]);
    cred.session_token = c["token"].get<std::string>();
    keys.add(cred);
    RawRequest raw = parse_raw(c["request"].get<std::string>());
    PathStyle style = c["normalize"].get<bool>() ? PathStyle::kDoubleEncode : PathStyle::kS3;
    Verification v = parse_and_verify(raw.head, keys, hex(sha256(raw.body)), style, now);
    EXPECT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request << "\n---\n" << v.string_to_sign;
  }
}

TEST(SigV4TestSuite, CanonicalRequestShapes) {
  // Spot-check the canonical forms the vectors rely on.
  auto r = parse_raw("GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\n\n");
  EXPECT_EQ(canonical_request(r.head, {"host"}, kEmptySha256, PathStyle::kDoubleEncode),
            "GET\n/example%20space/\n\nhost:example.amazonaws.com\n\nhost\n" + std::string(kEmptySha256));

  r = parse_raw("GET //example//a/./b/../c/ HTTP/1.1\nHost:h\n\n");
  EXPECT_EQ(canonical_request(r.head, {"host"}, "x", PathStyle::kDoubleEncode), "GET\n/example/a/c/\n\nhost:h\n\nhost\nx");
  EXPECT_EQ(canonical_request(r.head, {"host"}, "x", PathStyle::kS3), "GET\n//example//a/./b/../c/\n\nhost:h\n\nhost\nx");

  // Non-S3: the wire path's escapes are encoded again.
  r = parse_raw("GET /a%20b/c%2Fd HTTP/1.1\nHost:h\n\n");
  EXPECT_EQ(canonical_request(r.head, {"host"}, "x", PathStyle::kDoubleEncode),
            "GET\n/a%2520b/c%252Fd\n\nhost:h\n\nhost\nx");
  // S3: used as sent (escapes normalised to upper case, %2F stays inside its segment).
  r = parse_raw("GET /a%20b/c%2fd/e$f HTTP/1.1\nHost:h\n\n");
  EXPECT_EQ(canonical_request(r.head, {"host"}, "x", PathStyle::kS3), "GET\n/a%20b/c%2Fd/e%24f\n\nhost:h\n\nhost\nx");

  r = parse_raw("GET /?b=2&a=x+y&a=%41&c&X-Amz-Signature=zz HTTP/1.1\nHost:h\nX-A:  a   b  \nX-A:c\n\n");
  EXPECT_EQ(canonical_request(r.head, {"host", "x-a"}, "x", PathStyle::kS3),
            "GET\n/\na=A&a=x%20y&b=2&c=\nhost:h\nx-a:a b,c\n\nhost;x-a\nx");

  RequestHead empty_path;
  empty_path.method = "GET";
  EXPECT_EQ(canonical_request(empty_path, {}, "x", PathStyle::kDoubleEncode), "GET\n/\n\n\n\nx");
}

// ---- S3 documentation worked examples (sig-v4-header-based-auth, sigv4-query-string-auth) ----

constexpr std::string_view kS3Access = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kS3Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kS3Date = "20130524T000000Z";

MapLookup s3_doc_keys() {
  MapLookup keys;
  keys.add(long_term(std::string(kS3Access), std::string(kS3Secret)));
  return keys;
}

std::string s3_doc_authorization(std::string_view signed_headers, std::string_view signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=" +
         std::string(signed_headers) + ",Signature=" + std::string(signature);
}

TEST(SigV4S3Docs, GetObjectWithRange) {
  auto req = make_request("GET", "/test.txt",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"Range", "bytes=0-9"},
                           {"x-amz-content-sha256", std::string(kEmptySha256)},
                           {"x-amz-date", std::string(kS3Date)},
                           {"Authorization", s3_doc_authorization("host;range;x-amz-content-sha256;x-amz-date",
                                                                  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")}});
  auto keys = s3_doc_keys();
  auto v = parse_and_verify(req, keys, kEmptySha256, PathStyle::kS3, at(kS3Date));
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(v.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(v.credential.access_key, kS3Access);
  EXPECT_EQ(v.signing_key, signing_key(kS3Secret, "20130524", "us-east-1", "s3"));
}

TEST(SigV4S3Docs, PutObject) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string payload = hex(sha256(body));
  EXPECT_EQ(payload, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  auto req = make_request("PUT", "/test$file.text",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                           {"x-amz-date", std::string(kS3Date)},
                           {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                           {"x-amz-content-sha256", payload},
                           {"Authorization", s3_doc_authorization("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                                                                  "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")}});
  auto keys = s3_doc_keys();
  auto v = parse_and_verify(req, keys, payload, PathStyle::kS3, at(kS3Date));
  EXPECT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request;
  EXPECT_NE(v.canonical_request.find("\n/test%24file.text\n"), std::string::npos);
  EXPECT_NE(v.string_to_sign.find("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"), std::string::npos);
}

TEST(SigV4S3Docs, GetBucketLifecycle) {
  auto req = make_request("GET", "/?lifecycle",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-date", std::string(kS3Date)},
                           {"x-amz-content-sha256", std::string(kEmptySha256)},
                           {"Authorization", s3_doc_authorization("host;x-amz-content-sha256;x-amz-date",
                                                                  "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")}});
  auto keys = s3_doc_keys();
  auto v = parse_and_verify(req, keys, kEmptySha256, PathStyle::kS3, at(kS3Date));
  EXPECT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request;
  EXPECT_NE(v.canonical_request.find("\nlifecycle=\n"), std::string::npos);
}

TEST(SigV4S3Docs, ListObjects) {
  auto req = make_request("GET", "/?max-keys=2&prefix=J",
                          {{"Host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-date", std::string(kS3Date)},
                           {"x-amz-content-sha256", std::string(kEmptySha256)},
                           {"Authorization", s3_doc_authorization("host;x-amz-content-sha256;x-amz-date",
                                                                  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")}});
  auto keys = s3_doc_keys();
  auto v = parse_and_verify(req, keys, kEmptySha256, PathStyle::kS3, at(kS3Date));
  EXPECT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request;
  EXPECT_NE(v.string_to_sign.find("df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"), std::string::npos);
}

constexpr std::string_view kPresignedDocTarget =
    "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
    "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

TEST(SigV4S3Docs, PresignedUrl) {
  auto req = make_request("GET", std::string(kPresignedDocTarget), {{"Host", "examplebucket.s3.amazonaws.com"}});
  AuthFailure failure;
  std::string message;
  ParsedAuth auth = parse(req, failure, message);
  ASSERT_EQ(failure, AuthFailure::kNone) << message;
  EXPECT_EQ(auth.kind, AuthKind::kPresigned);
  EXPECT_EQ(auth.expires, 86400);
  EXPECT_EQ(auth.scope(), "20130524/us-east-1/s3/aws4_request");
  auto keys = s3_doc_keys();
  auto v = verify(req, auth, keys, kUnsignedPayload, PathStyle::kS3, at(kS3Date) + 3600);
  EXPECT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request;
  EXPECT_EQ(v.canonical_request,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");

  // The last valid second, and the first invalid one.
  EXPECT_TRUE(verify(req, auth, keys, kUnsignedPayload, PathStyle::kS3, at(kS3Date) + 86400).ok());
  auto expired = verify(req, auth, keys, kUnsignedPayload, PathStyle::kS3, at(kS3Date) + 86401);
  EXPECT_EQ(expired.failure, AuthFailure::kPresignExpired);
  EXPECT_EQ(expired.message, "Request has expired");
  auto early = verify(req, auth, keys, kUnsignedPayload, PathStyle::kS3, at(kS3Date) - 901);
  EXPECT_EQ(early.failure, AuthFailure::kPresignNotYetValid);
  EXPECT_TRUE(verify(req, auth, keys, kUnsignedPayload, PathStyle::kS3, at(kS3Date) - 900).ok());
}

// ---- Requests signed by botocore itself (tests/tools/gen_sigv4_fixtures.py) ----

TEST(SigV4Botocore, FixturesVerify) {
  json doc = load_json("sigv4/botocore_fixtures.json");
  const std::int64_t now = at(doc["now"].get<std::string>());
  MapLookup keys;
  keys.add(long_term(doc["credentials"]["long_term"]["access_key"], doc["credentials"]["long_term"]["secret_key"]));
  Credential temp = long_term(doc["credentials"]["temporary"]["access_key"], doc["credentials"]["temporary"]["secret_key"]);
  temp.session_token = doc["credentials"]["temporary"]["session_token"];
  temp.expires_at = now + 3600;
  keys.add(temp);

  ASSERT_GE(doc["fixtures"].size(), 10u);
  for (const auto& f : doc["fixtures"]) {
    SCOPED_TRACE(f["name"].get<std::string>());
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& h : f["headers"]) {
      headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
    auto req = make_request(f["method"], f["target"], headers);
    const PathStyle style = f["path_style"] == "s3" ? PathStyle::kS3 : PathStyle::kDoubleEncode;
    const std::string payload = f["payload_hash"];
    auto body = base64_decode(f["body_base64"].get<std::string>());
    ASSERT_TRUE(body);
    if (style == PathStyle::kDoubleEncode) {
      EXPECT_EQ(payload, hex(sha256(*body)));
    }
    auto v = parse_and_verify(req, keys, payload, style, now);
    EXPECT_TRUE(v.ok()) << v.message << "\n" << v.canonical_request;
    EXPECT_EQ(v.credential.temporary(), f["temporary"].get<bool>());

    // Any change to what was signed must break the signature.
    auto tampered = req;
    tampered.method = tampered.method == "GET" ? "PUT" : "GET";
    EXPECT_EQ(parse_and_verify(tampered, keys, payload, style, now).failure, AuthFailure::kSignatureMismatch);
  }
}

// ---- verify() failure modes ----

class SigV4Failures : public ::testing::Test {
 protected:
  static constexpr std::int64_t kNow = 1700000000;  // 20231114T221320Z

  void SetUp() override {
    keys_.add(long_term("AKIDLONGTERM", "secret-long"));
    Credential temp = long_term("ASIATEMP", "secret-temp");
    temp.session_token = "the-token";
    temp.expires_at = kNow + 3600;
    keys_.add(temp);
  }

  RequestHead signed_request(std::string access_key, std::string secret, std::int64_t when,
                             std::string token = {}) {
    auto req = make_request("POST", "/", {{"Host", "localhost:4566"}, {"Content-Type", "application/x-www-form-urlencoded"}});
    SigningParams p;
    p.access_key = std::move(access_key);
    p.secret_key = std::move(secret);
    p.session_token = std::move(token);
    p.region = "us-east-1";
    p.service = "sts";
    p.now = when;
    sign(req, hex(sha256(body_)), p);
    return req;
  }

  Verification check(const RequestHead& req, std::int64_t now = kNow) {
    return parse_and_verify(req, keys_, hex(sha256(body_)), PathStyle::kDoubleEncode, now);
  }

  MapLookup keys_;
  std::string body_ = "Action=GetCallerIdentity&Version=2011-06-15";
};

TEST_F(SigV4Failures, SignedRequestVerifies) {
  auto v = check(signed_request("AKIDLONGTERM", "secret-long", kNow));
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.signing_key, signing_key("secret-long", "20231114", "us-east-1", "sts"));
  EXPECT_FALSE(v.canonical_request.empty());
  EXPECT_FALSE(v.string_to_sign.empty());
}

TEST_F(SigV4Failures, UnknownAccessKey) {
  auto v = check(signed_request("AKIDNOBODY", "secret-long", kNow));
  EXPECT_EQ(v.failure, AuthFailure::kUnknownAccessKey);
}

TEST_F(SigV4Failures, WrongSecret) {
  auto v = check(signed_request("AKIDLONGTERM", "not-the-secret", kNow));
  EXPECT_EQ(v.failure, AuthFailure::kSignatureMismatch);
  EXPECT_FALSE(v.canonical_request.empty());
  EXPECT_NE(v.string_to_sign.find("AWS4-HMAC-SHA256\n20231114T221320Z\n20231114/us-east-1/sts/aws4_request\n"),
            std::string::npos);
}

TEST_F(SigV4Failures, WrongPayload) {
  auto req = signed_request("AKIDLONGTERM", "secret-long", kNow);
  auto v = parse_and_verify(req, keys_, hex(sha256("other body")), PathStyle::kDoubleEncode, kNow);
  EXPECT_EQ(v.failure, AuthFailure::kSignatureMismatch);
}

TEST_F(SigV4Failures, ClockSkew) {
  auto old_req = signed_request("AKIDLONGTERM", "secret-long", kNow - 901);
  auto v = check(old_req);
  EXPECT_EQ(v.failure, AuthFailure::kRequestTimeTooSkewed);
  EXPECT_EQ(v.message,
            "Signature expired: 20231114T215819Z is now earlier than 20231114T215820Z (20231114T221320Z - 15 min.)");
  EXPECT_TRUE(check(signed_request("AKIDLONGTERM", "secret-long", kNow - 900)).ok());

  auto future = signed_request("AKIDLONGTERM", "secret-long", kNow + 901);
  v = check(future);
  EXPECT_EQ(v.failure, AuthFailure::kRequestTimeTooSkewed);
  EXPECT_EQ(v.message,
            "Signature not yet current: 20231114T222821Z is still later than 20231114T222820Z (20231114T221320Z + 15 min.)");
  EXPECT_TRUE(check(signed_request("AKIDLONGTERM", "secret-long", kNow + 900)).ok());
}

TEST_F(SigV4Failures, TemporaryCredentials) {
  EXPECT_TRUE(check(signed_request("ASIATEMP", "secret-temp", kNow, "the-token")).ok());
  EXPECT_EQ(check(signed_request("ASIATEMP", "secret-temp", kNow)).failure, AuthFailure::kMissingSessionToken);
  EXPECT_EQ(check(signed_request("ASIATEMP", "secret-temp", kNow, "other-token")).failure,
            AuthFailure::kInvalidSessionToken);
  EXPECT_EQ(check(signed_request("AKIDLONGTERM", "secret-long", kNow, "the-token")).failure,
            AuthFailure::kInvalidSessionToken);
  // Expired: the request itself is fresh, the credentials are not.
  auto late = signed_request("ASIATEMP", "secret-temp", kNow + 3600, "the-token");
  EXPECT_EQ(check(late, kNow + 3600).failure, AuthFailure::kExpiredToken);
  // Token checks come before the signature check.
  EXPECT_EQ(check(signed_request("ASIATEMP", "wrong", kNow, "other-token")).failure, AuthFailure::kInvalidSessionToken);
}

TEST_F(SigV4Failures, ScopeDateMismatch) {
  auto req = signed_request("AKIDLONGTERM", "secret-long", kNow);
  auto header = std::string(*req.headers.get("Authorization"));
  header.replace(header.find("20231114"), 8, "20231113");
  req.headers.set("Authorization", header);
  auto v = check(req);
  EXPECT_EQ(v.failure, AuthFailure::kSignatureMismatch);
  EXPECT_NE(v.message.find("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP"),
            std::string::npos);
}

TEST_F(SigV4Failures, PresignedTemporaryCredentials) {
  auto base = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIATEMP%2F20231114%2Fus-east-1%2Fs3%2F"
              "aws4_request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host";
  auto sign_query = [&](const std::string& query_extra) {
    auto req = make_request("GET", std::string(base) + query_extra, {{"Host", "localhost"}});
    auto creq = canonical_request(req, {"host"}, kUnsignedPayload, PathStyle::kS3);
    auto sts = string_to_sign("20231114T221320Z", "20231114/us-east-1/s3/aws4_request", creq);
    auto sig = hex(hmac_sha256(as_view(signing_key("secret-temp", "20231114", "us-east-1", "s3")), sts));
    return make_request("GET", std::string(base) + query_extra + "&X-Amz-Signature=" + sig, {{"Host", "localhost"}});
  };
  auto ok = sign_query("&X-Amz-Security-Token=the-token");
  EXPECT_TRUE(parse_and_verify(ok, keys_, kUnsignedPayload, PathStyle::kS3, kNow).ok());
  EXPECT_EQ(parse_and_verify(sign_query(""), keys_, kUnsignedPayload, PathStyle::kS3, kNow).failure,
            AuthFailure::kMissingSessionToken);
  EXPECT_EQ(parse_and_verify(ok, keys_, kUnsignedPayload, PathStyle::kS3, kNow + 61).failure,
            AuthFailure::kPresignExpired);
}

// ---- parse() ----

AuthFailure parse_failure(const RequestHead& req, std::string* message = nullptr) {
  AuthFailure failure;
  std::string m;
  auto auth = parse(req, failure, m);
  if (failure != AuthFailure::kNone) {
    EXPECT_EQ(auth.kind, AuthKind::kNone);
  }
  if (message != nullptr) {
    *message = m;
  }
  return failure;
}

TEST(SigV4Parse, HeaderVariants) {
  for (std::string header : {
           "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
           "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request,SignedHeaders=host;x-amz-date,Signature=abc",
           "AWS4-HMAC-SHA256  Credential=AK/20150830/us-east-1/iam/aws4_request ,  SignedHeaders=host;x-amz-date ,Signature=abc",
           "AWS4-HMAC-SHA256 Signature=abc, Credential=AK/20150830/us-east-1/iam/aws4_request, SignedHeaders=Host;X-Amz-Date"}) {
    SCOPED_TRACE(header);
    auto req = make_request("GET", "/", {{"Host", "h"}, {"X-Amz-Date", "20150830T123600Z"}, {"Authorization", header}});
    AuthFailure failure;
    std::string message;
    auto auth = parse(req, failure, message);
    ASSERT_EQ(failure, AuthFailure::kNone) << message;
    EXPECT_EQ(auth.kind, AuthKind::kHeader);
    EXPECT_EQ(auth.access_key, "AK");
    EXPECT_EQ(auth.date, "20150830");
    EXPECT_EQ(auth.region, "us-east-1");
    EXPECT_EQ(auth.service, "iam");
    EXPECT_EQ(auth.signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
    EXPECT_EQ(auth.signature, "abc");
    EXPECT_EQ(auth.amz_date, "20150830T123600Z");
    EXPECT_EQ(auth.scope(), "20150830/us-east-1/iam/aws4_request");
  }
}

TEST(SigV4Parse, Failures) {
  std::string message;
  EXPECT_EQ(parse_failure(make_request("GET", "/", {{"Host", "h"}})), AuthFailure::kMissingAuthentication);
  EXPECT_EQ(parse_failure(make_request("GET", "/?a=b", {{"Host", "h"}})), AuthFailure::kMissingAuthentication);

  EXPECT_EQ(parse_failure(make_request("GET", "/", {{"Authorization", "AWS AKID:c2lnbmF0dXJl"}}), &message),
            AuthFailure::kUnsupportedAlgorithm);
  EXPECT_EQ(message, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.");
  EXPECT_EQ(parse_failure(make_request("GET", "/", {{"Authorization", "AWS4-ECDSA-P256-SHA256 Credential=x"}})),
            AuthFailure::kUnsupportedAlgorithm);

  const std::string partial = "AWS4-HMAC-SHA256 SignedHeaders=host";
  EXPECT_EQ(parse_failure(make_request("GET", "/", {{"X-Amz-Date", "20150830T123600Z"}, {"Authorization", partial}}),
                          &message),
            AuthFailure::kIncompleteSignature);
  EXPECT_EQ(message,
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
            "parameter. Authorization=" + partial);

  auto with_auth = [](std::string header, std::vector<std::pair<std::string, std::string>> extra = {{"X-Amz-Date", "20150830T123600Z"}}) {
    extra.emplace_back("Authorization", std::move(header));
    return make_request("GET", "/", extra);
  };
  EXPECT_EQ(parse_failure(with_auth("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws5_request, SignedHeaders=host, Signature=a"), &message),
            AuthFailure::kIncompleteSignature);
  EXPECT_NE(message.find("aws4_request"), std::string::npos);
  EXPECT_EQ(parse_failure(with_auth("AWS4-HMAC-SHA256 Credential=AK/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=a")),
            AuthFailure::kIncompleteSignature);
  EXPECT_EQ(parse_failure(with_auth("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date, Signature=a")),
            AuthFailure::kIncompleteSignature);
  EXPECT_EQ(parse_failure(with_auth("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=a", {})),
            AuthFailure::kInvalidDate);
  EXPECT_EQ(parse_failure(with_auth("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=a",
                                    {{"X-Amz-Date", "2015-08-30T12:36:00Z"}})),
            AuthFailure::kInvalidDate);
}

TEST(SigV4Parse, DateHeaderFallback) {
  auto req = make_request("GET", "/", {{"Date", "Sun, 30 Aug 2015 12:36:00 GMT"},
                                       {"Authorization", "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/iam/aws4_request, "
                                                         "SignedHeaders=date;host, Signature=a"}});
  AuthFailure failure;
  std::string message;
  auto auth = parse(req, failure, message);
  ASSERT_EQ(failure, AuthFailure::kNone) << message;
  EXPECT_EQ(auth.amz_date, "20150830T123600Z");
}

TEST(SigV4Parse, PresignedFailures) {
  const std::string good =
      "/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20150830%2Fus-east-1%2Fs3%2Faws4_request"
      "&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X-Amz-Security-Token=tok";
  AuthFailure failure;
  std::string message;
  auto auth = parse(make_request("GET", good + "&X-Amz-Expires=604800", {}), failure, message);
  ASSERT_EQ(failure, AuthFailure::kNone) << message;
  EXPECT_EQ(auth.session_token, "tok");
  EXPECT_EQ(auth.expires, 604800);

  EXPECT_EQ(parse_failure(make_request("GET", good + "&X-Amz-Expires=604801", {}), &message), AuthFailure::kInvalidExpires);
  EXPECT_EQ(message, "X-Amz-Expires must be less than a week (in seconds) that is 604800");
  EXPECT_EQ(parse_failure(make_request("GET", good + "&X-Amz-Expires=0", {})), AuthFailure::kInvalidExpires);
  EXPECT_EQ(parse_failure(make_request("GET", good + "&X-Amz-Expires=-5", {})), AuthFailure::kInvalidExpires);
  EXPECT_EQ(parse_failure(make_request("GET", good + "&X-Amz-Expires=1e3", {})), AuthFailure::kInvalidExpires);
  EXPECT_EQ(parse_failure(make_request("GET", good + "&X-Amz-Expires=99999999999999999999999", {})),
            AuthFailure::kInvalidExpires);
  EXPECT_EQ(parse_failure(make_request("GET", good, {})), AuthFailure::kIncompleteSignature);
  std::string sha1 = good;
  sha1.replace(sha1.find("AWS4-HMAC-SHA256"), 16, "AWS4-HMAC-SHA1");
  EXPECT_EQ(parse_failure(make_request("GET", sha1 + "&X-Amz-Expires=60", {})), AuthFailure::kUnsupportedAlgorithm);
  EXPECT_EQ(parse_failure(make_request("GET", good + "&X-Amz-Expires=60",
                                       {{"Authorization", "AWS4-HMAC-SHA256 Credential=a"}})),
            AuthFailure::kIncompleteSignature);
}

// ---- dates and the signer ----

TEST(SigV4Dates, ParseAndFormat) {
  EXPECT_EQ(parse_amz_date("19700101T000000Z"), 0);
  EXPECT_EQ(parse_amz_date("20150830T123600Z"), 1440938160);
  EXPECT_EQ(parse_amz_date("20240229T235959Z"), 1709251199);
  EXPECT_EQ(format_amz_date(1709251199), "20240229T235959Z");
  EXPECT_EQ(format_amz_date(0), "19700101T000000Z");
  EXPECT_EQ(format_amz_date(4102444800), "21000101T000000Z");
  EXPECT_FALSE(parse_amz_date("20230229T000000Z"));  // not a leap year
  EXPECT_FALSE(parse_amz_date("20150830T123600"));
  EXPECT_FALSE(parse_amz_date("20150830 123600Z"));
  EXPECT_FALSE(parse_amz_date("2015083OT123600Z"));
  EXPECT_FALSE(parse_amz_date("20151330T123600Z"));
  EXPECT_FALSE(parse_amz_date("20150830T243600Z"));
  EXPECT_FALSE(parse_amz_date("+0150830T123600Z"));
  for (std::int64_t t = 0; t < 4102444800; t += 86400 * 37 + 3671) {
    ASSERT_EQ(parse_amz_date(format_amz_date(t)), t);
  }
}

TEST(SigV4Signer, SignsHostAndAmzHeaders) {
  auto req = make_request("PUT", "/bucket/a%20b?x=1", {{"Host", "localhost:4566"}, {"X-Amz-Meta-A", "v"}, {"Content-Type", "t"}});
  SigningParams p;
  p.access_key = "AK";
  p.secret_key = "SK";
  p.session_token = "TOK";
  p.region = "us-east-1";
  p.service = "s3";
  p.now = 1440938160;
  p.style = PathStyle::kS3;
  p.add_content_sha256 = true;
  sign(req, kUnsignedPayload, p);
  EXPECT_EQ(req.headers.get("x-amz-date"), "20150830T123600Z");
  EXPECT_EQ(req.headers.get("x-amz-content-sha256"), kUnsignedPayload);
  EXPECT_EQ(req.headers.get("x-amz-security-token"), "TOK");
  auto authz = std::string(*req.headers.get("authorization"));
  EXPECT_NE(authz.find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-a;x-amz-security-token,"),
            std::string::npos)
      << authz;

  MapLookup keys;
  Credential c = long_term("AK", "SK");
  c.session_token = "TOK";
  keys.add(c);
  EXPECT_TRUE(parse_and_verify(req, keys, kUnsignedPayload, PathStyle::kS3, p.now).ok());
  // Signing again replaces the old signature instead of adding a second one.
  sign(req, kUnsignedPayload, p);
  int count = 0;
  for (const auto& [n, v] : req.headers.items()) {
    count += n == "Authorization" ? 1 : 0;
  }
  EXPECT_EQ(count, 1);
}

}  // namespace
}  // namespace fogbank::protocol::sigv4
