#include "fogbank/protocol/error_render.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::protocol {
namespace {

using sigv4::AuthFailure;

constexpr std::string_view kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view kStsNs = "https://sts.amazonaws.com/doc/2011-06-15/";

RequestHead head_with_query(std::string query = {}) {
  RequestHead h;
  h.method = "GET";
  h.target = query.empty() ? "/bucket/key" : "/bucket/key?" + query;
  h.split_target();
  return h;
}

// ---- render_error: rest-xml ----

TEST(ErrorRenderTest, RestXmlExactBody) {
  AwsError e("NoSuchBucket", 404, "The specified bucket does not exist");
  e.with_field("BucketName", "b1");
  auto r = render_error(e, WireProtocol::kRestXml, "REQ123");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, std::string(kDecl) +
                        "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
                        "<BucketName>b1</BucketName><RequestId>REQ123</RequestId><HostId>REQ123</HostId></Error>");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/xml");
}

TEST(ErrorRenderTest, RestXmlFieldsKeepOrderAndAreEscaped) {
  AwsError e("SignatureDoesNotMatch", 403, "a<b");
  e.with_field("Z", "1").with_field("A", "x&y").with_field("M", "3");
  auto r = render_error(e, WireProtocol::kRestXml, "R");
  auto z = r.body.find("<Z>1</Z>");
  auto a = r.body.find("<A>x&amp;y</A>");
  auto m = r.body.find("<M>3</M>");
  auto rid = r.body.find("<RequestId>R</RequestId>");
  auto msg = r.body.find("<Message>a&lt;b</Message>");
  ASSERT_NE(z, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(m, std::string::npos);
  ASSERT_NE(rid, std::string::npos);
  ASSERT_NE(msg, std::string::npos);
  EXPECT_LT(msg, z);
  EXPECT_LT(z, a);
  EXPECT_LT(a, m);
  EXPECT_LT(m, rid);
}

TEST(ErrorRenderTest, RestXmlHeadHasNoBodyButKeepsStatus) {
  AwsError e("NoSuchKey", 404, "The specified key does not exist.");
  auto r = render_error(e, WireProtocol::kRestXml, "R", {}, "HEAD");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.body.empty());
}

TEST(ErrorRenderTest, ExtraHeadersAreCopied) {
  AwsError e("PermanentRedirect", 301, "moved");
  e.headers.emplace_back("x-amz-bucket-region", "eu-west-1");
  for (auto p : {WireProtocol::kRestXml, WireProtocol::kQuery, WireProtocol::kJson10}) {
    auto r = render_error(e, p, "R");
    EXPECT_EQ(r.headers.get("x-amz-bucket-region").value_or(""), "eu-west-1");
    EXPECT_EQ(r.status, 301);
  }
  auto head = render_error(e, WireProtocol::kRestXml, "R", {}, "HEAD");
  EXPECT_EQ(head.headers.get("x-amz-bucket-region").value_or(""), "eu-west-1");
}

// ---- render_error: query ----

TEST(ErrorRenderTest, QueryExactBodySender) {
  AwsError e("ValidationError", 400, "bad <value>");
  auto r = render_error(e, WireProtocol::kQuery, "uuid-1", kStsNs);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad &lt;value&gt;</Message></Error>"
            "<RequestId>uuid-1</RequestId></ErrorResponse>");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/xml");
}

TEST(ErrorRenderTest, QueryReceiverFaultAndFields) {
  auto e = errors::internal_failure();
  e.with_field("Detail", "d");
  auto r = render_error(e, WireProtocol::kQuery, "rid", "urn:ns");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("<Type>Receiver</Type>"), std::string::npos);
  EXPECT_NE(r.body.find("<Code>InternalFailure</Code>"), std::string::npos);
  EXPECT_NE(r.body.find("<Detail>d</Detail></Error><RequestId>rid</RequestId>"), std::string::npos);
  EXPECT_EQ(r.body.rfind("<ErrorResponse xmlns=\"urn:ns\">", 0), 0u);
}

TEST(ErrorRenderTest, QueryWithoutNamespaceHasNoXmlnsAttribute) {
  auto r = render_error(AwsError("X", 400, "m"), WireProtocol::kQuery, "r");
  EXPECT_EQ(r.body.rfind("<ErrorResponse><Error>", 0), 0u);
}

TEST(ErrorRenderTest, QueryHeadStillHasBody) {
  // Only S3 drops the body for HEAD.
  auto r = render_error(AwsError("X", 400, "m"), WireProtocol::kQuery, "r", "urn:x", "HEAD");
  EXPECT_FALSE(r.body.empty());
}

// ---- render_error: json ----

TEST(ErrorRenderTest, Json10Body) {
  AwsError e("ResourceNotFoundException", 400, "Table \"t\" not found");
  auto r = render_error(e, WireProtocol::kJson10, "rid");
  EXPECT_EQ(r.status, 400);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["__type"], "ResourceNotFoundException");
  EXPECT_EQ(j["message"], "Table \"t\" not found");
  EXPECT_EQ(j.size(), 2u);
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/x-amz-json-1.0");
  EXPECT_EQ(r.headers.get("x-amzn-ErrorType").value_or(""), "ResourceNotFoundException");
  EXPECT_FALSE(r.headers.has("x-amzn-query-error"));
}

TEST(ErrorRenderTest, Json11ContentType) {
  auto r = render_error(AwsError("ThrottlingException", 400, "slow"), WireProtocol::kJson11, "rid");
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/x-amz-json-1.1");
  EXPECT_EQ(r.headers.get("x-amzn-errortype").value_or(""), "ThrottlingException");
  EXPECT_EQ(nlohmann::json::parse(r.body)["message"], "slow");
}

TEST(ErrorRenderTest, JsonQueryCompatibleHeader) {
  AwsError e("QueueDoesNotExist", 400, "The specified queue does not exist.");
  auto r = render_error(e, WireProtocol::kJson10, "rid", {}, "POST",
                        "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(r.headers.get("x-amzn-query-error").value_or(""),
            "AWS.SimpleQueueService.NonExistentQueue;Sender");
  auto receiver = errors::internal_failure();
  auto r2 = render_error(receiver, WireProtocol::kJson10, "rid", {}, "POST", "InternalError");
  EXPECT_EQ(r2.headers.get("x-amzn-query-error").value_or(""), "InternalError;Receiver");
  EXPECT_EQ(r2.status, 500);
}

// ---- auth_error mapping ----

struct Expect {
  std::string code;
  int status;
};

Expect map(AuthFailure f, WireProtocol p, std::string_view detail = {}, const RequestHead& h = head_with_query()) {
  auto e = auth_error(f, p, nullptr, detail, h);
  return {e.code, e.status};
}

#define EXPECT_MAPS(failure, protocol, want_code, want_status)            \
  do {                                                                    \
    auto got = map(failure, protocol);                                    \
    EXPECT_EQ(got.code, want_code) << #failure << " / " << #protocol;     \
    EXPECT_EQ(got.status, want_status) << #failure << " / " << #protocol; \
  } while (0)

TEST(ErrorRenderTest, AuthErrorS3Mapping) {
  const auto P = WireProtocol::kRestXml;
  EXPECT_MAPS(AuthFailure::kMissingAuthentication, P, "AccessDenied", 403);
  EXPECT_MAPS(AuthFailure::kIncompleteSignature, P, "AuthorizationHeaderMalformed", 400);
  EXPECT_MAPS(AuthFailure::kUnsupportedAlgorithm, P, "InvalidRequest", 400);
  EXPECT_MAPS(AuthFailure::kInvalidExpires, P, "AuthorizationQueryParametersError", 400);
  EXPECT_MAPS(AuthFailure::kInvalidDate, P, "AccessDenied", 403);
  EXPECT_MAPS(AuthFailure::kUnknownAccessKey, P, "InvalidAccessKeyId", 403);
  EXPECT_MAPS(AuthFailure::kMissingSessionToken, P, "InvalidAccessKeyId", 403);
  EXPECT_MAPS(AuthFailure::kInvalidSessionToken, P, "InvalidToken", 400);
  EXPECT_MAPS(AuthFailure::kExpiredToken, P, "ExpiredToken", 400);
  EXPECT_MAPS(AuthFailure::kSignatureMismatch, P, "SignatureDoesNotMatch", 403);
  EXPECT_MAPS(AuthFailure::kRequestTimeTooSkewed, P, "RequestTimeTooSkewed", 403);
  EXPECT_MAPS(AuthFailure::kPresignExpired, P, "AccessDenied", 403);
  EXPECT_MAPS(AuthFailure::kPresignNotYetValid, P, "AccessDenied", 403);
  EXPECT_MAPS(AuthFailure::kPayloadHashMismatch, P, "XAmzContentSHA256Mismatch", 400);
}

TEST(ErrorRenderTest, AuthErrorQueryMapping) {
  const auto P = WireProtocol::kQuery;
  EXPECT_MAPS(AuthFailure::kMissingAuthentication, P, "MissingAuthenticationToken", 403);
  EXPECT_MAPS(AuthFailure::kIncompleteSignature, P, "IncompleteSignature", 400);
  EXPECT_MAPS(AuthFailure::kUnsupportedAlgorithm, P, "IncompleteSignature", 400);
  EXPECT_MAPS(AuthFailure::kInvalidDate, P, "IncompleteSignature", 400);
  EXPECT_MAPS(AuthFailure::kInvalidExpires, P, "IncompleteSignature", 400);
  EXPECT_MAPS(AuthFailure::kUnknownAccessKey, P, "InvalidClientTokenId", 403);
  EXPECT_MAPS(AuthFailure::kMissingSessionToken, P, "InvalidClientTokenId", 403);
  EXPECT_MAPS(AuthFailure::kInvalidSessionToken, P, "InvalidClientTokenId", 403);
  EXPECT_MAPS(AuthFailure::kExpiredToken, P, "ExpiredToken", 403);
  EXPECT_MAPS(AuthFailure::kSignatureMismatch, P, "SignatureDoesNotMatch", 403);
  EXPECT_MAPS(AuthFailure::kRequestTimeTooSkewed, P, "SignatureDoesNotMatch", 403);
  EXPECT_MAPS(AuthFailure::kPresignExpired, P, "SignatureDoesNotMatch", 403);
  EXPECT_MAPS(AuthFailure::kPresignNotYetValid, P, "SignatureDoesNotMatch", 403);
  EXPECT_MAPS(AuthFailure::kPayloadHashMismatch, P, "XAmzContentSHA256Mismatch", 400);
}

TEST(ErrorRenderTest, AuthErrorJsonMapping) {
  for (auto P : {WireProtocol::kJson10, WireProtocol::kJson11}) {
    EXPECT_MAPS(AuthFailure::kMissingAuthentication, P, "MissingAuthenticationTokenException", 400);
    EXPECT_MAPS(AuthFailure::kIncompleteSignature, P, "IncompleteSignatureException", 400);
    EXPECT_MAPS(AuthFailure::kUnsupportedAlgorithm, P, "IncompleteSignatureException", 400);
    EXPECT_MAPS(AuthFailure::kInvalidDate, P, "IncompleteSignatureException", 400);
    EXPECT_MAPS(AuthFailure::kInvalidExpires, P, "IncompleteSignatureException", 400);
    EXPECT_MAPS(AuthFailure::kUnknownAccessKey, P, "UnrecognizedClientException", 400);
    EXPECT_MAPS(AuthFailure::kMissingSessionToken, P, "UnrecognizedClientException", 400);
    EXPECT_MAPS(AuthFailure::kInvalidSessionToken, P, "UnrecognizedClientException", 400);
    EXPECT_MAPS(AuthFailure::kExpiredToken, P, "ExpiredTokenException", 400);
    EXPECT_MAPS(AuthFailure::kSignatureMismatch, P, "InvalidSignatureException", 400);
    EXPECT_MAPS(AuthFailure::kRequestTimeTooSkewed, P, "InvalidSignatureException", 400);
    EXPECT_MAPS(AuthFailure::kPresignExpired, P, "InvalidSignatureException", 400);
    EXPECT_MAPS(AuthFailure::kPresignNotYetValid, P, "InvalidSignatureException", 400);
  }
}

TEST(ErrorRenderTest, AuthErrorS3IncompletePresignedIsQueryParametersError) {
  auto h = head_with_query("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=bad");
  auto e = auth_error(AuthFailure::kIncompleteSignature, WireProtocol::kRestXml, nullptr, "detail text", h);
  EXPECT_EQ(e.code, "AuthorizationQueryParametersError");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message, "detail text");
}

TEST(ErrorRenderTest, AuthErrorS3Messages) {
  auto h = head_with_query();
  auto unknown = auth_error(AuthFailure::kUnknownAccessKey, WireProtocol::kRestXml, nullptr, {}, h);
  EXPECT_EQ(unknown.message, "The AWS Access Key Id you provided does not exist in our records.");
  auto expired = auth_error(AuthFailure::kPresignExpired, WireProtocol::kRestXml, nullptr, {}, h);
  EXPECT_EQ(expired.message, "Request has expired");
  auto skew = auth_error(AuthFailure::kRequestTimeTooSkewed, WireProtocol::kRestXml, nullptr, {}, h);
  ASSERT_EQ(skew.fields.size(), 1u);
  EXPECT_EQ(skew.fields[0].first, "MaxAllowedSkewMilliseconds");
  EXPECT_EQ(skew.fields[0].second, "900000");
  auto date = auth_error(AuthFailure::kInvalidDate, WireProtocol::kRestXml, nullptr, {}, h);
  EXPECT_EQ(date.message, "AWS authentication requires a valid Date or x-amz-date header");
}

TEST(ErrorRenderTest, AuthErrorS3SignatureMismatchWithVerificationHasFields) {
  sigv4::Verification v;
  v.failure = AuthFailure::kSignatureMismatch;
  v.credential.access_key = "AKIDEXAMPLE";
  v.canonical_request = "GET\n/\n\nhost:x\n\nhost\nUNSIGNED-PAYLOAD";
  v.string_to_sign = "AWS4-HMAC-SHA256\n20230101T000000Z\nscope\nabc";
  auto e = auth_error(AuthFailure::kSignatureMismatch, WireProtocol::kRestXml, &v, "deadbeef",
                      head_with_query());
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.status, 403);
  auto field = [&](std::string_view name) -> std::string {
    for (const auto& [n, val] : e.fields) {
      if (n == name) return val;
    }
    return "<absent>";
  };
  EXPECT_EQ(field("AWSAccessKeyId"), "AKIDEXAMPLE");
  EXPECT_EQ(field("StringToSign"), v.string_to_sign);
  EXPECT_EQ(field("CanonicalRequest"), v.canonical_request);
  EXPECT_EQ(field("SignatureProvided"), "deadbeef");
  EXPECT_EQ(field("StringToSignBytes").substr(0, 11), "41 57 53 34");  // "AWS4"
  EXPECT_EQ(field("CanonicalRequestBytes").substr(0, 11), "47 45 54 0a");  // "GET\n"
  // And the rendered body carries them in order after Message.
  auto r = render_error(e, WireProtocol::kRestXml, "R");
  auto sts = r.body.find("<StringToSign>");
  auto creq = r.body.find("<CanonicalRequest>");
  ASSERT_NE(sts, std::string::npos);
  ASSERT_NE(creq, std::string::npos);
  EXPECT_LT(sts, creq);
}

TEST(ErrorRenderTest, AuthErrorS3SignatureMismatchWithoutVerificationHasNoFields) {
  auto e = auth_error(AuthFailure::kSignatureMismatch, WireProtocol::kRestXml, nullptr, "sig",
                      head_with_query());
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_TRUE(e.fields.empty());
}

TEST(ErrorRenderTest, AuthErrorQueryMessages) {
  auto h = head_with_query();
  auto missing = auth_error(AuthFailure::kMissingAuthentication, WireProtocol::kQuery, nullptr, {}, h);
  EXPECT_EQ(missing.message, "Request is missing Authentication Token");
  auto token = auth_error(AuthFailure::kUnknownAccessKey, WireProtocol::kQuery, nullptr, {}, h);
  EXPECT_EQ(token.message, "The security token included in the request is invalid.");
  auto skew = auth_error(AuthFailure::kRequestTimeTooSkewed, WireProtocol::kQuery, nullptr,
                         "Signature expired: 20200101T000000Z is now earlier than ...", h);
  EXPECT_EQ(skew.message, "Signature expired: 20200101T000000Z is now earlier than ...");
  auto incomplete = auth_error(AuthFailure::kIncompleteSignature, WireProtocol::kQuery, nullptr, {}, h);
  EXPECT_EQ(incomplete.message, "Incomplete signature");
  // Query signature errors never carry the S3 debug fields.
  sigv4::Verification v;
  v.canonical_request = "x";
  v.string_to_sign = "y";
  auto mismatch = auth_error(AuthFailure::kSignatureMismatch, WireProtocol::kQuery, &v, "sig", h);
  EXPECT_TRUE(mismatch.fields.empty());
}

TEST(ErrorRenderTest, AuthErrorJsonMessages) {
  auto h = head_with_query();
  auto missing = auth_error(AuthFailure::kMissingAuthentication, WireProtocol::kJson11, nullptr, {}, h);
  EXPECT_EQ(missing.message, "Missing Authentication Token");
  auto token = auth_error(AuthFailure::kUnknownAccessKey, WireProtocol::kJson10, nullptr, {}, h);
  EXPECT_EQ(token.message, "The security token included in the request is invalid.");
  auto expired = auth_error(AuthFailure::kExpiredToken, WireProtocol::kJson10, nullptr, {}, h);
  EXPECT_EQ(expired.message, "The security token included in the request is expired");
}

}  // namespace
}  // namespace fogbank::protocol
