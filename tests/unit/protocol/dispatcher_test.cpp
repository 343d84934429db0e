#include "fogbank/protocol/dispatcher.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/query.hpp"
#include "fogbank/protocol/sigv4.hpp"

namespace fogbank::protocol {
namespace {

constexpr std::int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z
constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kAccount = "111122223333";
constexpr std::string_view kStsNs = "https://sts.amazonaws.com/doc/2011-06-15/";

class FakeKeys final : public sigv4::CredentialLookup {
 public:
  std::optional<sigv4::Credential> find(std::string_view access_key) const override {
    if (access_key != kAccessKey) {
      return std::nullopt;
    }
    sigv4::Credential c;
    c.access_key = std::string(kAccessKey);
    c.secret_key = std::string(kSecret);
    c.account_id = std::string(kAccount);
    c.arn = "arn:aws:iam::111122223333:user/alice";
    c.user_id = "AIDAEXAMPLE";
    return c;
  }
};

/// What a fake service saw on its last call.
struct Seen {
  int calls = 0;
  std::string body;
  std::string account_id;
  std::string region;
  std::string caller_key;
  std::string caller_arn;
  bool authenticated = false;
  std::string request_id;
  // Streaming sink
  std::string streamed;
  bool stream_finished = false;
  bool stream_aborted = false;
};

void record(Seen& seen, const RequestContext& ctx, std::string_view body) {
  ++seen.calls;
  seen.body = std::string(body);
  seen.account_id = ctx.account_id;
  seen.region = ctx.region;
  seen.caller_key = ctx.caller.access_key;
  seen.caller_arn = ctx.caller.arn;
  seen.authenticated = ctx.authenticated;
  seen.request_id = ctx.request_id;
}

/// Query-protocol service named like STS. Action "Fail" throws an AwsError, "Crash" a
/// std::runtime_error; anything else in its action list succeeds.
class FakeQueryService final : public Service {
 public:
  explicit FakeQueryService(std::string name = "sts", std::vector<std::string> actions = {"GetCallerIdentity", "Fail", "Crash"})
      : name_(std::move(name)), actions_(std::move(actions)) {}
  std::string_view name() const override { return name_; }
  WireProtocol protocol() const override { return WireProtocol::kQuery; }
  std::string_view xml_namespace() const override { return kStsNs; }
  bool has_action(std::string_view action) const override {
    return std::find(actions_.begin(), actions_.end(), action) != actions_.end();
  }
  Response handle(RequestContext& ctx, std::string body) override {
    record(seen, ctx, body);
    auto params = query::collect_params(ctx.head.query, body);
    const std::string* action = find_param(params, "Action");
    ctx.operation = action ? *action : "";
    if (ctx.operation == "Fail") {
      throw AwsError("Throttling", 400, "Rate exceeded");
    }
    if (ctx.operation == "Crash") {
      throw std::runtime_error("boom");
    }
    return Response(200, "<" + ctx.operation + "Response xmlns=\"" + std::string(kStsNs) + "\"/>", "text/xml");
  }
  Seen seen;

 private:
  std::string name_;
  std::vector<std::string> actions_;
};

class FakeJsonService final : public Service {
 public:
  std::string_view name() const override { return "fakejson"; }
  WireProtocol protocol() const override { return WireProtocol::kJson11; }
  std::string_view json_target_prefix() const override { return "AmazonFake"; }
  Response handle(RequestContext& ctx, std::string body) override {
    record(seen, ctx, body);
    auto target = std::string(ctx.head.headers.get("x-amz-target").value_or(""));
    ctx.operation = target.substr(target.find('.') + 1);
    if (ctx.operation == "Fail") {
      throw AwsError("ResourceNotFoundException", 400, "no such thing");
    }
    if (ctx.operation == "Crash") {
      throw std::runtime_error("boom");
    }
    return Response(200, "{}", "application/x-amz-json-1.1");
  }
  Seen seen;
};

class RecordingSink final : public BodySink {
 public:
  RecordingSink(Seen& seen, std::shared_ptr<RequestContext> ctx) : seen_(seen), ctx_(std::move(ctx)) {}
  void write(std::string_view data) override { seen_.streamed.append(data); }
  Response finish() override {
    seen_.stream_finished = true;
    Response r(200, "");
    r.headers.set("ETag", "\"etag\"");
    return r;
  }
  void abort() noexcept override { seen_.stream_aborted = true; }

 private:
  Seen& seen_;
  std::shared_ptr<RequestContext> ctx_;
};

/// REST-XML "s3": PUT streams; everything else is buffered; GET /missing throws NoSuchBucket.
class FakeS3Service final : public Service {
 public:
  std::string_view name() const override { return "s3"; }
  WireProtocol protocol() const override { return WireProtocol::kRestXml; }
  bool streams_body(const RequestHead& head) const override { return head.method == "PUT"; }
  Response handle(RequestContext& ctx, std::string body) override {
    record(seen, ctx, body);
    ctx.operation = "GetObject";
    if (ctx.head.path == "/missing") {
      throw AwsError("NoSuchBucket", 404, "The specified bucket does not exist").with_field("BucketName", "missing");
    }
    return Response(200, "ok");
  }
  std::unique_ptr<BodySink> begin_stream(std::shared_ptr<RequestContext> ctx) override {
    record(seen, *ctx, {});
    ctx->operation = "PutObject";
    return std::make_unique<RecordingSink>(seen, std::move(ctx));
  }
  Seen seen;
};

struct Harness {
  std::shared_ptr<FakeQueryService> sts = std::make_shared<FakeQueryService>();
  std::shared_ptr<FakeJsonService> json = std::make_shared<FakeJsonService>();
  std::shared_ptr<FakeS3Service> s3 = std::make_shared<FakeS3Service>();
  std::vector<std::pair<std::string, std::string>> mismatches;  // (canonical request, string to sign)
  std::unique_ptr<Dispatcher> dispatcher;

  explicit Harness(AuthMode mode = AuthMode::kEnforce, bool with_s3 = true) {
    DispatcherConfig cfg;
    cfg.auth = mode;
    cfg.real_time = [] { return kNow; };
    cfg.default_caller.access_key = "test";
    cfg.default_caller.account_id = "000000000000";
    cfg.default_caller.arn = "arn:aws:iam::000000000000:root";
    cfg.on_signature_mismatch = [this](std::string_view creq, std::string_view sts_text) {
      mismatches.emplace_back(creq, sts_text);
    };
    dispatcher = std::make_unique<Dispatcher>(std::move(cfg), std::make_shared<FakeKeys>());
    dispatcher->add(sts);
    dispatcher->add(json);
    if (with_s3) {
      dispatcher->add(s3);
    }
  }
};

RequestHead make_head(std::string method, std::string target, std::string content_type = {}) {
  RequestHead h;
  h.method = std::move(method);
  h.target = std::move(target);
  h.split_target();
  h.headers.add("Host", "localhost:4566");
  if (!content_type.empty()) {
    h.headers.add("Content-Type", std::move(content_type));
  }
  return h;
}

constexpr std::string_view kForm = "application/x-www-form-urlencoded; charset=utf-8";

void sign_head(RequestHead& h, std::string_view payload, std::string_view service,
               std::string_view secret = kSecret, std::string_view access_key = kAccessKey,
               bool add_content_sha256 = false, std::int64_t now = kNow) {
  sigv4::SigningParams p;
  p.access_key = std::string(access_key);
  p.secret_key = std::string(secret);
  p.region = "eu-west-1";
  p.service = std::string(service);
  p.now = now;
  p.style = service == "s3" ? sigv4::PathStyle::kS3 : sigv4::PathStyle::kDoubleEncode;
  p.add_content_sha256 = add_content_sha256;
  sigv4::sign(h, hex(sha256(payload)), p);
}

struct Result {
  Response response;
  std::shared_ptr<RequestInfo> info;
  bool immediate = false;
};

Result run(const Dispatcher& d, RequestHead head, std::string_view body, std::size_t piece = 0) {
  auto ex = d.begin(std::move(head));
  Result r;
  r.info = ex.info;
  if (ex.immediate) {
    r.immediate = true;
    r.response = std::move(*ex.immediate);
    return r;
  }
  EXPECT_TRUE(ex.sink != nullptr);
  if (piece == 0) {
    ex.sink->write(body);
  } else {
    for (std::size_t i = 0; i < body.size(); i += piece) {
      ex.sink->write(body.substr(i, piece));
    }
  }
  r.response = ex.sink->finish();
  return r;
}

std::string xml_value(const std::string& body, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  auto a = body.find(open);
  if (a == std::string::npos) return "<absent>";
  a += open.size();
  auto b = body.find(close, a);
  if (b == std::string::npos) return "<unclosed>";
  return body.substr(a, b - a);
}

std::string header(const Response& r, std::string_view name) {
  return std::string(r.headers.get(name).value_or("<absent>"));
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

void expect_query_request_id(const Result& r) {
  EXPECT_EQ(header(r.response, "x-amzn-RequestId"), r.info->request_id);
  EXPECT_TRUE(is_uuid(r.info->request_id)) << r.info->request_id;
  EXPECT_FALSE(r.response.headers.has("x-amz-request-id"));
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

TEST(DispatcherTest, RoutesSignedQueryByCredentialScope) {
  Harness h;
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(h.sts->seen.calls, 1);
  EXPECT_EQ(h.sts->seen.body, body);
  EXPECT_TRUE(h.sts->seen.authenticated);
  EXPECT_EQ(h.sts->seen.account_id, kAccount);
  EXPECT_EQ(h.sts->seen.caller_key, kAccessKey);
  EXPECT_EQ(h.sts->seen.caller_arn, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(h.sts->seen.region, "eu-west-1");
  EXPECT_EQ(h.sts->seen.request_id, r.info->request_id);
  EXPECT_EQ(r.info->service, "sts");
  EXPECT_EQ(r.info->operation, "GetCallerIdentity");
  expect_query_request_id(r);
  EXPECT_EQ(h.json->seen.calls, 0);
  EXPECT_EQ(h.s3->seen.calls, 0);
}

TEST(DispatcherTest, RoutesByXAmzTargetBeforeScope) {
  Harness h;
  std::string body = R"({"Name":"x"})";
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonFake.DoThing");
  sign_head(head, body, "sts");  // the scope names another registered service: the target wins
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(h.json->seen.calls, 1);
  EXPECT_EQ(h.json->seen.body, body);
  EXPECT_EQ(h.sts->seen.calls, 0);
  EXPECT_EQ(r.info->service, "fakejson");
  EXPECT_EQ(r.info->operation, "DoThing");
  expect_query_request_id(r);
}

TEST(DispatcherTest, UnknownTargetPrefixFallsBackToScope) {
  Harness h;
  std::string body = "{}";
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonOther.DoThing");
  sign_head(head, body, "fakejson");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(h.json->seen.calls, 1);
}

TEST(DispatcherTest, RoutesByActionInQueryString) {
  Harness h(AuthMode::kOff);
  auto other = std::make_shared<FakeQueryService>("fakesns", std::vector<std::string>{"Publish"});
  h.dispatcher->add(other);
  auto head = make_head("GET", "/?Action=Publish&Message=hi");
  auto r = run(*h.dispatcher, std::move(head), "");
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(other->seen.calls, 1);
  EXPECT_EQ(h.sts->seen.calls, 0);
  EXPECT_EQ(h.s3->seen.calls, 0);
  EXPECT_EQ(r.info->service, "fakesns");
  EXPECT_EQ(r.info->operation, "Publish");
}

TEST(DispatcherTest, SignedScopeOfUnservedServiceWinsOverQueryAction) {
  // The credential scope names the service; a scope fogbank does not serve is not re-routed by
  // the Action parameter to whichever service happens to have an operation of that name.
  Harness h;
  auto other = std::make_shared<FakeQueryService>("fakesns", std::vector<std::string>{"Publish"});
  h.dispatcher->add(other);
  auto head = make_head("GET", "/?Action=Publish");
  sign_head(head, "", "sns");
  auto r = run(*h.dispatcher, std::move(head), "");
  EXPECT_EQ(r.response.status, 501) << r.response.body;
  EXPECT_EQ(xml_value(r.response.body, "Code"), "NotImplemented");
  EXPECT_EQ(other->seen.calls, 0);
  EXPECT_EQ(h.s3->seen.calls, 0);
}

TEST(DispatcherTest, RoutesUnsignedFormBodyByActionWhenAuthOff) {
  Harness h(AuthMode::kOff);
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  auto head = make_head("POST", "/", std::string(kForm));
  auto ex = h.dispatcher->begin(std::move(head));
  ASSERT_EQ(ex.immediate, nullptr);
  ASSERT_NE(ex.sink, nullptr);
  EXPECT_EQ(ex.info->service, "");  // not known until the body is read
  ex.sink->write(body.substr(0, 10));
  ex.sink->write(body.substr(10));
  auto resp = ex.sink->finish();
  EXPECT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(h.sts->seen.calls, 1);
  EXPECT_EQ(h.sts->seen.body, body);
  EXPECT_FALSE(h.sts->seen.authenticated);
  EXPECT_EQ(h.sts->seen.account_id, "000000000000");  // the default caller
  EXPECT_EQ(h.sts->seen.caller_key, "test");
  EXPECT_EQ(h.sts->seen.region, "us-east-1");  // server default without a credential scope
  EXPECT_EQ(ex.info->service, "sts");
  EXPECT_EQ(ex.info->operation, "GetCallerIdentity");
  EXPECT_EQ(header(resp, "x-amzn-RequestId"), ex.info->request_id);
}

TEST(DispatcherTest, FormBodyWithUnknownActionIsInvalidAction) {
  Harness h(AuthMode::kOff);
  auto r = run(*h.dispatcher, make_head("POST", "/", std::string(kForm)), "Action=Nope");
  EXPECT_EQ(r.response.status, 400);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "InvalidAction");
  EXPECT_EQ(header(r.response, "x-amzn-RequestId"), r.info->request_id);
  EXPECT_EQ(h.sts->seen.calls, 0);
}

TEST(DispatcherTest, UnknownServiceScopeIsNotImplemented) {
  Harness h(AuthMode::kEnforce, /*with_s3=*/false);
  auto head = make_head("GET", "/2015-03-31/functions");
  sign_head(head, "", "lambda");
  auto r = run(*h.dispatcher, std::move(head), "");
  EXPECT_TRUE(r.immediate);
  EXPECT_EQ(r.response.status, 501);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "NotImplemented");
  EXPECT_NE(r.response.body.find("lambda"), std::string::npos) << r.response.body;
  EXPECT_EQ(header(r.response, "x-amzn-RequestId"), r.info->request_id);
  EXPECT_FALSE(r.info->request_id.empty());
}

TEST(DispatcherTest, UnknownServiceScopeIsNotImplementedEvenWithS3Registered) {
  // A request signed for a service fogbank lacks (README: "requests signed for them get 501
  // NotImplemented") must not be handed to S3 as if it were a bucket request.
  Harness h;
  auto head = make_head("GET", "/2015-03-31/functions");
  sign_head(head, "", "lambda");
  auto r = run(*h.dispatcher, std::move(head), "");
  EXPECT_EQ(r.response.status, 501) << r.response.body;
  EXPECT_EQ(xml_value(r.response.body, "Code"), "NotImplemented");
  EXPECT_EQ(h.s3->seen.calls, 0);
}

TEST(DispatcherTest, UnroutableRequestWithoutS3IsNotImplemented) {
  Harness h(AuthMode::kOff, /*with_s3=*/false);
  auto r = run(*h.dispatcher, make_head("GET", "/bucket/key"), "");
  EXPECT_EQ(r.response.status, 501);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "NotImplemented");
}

TEST(DispatcherTest, FindByName) {
  Harness h;
  EXPECT_EQ(h.dispatcher->find("sts"), h.sts);
  EXPECT_EQ(h.dispatcher->find("s3"), h.s3);
  EXPECT_EQ(h.dispatcher->find("nope"), nullptr);
  EXPECT_EQ(h.dispatcher->services().size(), 3u);
}

// ---------------------------------------------------------------------------------------------
// Authentication (enforce)
// ---------------------------------------------------------------------------------------------

TEST(DispatcherTest, EnforceUnsignedQueryIsMissingAuthenticationToken) {
  Harness h;
  auto r = run(*h.dispatcher, make_head("POST", "/", std::string(kForm)),
               "Action=GetCallerIdentity&Version=2011-06-15");
  EXPECT_EQ(r.response.status, 403);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "MissingAuthenticationToken");
  EXPECT_EQ(xml_value(r.response.body, "Type"), "Sender");
  EXPECT_NE(r.response.body.find("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
            std::string::npos);
  EXPECT_EQ(h.sts->seen.calls, 0);
  expect_query_request_id(r);
  EXPECT_EQ(xml_value(r.response.body, "RequestId"), r.info->request_id);
}

TEST(DispatcherTest, EnforceWrongSecretIsSignatureDoesNotMatch) {
  Harness h;
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", "not-the-secret");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 403);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "SignatureDoesNotMatch");
  EXPECT_EQ(h.sts->seen.calls, 0);
  ASSERT_EQ(h.mismatches.size(), 1u);
  EXPECT_FALSE(h.mismatches[0].first.empty());
  EXPECT_EQ(h.mismatches[0].first.rfind("POST\n/\n", 0), 0u) << h.mismatches[0].first;
  EXPECT_EQ(h.mismatches[0].second.rfind("AWS4-HMAC-SHA256\n20231114T221320Z\n", 0), 0u)
      << h.mismatches[0].second;
  expect_query_request_id(r);
}

TEST(DispatcherTest, EnforceTamperedBodyIsSignatureDoesNotMatch) {
  Harness h;
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts");
  auto r = run(*h.dispatcher, std::move(head), body + "&Extra=1");
  EXPECT_EQ(r.response.status, 403);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "SignatureDoesNotMatch");
  EXPECT_EQ(h.sts->seen.calls, 0);
  EXPECT_EQ(h.mismatches.size(), 1u);
}

TEST(DispatcherTest, EnforceContentSha256HeaderNotMatchingBody) {
  Harness h;
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", kSecret, kAccessKey, /*add_content_sha256=*/true);
  auto r = run(*h.dispatcher, std::move(head), "Action=GetCallerIdentity&Version=2011-06-16");
  EXPECT_EQ(r.response.status, 400);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "XAmzContentSHA256Mismatch");
  EXPECT_EQ(h.sts->seen.calls, 0);
}

TEST(DispatcherTest, EnforceContentSha256HeaderMatchingBodyIsAccepted) {
  Harness h;
  std::string body = "Action=GetCallerIdentity&Version=2011-06-15";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", kSecret, kAccessKey, /*add_content_sha256=*/true);
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_TRUE(h.sts->seen.authenticated);
}

TEST(DispatcherTest, EnforceUnknownAccessKeyIsInvalidClientTokenId) {
  Harness h;
  std::string body = "Action=GetCallerIdentity";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", kSecret, "AKIDUNKNOWN");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 403);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "InvalidClientTokenId");
  EXPECT_TRUE(h.mismatches.empty());
}

TEST(DispatcherTest, EnforceUnknownAccessKeyJson) {
  Harness h;
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonFake.DoThing");
  sign_head(head, "{}", "fakejson", kSecret, "AKIDUNKNOWN");
  auto r = run(*h.dispatcher, std::move(head), "{}");
  EXPECT_EQ(r.response.status, 400);
  auto j = nlohmann::json::parse(r.response.body);
  EXPECT_EQ(j["__type"], "UnrecognizedClientException");
  EXPECT_EQ(header(r.response, "x-amzn-ErrorType"), "UnrecognizedClientException");
  expect_query_request_id(r);
}

TEST(DispatcherTest, EnforceSkewedClockIsRejected) {
  Harness h;
  std::string body = "Action=GetCallerIdentity";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", kSecret, kAccessKey, false, kNow - 3600);
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 403);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "SignatureDoesNotMatch");
  EXPECT_NE(r.response.body.find("Signature expired"), std::string::npos) << r.response.body;
  EXPECT_TRUE(h.mismatches.empty());  // not a signature mismatch, no debug callback
}

TEST(DispatcherTest, MalformedAuthorizationIsRefusedBeforeBody) {
  Harness h;
  auto head = make_head("GET", "/?Action=GetCallerIdentity");
  head.headers.add("X-Amz-Date", "20231114T221320Z");
  head.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/sts/aws4_request");
  auto ex = h.dispatcher->begin(std::move(head));
  ASSERT_NE(ex.immediate, nullptr);
  EXPECT_EQ(ex.sink, nullptr);
  EXPECT_EQ(ex.immediate->status, 400);
  EXPECT_EQ(xml_value(ex.immediate->body, "Code"), "IncompleteSignature");
  EXPECT_EQ(header(*ex.immediate, "x-amzn-RequestId"), ex.info->request_id);
  EXPECT_EQ(h.sts->seen.calls, 0);
}

TEST(DispatcherTest, MalformedAuthorizationOnFormPostIsIncompleteSignature) {
  // Routed by the Action in the body, so the refusal comes once the body is read.
  Harness h;
  auto head = make_head("POST", "/", std::string(kForm));
  head.headers.add("X-Amz-Date", "20231114T221320Z");
  head.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/sts/aws4_request");
  auto r = run(*h.dispatcher, std::move(head), "Action=GetCallerIdentity");
  EXPECT_EQ(r.response.status, 400);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "IncompleteSignature");
  EXPECT_EQ(h.sts->seen.calls, 0);
}

// ---------------------------------------------------------------------------------------------
// Auth off
// ---------------------------------------------------------------------------------------------

TEST(DispatcherTest, AuthOffAcceptsWrongSecretAndKeepsKnownCaller) {
  Harness h(AuthMode::kOff);
  std::string body = "Action=GetCallerIdentity";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", "wrong-secret");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(h.sts->seen.calls, 1);
  EXPECT_FALSE(h.sts->seen.authenticated);
  EXPECT_EQ(h.sts->seen.account_id, kAccount);
  EXPECT_EQ(h.sts->seen.caller_key, kAccessKey);
  EXPECT_EQ(h.sts->seen.region, "eu-west-1");
  EXPECT_TRUE(h.mismatches.empty());
}

TEST(DispatcherTest, AuthOffTwelveDigitAccessKeyIsAccountId) {
  Harness h(AuthMode::kOff);
  std::string body = "Action=GetCallerIdentity";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", "anything", "444455556666");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(h.sts->seen.account_id, "444455556666");
  EXPECT_EQ(h.sts->seen.caller_key, "444455556666");
  EXPECT_EQ(h.sts->seen.caller_arn, "arn:aws:iam::444455556666:root");
}

TEST(DispatcherTest, AuthOffUnknownNonNumericKeyUsesDefaultAccount) {
  Harness h(AuthMode::kOff);
  std::string body = "Action=GetCallerIdentity";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts", "anything", "AKIDSOMEONEELSE");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(h.sts->seen.account_id, "000000000000");
  EXPECT_EQ(h.sts->seen.caller_key, "AKIDSOMEONEELSE");
}

// ---------------------------------------------------------------------------------------------
// Handler errors
// ---------------------------------------------------------------------------------------------

TEST(DispatcherTest, QueryHandlerAwsErrorIsRenderedAsQueryError) {
  Harness h;
  std::string body = "Action=Fail";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 400);
  EXPECT_EQ(r.response.body,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
            "<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>" +
                r.info->request_id + "</RequestId></ErrorResponse>");
  EXPECT_EQ(r.info->operation, "Fail");
  expect_query_request_id(r);
}

TEST(DispatcherTest, QueryHandlerRuntimeErrorIsInternalFailure) {
  Harness h;
  std::string body = "Action=Crash";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 500);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "InternalFailure");
  EXPECT_EQ(xml_value(r.response.body, "Type"), "Receiver");
  EXPECT_EQ(r.response.body.find("boom"), std::string::npos);  // internals not leaked
  expect_query_request_id(r);
}

TEST(DispatcherTest, JsonHandlerAwsErrorIsRenderedAsJson) {
  Harness h;
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonFake.Fail");
  sign_head(head, "{}", "fakejson");
  auto r = run(*h.dispatcher, std::move(head), "{}");
  EXPECT_EQ(r.response.status, 400);
  auto j = nlohmann::json::parse(r.response.body);
  EXPECT_EQ(j["__type"], "ResourceNotFoundException");
  EXPECT_EQ(j["message"], "no such thing");
  EXPECT_EQ(header(r.response, "x-amzn-ErrorType"), "ResourceNotFoundException");
  EXPECT_EQ(header(r.response, "Content-Type"), "application/x-amz-json-1.1");
  expect_query_request_id(r);
}

TEST(DispatcherTest, JsonHandlerRuntimeErrorIsInternalFailure) {
  Harness h;
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonFake.Crash");
  sign_head(head, "{}", "fakejson");
  auto r = run(*h.dispatcher, std::move(head), "{}");
  EXPECT_EQ(r.response.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.response.body)["__type"], "InternalFailure");
  expect_query_request_id(r);
}

TEST(DispatcherTest, RestXmlHandlerErrorAndRequestIdHeaders) {
  Harness h;
  auto head = make_head("GET", "/missing");
  sign_head(head, "", "s3", kSecret, kAccessKey, /*add_content_sha256=*/true);
  auto r = run(*h.dispatcher, std::move(head), "");
  EXPECT_EQ(r.response.status, 404);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "NoSuchBucket");
  EXPECT_EQ(xml_value(r.response.body, "BucketName"), "missing");
  EXPECT_EQ(xml_value(r.response.body, "RequestId"), r.info->request_id);
  EXPECT_EQ(header(r.response, "x-amz-request-id"), r.info->request_id);
  EXPECT_TRUE(r.response.headers.has("x-amz-id-2"));
  EXPECT_FALSE(r.response.headers.has("x-amzn-RequestId"));
  ASSERT_EQ(r.info->request_id.size(), 16u);
  for (char c : r.info->request_id) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) << r.info->request_id;
  }
  EXPECT_EQ(r.info->service, "s3");
  EXPECT_EQ(r.info->operation, "GetObject");
}

TEST(DispatcherTest, RestXmlHeadErrorHasNoBody) {
  Harness h;
  auto head = make_head("HEAD", "/missing");
  sign_head(head, "", "s3", kSecret, kAccessKey, /*add_content_sha256=*/true);
  auto r = run(*h.dispatcher, std::move(head), "");
  EXPECT_EQ(r.response.status, 404);
  EXPECT_TRUE(r.response.body.empty());
  EXPECT_EQ(header(r.response, "x-amz-request-id"), r.info->request_id);
}

TEST(DispatcherTest, S3SignatureMismatchCarriesDebugFields) {
  Harness h;
  auto head = make_head("GET", "/bucket/key");
  sign_head(head, "", "s3", "wrong", kAccessKey, /*add_content_sha256=*/true);
  auto r = run(*h.dispatcher, std::move(head), "");
  EXPECT_EQ(r.response.status, 403);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "SignatureDoesNotMatch");
  EXPECT_EQ(xml_value(r.response.body, "AWSAccessKeyId"), kAccessKey);
  EXPECT_NE(xml_value(r.response.body, "CanonicalRequest"), "<absent>");
  EXPECT_EQ(xml_value(r.response.body, "CanonicalRequest").rfind("GET\n/bucket/key\n", 0), 0u);
  EXPECT_EQ(h.mismatches.size(), 1u);
  EXPECT_EQ(h.s3->seen.calls, 0);
}

TEST(DispatcherTest, ImmediateUnroutedErrorHasRequestId) {
  Harness h(AuthMode::kEnforce, /*with_s3=*/false);
  auto head = make_head("GET", "/x");
  sign_head(head, "", "kinesis");
  auto ex = h.dispatcher->begin(std::move(head));
  ASSERT_NE(ex.immediate, nullptr);
  EXPECT_EQ(header(*ex.immediate, "x-amzn-RequestId"), ex.info->request_id);
}

// ---------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------

TEST(DispatcherTest, StreamingBodyWithMatchingSha256ReachesSink) {
  Harness h;
  std::string body(100000, 'x');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  auto head = make_head("PUT", "/bucket/key");
  sign_head(head, body, "s3", kSecret, kAccessKey, /*add_content_sha256=*/true);
  auto ex = h.dispatcher->begin(std::move(head));
  ASSERT_EQ(ex.immediate, nullptr) << ex.immediate->body;
  ASSERT_NE(ex.sink, nullptr);
  EXPECT_GT(ex.body_limit, 5ull << 30);
  EXPECT_EQ(ex.info->service, "s3");
  EXPECT_EQ(h.s3->seen.calls, 1);  // begin_stream called at begin()
  EXPECT_TRUE(h.s3->seen.authenticated);
  EXPECT_EQ(h.s3->seen.account_id, kAccount);
  for (std::size_t i = 0; i < body.size(); i += 4096) {
    ex.sink->write(std::string_view(body).substr(i, 4096));
    EXPECT_FALSE(ex.sink->failed());
  }
  auto resp = ex.sink->finish();
  EXPECT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(header(resp, "ETag"), "\"etag\"");
  EXPECT_EQ(h.s3->seen.streamed, body);
  EXPECT_TRUE(h.s3->seen.stream_finished);
  EXPECT_FALSE(h.s3->seen.stream_aborted);
  EXPECT_EQ(header(resp, "x-amz-request-id"), ex.info->request_id);
  EXPECT_EQ(ex.info->operation, "PutObject");
}

TEST(DispatcherTest, StreamingBodyWithMismatchingSha256FailsAtFinish) {
  Harness h;
  auto head = make_head("PUT", "/bucket/key");
  sign_head(head, "hello", "s3", kSecret, kAccessKey, /*add_content_sha256=*/true);
  auto r = run(*h.dispatcher, std::move(head), "world");
  EXPECT_EQ(r.response.status, 400);
  EXPECT_EQ(xml_value(r.response.body, "Code"), "XAmzContentSHA256Mismatch");
  EXPECT_EQ(xml_value(r.response.body, "ClientComputedContentSHA256"), hex(sha256("hello")));
  EXPECT_EQ(xml_value(r.response.body, "S3ComputedContentSHA256"), hex(sha256("world")));
  EXPECT_TRUE(h.s3->seen.stream_aborted);
  EXPECT_FALSE(h.s3->seen.stream_finished);
  EXPECT_EQ(header(r.response, "x-amz-request-id"), r.info->request_id);
}

TEST(DispatcherTest, StreamingWrongSecretIsRefusedBeforeBody) {
  Harness h;
  auto head = make_head("PUT", "/bucket/key");
  sign_head(head, "hello", "s3", "wrong", kAccessKey, /*add_content_sha256=*/true);
  auto ex = h.dispatcher->begin(std::move(head));
  ASSERT_NE(ex.immediate, nullptr);
  EXPECT_EQ(ex.sink, nullptr);
  EXPECT_EQ(ex.immediate->status, 403);
  EXPECT_EQ(xml_value(ex.immediate->body, "Code"), "SignatureDoesNotMatch");
  EXPECT_EQ(header(*ex.immediate, "x-amz-request-id"), ex.info->request_id);
  EXPECT_EQ(h.s3->seen.calls, 0);
}

TEST(DispatcherTest, StreamingHeaderSignedWithoutContentSha256IsInvalidRequest) {
  Harness h;
  auto head = make_head("PUT", "/bucket/key");
  sign_head(head, "hello", "s3", kSecret, kAccessKey, /*add_content_sha256=*/false);
  auto ex = h.dispatcher->begin(std::move(head));
  ASSERT_NE(ex.immediate, nullptr);
  EXPECT_EQ(ex.immediate->status, 400);
  EXPECT_EQ(xml_value(ex.immediate->body, "Code"), "InvalidRequest");
}

TEST(DispatcherTest, StreamingUnsignedPayloadTrailerIsDecoded) {
  Harness h;
  auto head = make_head("PUT", "/bucket/key");
  head.headers.add("Content-Encoding", "aws-chunked");
  head.headers.add("x-amz-trailer", "x-amz-checksum-crc32");
  head.headers.add("x-amz-decoded-content-length", "5");
  sigv4::SigningParams p;
  p.access_key = std::string(kAccessKey);
  p.secret_key = std::string(kSecret);
  p.region = "us-east-1";
  p.service = "s3";
  p.now = kNow;
  p.style = sigv4::PathStyle::kS3;
  p.add_content_sha256 = true;
  sigv4::sign(head, sigv4::kStreamingUnsignedTrailer, p);
  // CRC32("hello") = 0x3610a686
  std::string body = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
  auto r = run(*h.dispatcher, std::move(head), body, /*piece=*/3);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(h.s3->seen.streamed, "hello");
  EXPECT_TRUE(h.s3->seen.stream_finished);
  EXPECT_FALSE(h.s3->seen.stream_aborted);
}

TEST(DispatcherTest, StreamingAwsChunkedWithWrongDecodedLengthFails) {
  Harness h;
  auto head = make_head("PUT", "/bucket/key");
  head.headers.add("Content-Encoding", "aws-chunked");
  head.headers.add("x-amz-trailer", "x-amz-checksum-crc32");
  head.headers.add("x-amz-decoded-content-length", "6");
  sigv4::SigningParams p;
  p.access_key = std::string(kAccessKey);
  p.secret_key = std::string(kSecret);
  p.region = "us-east-1";
  p.service = "s3";
  p.now = kNow;
  p.style = sigv4::PathStyle::kS3;
  p.add_content_sha256 = true;
  sigv4::sign(head, sigv4::kStreamingUnsignedTrailer, p);
  auto r = run(*h.dispatcher, std::move(head), "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n");
  EXPECT_GE(r.response.status, 400);
  EXPECT_FALSE(h.s3->seen.stream_finished);
  EXPECT_EQ(header(r.response, "x-amz-request-id"), r.info->request_id);
}

TEST(DispatcherTest, NewRequestIdFormats) {
  auto s3 = Dispatcher::new_request_id(WireProtocol::kRestXml);
  EXPECT_EQ(s3.size(), 16u);
  EXPECT_TRUE(is_uuid(Dispatcher::new_request_id(WireProtocol::kQuery)));
  EXPECT_TRUE(is_uuid(Dispatcher::new_request_id(WireProtocol::kJson10)));
  EXPECT_NE(Dispatcher::new_request_id(WireProtocol::kQuery), Dispatcher::new_request_id(WireProtocol::kQuery));
}

TEST(DispatcherTest, GenericErrorIsQueryShaped) {
  auto r = Dispatcher::generic_error(404, "NotFound", "nothing here", "rid-1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code><Message>nothing here</Message>"
            "</Error><RequestId>rid-1</RequestId></ErrorResponse>");
  EXPECT_EQ(header(r, "x-amzn-RequestId"), "rid-1");
}

// --- the pipeline: interceptors, one error boundary, resolution ---------------------------------

/// Records the order in which interceptors ran; refuses the request when told to.
class OrderInterceptor final : public Interceptor {
 public:
  OrderInterceptor(std::string name, std::vector<std::string>& order, bool refuse = false)
      : name_(std::move(name)), order_(order), refuse_(refuse) {}
  std::string_view name() const override { return name_; }
  void before(Invocation& call) override {
    // Authentication ran first: the caller is known to every later step.
    order_.push_back(name_ + ":" + call.ctx.caller.access_key);
    if (refuse_) {
      throw AwsError("AccessDenied", 403, "refused by " + name_);
    }
  }

 private:
  std::string name_;
  std::vector<std::string>& order_;
  bool refuse_;
};

TEST(DispatcherTest, InterceptorsRunInStageOrderAfterAuthentication) {
  Harness h;
  std::vector<std::string> order;
  h.dispatcher->add_interceptor(InterceptorStage::kCapture, std::make_shared<OrderInterceptor>("capture", order));
  h.dispatcher->add_interceptor(InterceptorStage::kAuthorization, std::make_shared<OrderInterceptor>("authz", order));
  h.dispatcher->add_interceptor(InterceptorStage::kFaultInjection, std::make_shared<OrderInterceptor>("fault", order));
  EXPECT_EQ(h.dispatcher->interceptor_names(),
            (std::vector<std::string_view>{"authentication", "authz", "fault", "capture"}));
  std::string body = "Action=GetCallerIdentity";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sts");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 200) << r.response.body;
  EXPECT_EQ(order, (std::vector<std::string>{"authz:AKIDEXAMPLE", "fault:AKIDEXAMPLE", "capture:AKIDEXAMPLE"}));
}

TEST(DispatcherTest, RefusingInterceptorStopsTheRequestInItsProtocol) {
  Harness h;
  std::vector<std::string> order;
  h.dispatcher->add_interceptor(InterceptorStage::kAuthorization,
                                std::make_shared<OrderInterceptor>("authz", order, true));
  std::string body = R"({})";
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonFake.Describe");
  sign_head(head, body, "fakejson");
  auto r = run(*h.dispatcher, std::move(head), body);
  EXPECT_EQ(r.response.status, 403);
  EXPECT_EQ(nlohmann::json::parse(r.response.body)["__type"], "AccessDenied");
  EXPECT_EQ(header(r.response, "x-amzn-RequestId"), r.info->request_id);
  EXPECT_EQ(h.json->seen.calls, 0);
}

TEST(DispatcherTest, UnsignedRequestsNeverReachInterceptors) {
  Harness h;
  std::vector<std::string> order;
  h.dispatcher->add_interceptor(InterceptorStage::kCapture, std::make_shared<OrderInterceptor>("capture", order));
  std::string body = "Action=GetCallerIdentity";
  auto r = run(*h.dispatcher, make_head("POST", "/", std::string(kForm)), body);
  EXPECT_EQ(r.response.status, 403);
  EXPECT_TRUE(order.empty());
}

TEST(DispatcherTest, InternalErrorsAreLoggedWithTheRequestId) {
  Harness h;
  std::vector<std::pair<std::string, std::string>> logged;
  DispatcherConfig cfg = h.dispatcher->config();
  cfg.on_internal_error = [&](std::string_view rid, std::string_view cause) { logged.emplace_back(rid, cause); };
  Dispatcher d(std::move(cfg), std::make_shared<FakeKeys>());
  d.add(h.json);
  std::string body = "{}";
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonFake.Crash");
  sign_head(head, body, "fakejson");
  auto r = run(d, std::move(head), body);
  EXPECT_EQ(r.response.status, 500);
  EXPECT_EQ(nlohmann::json::parse(r.response.body)["__type"], "InternalFailure");
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0].first, r.info->request_id);
  EXPECT_EQ(logged[0].second, "boom");
}

TEST(DispatcherTest, SharedQueryActionIsRoutedByTheCredentialScope) {
  // SNS and SQS both have AddPermission: the signature's service decides, never the Action.
  DispatcherConfig cfg;
  cfg.real_time = [] { return kNow; };
  Dispatcher d(std::move(cfg), std::make_shared<FakeKeys>());
  auto sns = std::make_shared<FakeQueryService>("sns", std::vector<std::string>{"AddPermission"});
  auto sqs = std::make_shared<FakeQueryService>("sqs", std::vector<std::string>{"AddPermission"});
  d.add(sns);
  d.add(sqs);
  std::string body = "Action=AddPermission&Label=x";
  auto head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sqs");
  EXPECT_EQ(run(d, std::move(head), body).response.status, 200);
  EXPECT_EQ(sqs->seen.calls, 1);
  EXPECT_EQ(sns->seen.calls, 0);
  head = make_head("POST", "/", std::string(kForm));
  sign_head(head, body, "sns");
  EXPECT_EQ(run(d, std::move(head), body).response.status, 200);
  EXPECT_EQ(sns->seen.calls, 1);
  EXPECT_EQ(sqs->seen.calls, 1);
}

TEST(DispatcherTest, ServerRaisedErrorsUseTheRequestsProtocolAndId) {
  Harness h;
  auto head = make_head("POST", "/", "application/x-amz-json-1.1");
  head.headers.add("X-Amz-Target", "AmazonFake.Describe");
  sign_head(head, "{}", "fakejson");
  auto ex = h.dispatcher->begin(std::move(head));
  ASSERT_TRUE(ex.render_error);
  auto r = ex.render_error(AwsError("RequestEntityTooLarge", 413, "too large"));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(nlohmann::json::parse(r.body)["__type"], "RequestEntityTooLarge");
  EXPECT_EQ(header(r, "x-amzn-RequestId"), ex.info->request_id);
  ex.sink->abort();
}

}  // namespace
}  // namespace fogbank::protocol
