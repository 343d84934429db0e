#include "fogbank/sts/sts_service.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/uri.hpp"
#include "fogbank/storage/store.hpp"
#include "fogbank/sts/credentials.hpp"

#include "memory_store.hpp"

namespace fogbank::sts {
namespace {

using protocol::AwsError;
using protocol::RequestContext;
using protocol::RequestHead;
using protocol::Response;

constexpr std::int64_t kNow = 1700000000;  // 2023-11-14T22:13:20Z
constexpr std::string_view kXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

std::string xml_value(const std::string& body, std::string_view tag, std::size_t from = 0) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  auto a = body.find(open, from);
  if (a == std::string::npos) return "<absent>";
  a += open.size();
  auto b = body.find(close, a);
  if (b == std::string::npos) return "<unclosed>";
  return body.substr(a, b - a);
}

std::string enc(std::string_view s) { return protocol::uri_encode(s); }

class StsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = test::memory_store();
    ASSERT_NE(store_, nullptr);
    keys_ = parse_static_keys(
        "AKIAIOSFODNN7EXAMPLE:rootsecret:111122223333,"
        "AKIAUSEREXAMPLE00001:usersecret:111122223333:alice,"
        "AKIAOTHEREXAMPLE0001:othersecret:444455556666");
    creds_ = std::make_shared<CredentialStore>(*store_, keys_);
    service_ = make_sts_service(creds_);
    head_.method = "POST";
    head_.target = "/";
    head_.split_target();
    head_.headers.add("Host", "localhost:4566");
    head_.headers.add("Content-Type", "application/x-www-form-urlencoded");
  }

  protocol::sigv4::Credential root() const { return identity_of(keys_[0]); }
  protocol::sigv4::Credential user() const { return identity_of(keys_[1]); }

  Response call(const std::string& body, const protocol::sigv4::Credential& caller) {
    RequestContext ctx{head_};
    ctx.request_id = "11111111-2222-3333-4444-555555555555";
    ctx.caller = caller;
    ctx.account_id = caller.account_id;
    ctx.region = "us-east-1";
    ctx.now = kNow;
    ctx.authenticated = true;
    auto r = service_->handle(ctx, body);
    last_operation_ = ctx.operation;
    return r;
  }
  Response call(const std::string& body) { return call(body, root()); }

  AwsError call_error(const std::string& body, const protocol::sigv4::Credential& caller) {
    try {
      auto r = call(body, caller);
      ADD_FAILURE() << "expected an AwsError for " << body << ", got " << r.status << " " << r.body;
    } catch (const AwsError& e) {
      return e;
    }
    return AwsError("none", 0, "");
  }
  AwsError call_error(const std::string& body) { return call_error(body, root()); }

  std::unique_ptr<storage::Store> store_;
  std::vector<StaticKey> keys_;
  std::shared_ptr<CredentialStore> creds_;
  std::shared_ptr<protocol::Service> service_;
  RequestHead head_;
  std::string last_operation_;
};

TEST_F(StsServiceTest, ServiceDescription) {
  EXPECT_EQ(service_->name(), "sts");
  EXPECT_EQ(service_->protocol(), protocol::WireProtocol::kQuery);
  EXPECT_EQ(service_->xml_namespace(), kXmlns);
  EXPECT_TRUE(service_->has_action("GetCallerIdentity"));
  EXPECT_TRUE(service_->has_action("AssumeRole"));
  EXPECT_TRUE(service_->has_action("AssumeRoot"));  // answers NotImplemented, still routed here
  EXPECT_FALSE(service_->has_action("ListBuckets"));
  EXPECT_FALSE(service_->has_action("getcalleridentity"));
}

TEST_F(StsServiceTest, Iso8601) {
  EXPECT_EQ(iso8601(kNow), "2023-11-14T22:13:20Z");
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00Z");
}

TEST_F(StsServiceTest, GetCallerIdentityRoot) {
  auto r = call("Action=GetCallerIdentity&Version=2011-06-15");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "text/xml");
  EXPECT_EQ(r.body,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
            "<GetCallerIdentityResult><UserId>111122223333</UserId><Account>111122223333</Account>"
            "<Arn>arn:aws:iam::111122223333:root</Arn></GetCallerIdentityResult>"
            "<ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId>"
            "</ResponseMetadata></GetCallerIdentityResponse>");
  EXPECT_EQ(last_operation_, "GetCallerIdentity");
}

TEST_F(StsServiceTest, GetCallerIdentityUser) {
  auto r = call("Action=GetCallerIdentity&Version=2011-06-15", user());
  EXPECT_EQ(xml_value(r.body, "Arn"), "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(xml_value(r.body, "Account"), "111122223333");
  EXPECT_EQ(xml_value(r.body, "UserId"), user().user_id);
  EXPECT_EQ(xml_value(r.body, "UserId").substr(0, 4), "AIDA");
}

TEST_F(StsServiceTest, ActionInUrlQueryString) {
  head_.target = "/?Action=GetCallerIdentity&Version=2011-06-15";
  head_.split_target();
  auto r = call("");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_value(r.body, "Account"), "111122223333");
}

TEST_F(StsServiceTest, GetSessionTokenExplicitDuration) {
  auto r = call("Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900", user());
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<GetSessionTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                        "<GetSessionTokenResult><Credentials>"),
            std::string::npos)
      << r.body;
  auto key = xml_value(r.body, "AccessKeyId");
  EXPECT_EQ(key.substr(0, 4), "ASIA");
  EXPECT_EQ(key.size(), 20u);
  EXPECT_EQ(xml_value(r.body, "SecretAccessKey").size(), 40u);
  EXPECT_FALSE(xml_value(r.body, "SessionToken").empty());
  EXPECT_EQ(xml_value(r.body, "Expiration"), "2023-11-14T22:28:20Z");
  // The issued key works for later requests and keeps the caller's identity.
  auto found = creds_->find(key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->secret_key, xml_value(r.body, "SecretAccessKey"));
  EXPECT_EQ(found->session_token, xml_value(r.body, "SessionToken"));
  EXPECT_EQ(found->account_id, "111122223333");
  EXPECT_EQ(found->arn, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(found->user_id, user().user_id);
  EXPECT_EQ(found->expires_at, kNow + 900);
  EXPECT_EQ(last_operation_, "GetSessionToken");
}

TEST_F(StsServiceTest, GetSessionTokenDefaultForRootIsOneHour) {
  auto r = call("Action=GetSessionToken&Version=2011-06-15", root());
  EXPECT_EQ(xml_value(r.body, "Expiration"), "2023-11-14T23:13:20Z");
  auto found = creds_->find(xml_value(r.body, "AccessKeyId"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->expires_at, kNow + 3600);
}

TEST_F(StsServiceTest, GetSessionTokenRootIsCappedAtOneHour) {
  auto r = call("Action=GetSessionToken&Version=2011-06-15&DurationSeconds=7200", root());
  EXPECT_EQ(xml_value(r.body, "Expiration"), "2023-11-14T23:13:20Z");
}

TEST_F(StsServiceTest, GetSessionTokenDefaultForUserIsTwelveHours) {
  auto r = call("Action=GetSessionToken&Version=2011-06-15", user());
  EXPECT_EQ(xml_value(r.body, "Expiration"), "2023-11-15T10:13:20Z");
}

TEST_F(StsServiceTest, GetSessionTokenMaxForUser) {
  auto r = call("Action=GetSessionToken&DurationSeconds=129600", user());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_value(r.body, "Expiration"), iso8601(kNow + 129600));
}

TEST_F(StsServiceTest, GetSessionTokenDurationBounds) {
  auto low = call_error("Action=GetSessionToken&DurationSeconds=899", user());
  EXPECT_EQ(low.code, "ValidationError");
  EXPECT_EQ(low.status, 400);
  EXPECT_NE(low.message.find("'899'"), std::string::npos) << low.message;
  EXPECT_NE(low.message.find("durationSeconds"), std::string::npos) << low.message;
  EXPECT_NE(low.message.find("greater than or equal to 900"), std::string::npos) << low.message;

  auto high = call_error("Action=GetSessionToken&DurationSeconds=129601", user());
  EXPECT_EQ(high.code, "ValidationError");
  EXPECT_EQ(high.status, 400);
  EXPECT_NE(high.message.find("less than or equal to 129600"), std::string::npos) << high.message;
}

TEST_F(StsServiceTest, GetSessionTokenNonNumericDuration) {
  auto e = call_error("Action=GetSessionToken&DurationSeconds=abc", user());
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(e.code, "");
}

TEST_F(StsServiceTest, GetSessionTokenBadTokenCode) {
  auto e = call_error("Action=GetSessionToken&SerialNumber=arn%3Aaws%3Aiam%3A%3A111122223333%3Amfa%2Falice"
                      "&TokenCode=abcdef",
                      user());
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(e.message.find("tokenCode"), std::string::npos) << e.message;

  auto short_code = call_error("Action=GetSessionToken&TokenCode=12345", user());
  EXPECT_EQ(short_code.code, "ValidationError");

  auto ok = call("Action=GetSessionToken&SerialNumber=arn%3Aaws%3Aiam%3A%3A111122223333%3Amfa%2Falice"
                 "&TokenCode=123456",
                 user());
  EXPECT_EQ(ok.status, 200);
}

TEST_F(StsServiceTest, GetSessionTokenFromTemporaryCallerIsAccessDenied) {
  auto temp = creds_->issue("111122223333", "arn:aws:iam::111122223333:user/alice", "AIDAX", kNow, 3600);
  auto e = call_error("Action=GetSessionToken", temp);
  EXPECT_EQ(e.code, "AccessDenied");
  EXPECT_EQ(e.status, 403);
}

TEST_F(StsServiceTest, AssumeRole) {
  std::string arn = "arn:aws:iam::123456789012:role/demo";
  auto r = call("Action=AssumeRole&Version=2011-06-15&RoleArn=" + enc(arn) + "&RoleSessionName=my-session");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"),
            std::string::npos)
      << r.body;
  auto key = xml_value(r.body, "AccessKeyId");
  EXPECT_EQ(key.substr(0, 4), "ASIA");
  EXPECT_EQ(xml_value(r.body, "SecretAccessKey").size(), 40u);
  EXPECT_FALSE(xml_value(r.body, "SessionToken").empty());
  EXPECT_EQ(xml_value(r.body, "Expiration"), "2023-11-14T23:13:20Z");  // default 3600

  std::string user_section = xml_value(r.body, "AssumedRoleUser");
  EXPECT_EQ(xml_value(user_section, "Arn"), "arn:aws:sts::123456789012:assumed-role/demo/my-session");
  auto role_id = xml_value(user_section, "AssumedRoleId");
  ASSERT_EQ(role_id.size(), 21u + 1 + std::string("my-session").size()) << role_id;
  EXPECT_EQ(role_id.substr(0, 4), "AROA");
  EXPECT_EQ(role_id.substr(21), ":my-session");
  EXPECT_EQ(xml_value(r.body, "PackedPolicySize"), "<absent>");

  // The credentials belong to the role's account and identity.
  auto found = creds_->find(key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->account_id, "123456789012");
  EXPECT_EQ(found->arn, "arn:aws:sts::123456789012:assumed-role/demo/my-session");
  EXPECT_EQ(found->user_id, role_id);

  // The role id is stable per role ARN.
  auto again = call("Action=AssumeRole&RoleArn=" + enc(arn) + "&RoleSessionName=other");
  auto role_id2 = xml_value(xml_value(again.body, "AssumedRoleUser"), "AssumedRoleId");
  EXPECT_EQ(role_id2.substr(0, 21), role_id.substr(0, 21));
  EXPECT_EQ(last_operation_, "AssumeRole");
}

TEST_F(StsServiceTest, AssumeRoleWithPathDurationPolicyAndSourceIdentity) {
  std::string arn = "arn:aws:iam::123456789012:role/team/app/worker";
  auto r = call("Action=AssumeRole&RoleArn=" + enc(arn) +
                "&RoleSessionName=s1&DurationSeconds=900&Policy=" + enc("{\"Version\":\"2012-10-17\"}") +
                "&SourceIdentity=bob");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(xml_value(r.body, "Arn"), "arn:aws:sts::123456789012:assumed-role/worker/s1");
  EXPECT_EQ(xml_value(r.body, "Expiration"), "2023-11-14T22:28:20Z");
  EXPECT_NE(xml_value(r.body, "PackedPolicySize"), "<absent>");
  EXPECT_EQ(xml_value(r.body, "SourceIdentity"), "bob");
}

TEST_F(StsServiceTest, AssumeRoleDurationBounds) {
  std::string base = "Action=AssumeRole&RoleArn=" + enc("arn:aws:iam::123456789012:role/demo") +
                     "&RoleSessionName=sess&DurationSeconds=";
  EXPECT_EQ(call_error(base + "899").code, "ValidationError");
  EXPECT_EQ(call_error(base + "43201").code, "ValidationError");
  EXPECT_EQ(call(base + "43200").status, 200);
}

TEST_F(StsServiceTest, AssumeRoleBadRoleArn) {
  auto e = call_error("Action=AssumeRole&RoleArn=" + enc("arn:aws:iam::1234:role/not-twelve-digits") +
                      "&RoleSessionName=sess");
  EXPECT_EQ(e.code, "ValidationError");
  EXPECT_EQ(e.status, 400);

  auto user_arn = call_error("Action=AssumeRole&RoleArn=" + enc("arn:aws:iam::123456789012:user/alice") +
                             "&RoleSessionName=sess");
  EXPECT_EQ(user_arn.code, "ValidationError");

  auto too_short = call_error("Action=AssumeRole&RoleArn=short&RoleSessionName=sess");
  EXPECT_EQ(too_short.code, "ValidationError");
  EXPECT_NE(too_short.message.find("roleArn"), std::string::npos) << too_short.message;
}

TEST_F(StsServiceTest, AssumeRoleSessionNameValidation) {
  std::string arn = enc("arn:aws:iam::123456789012:role/demo");
  auto too_short = call_error("Action=AssumeRole&RoleArn=" + arn + "&RoleSessionName=a");
  EXPECT_EQ(too_short.code, "ValidationError");
  EXPECT_NE(too_short.message.find("roleSessionName"), std::string::npos) << too_short.message;

  auto too_long = call_error("Action=AssumeRole&RoleArn=" + arn + "&RoleSessionName=" + std::string(65, 'a'));
  EXPECT_EQ(too_long.code, "ValidationError");

  auto bad_chars = call_error("Action=AssumeRole&RoleArn=" + arn + "&RoleSessionName=has%20space");
  EXPECT_EQ(bad_chars.code, "ValidationError");
}

TEST_F(StsServiceTest, AssumeRoleMissingParameters) {
  auto no_arn = call_error("Action=AssumeRole&RoleSessionName=sess");
  EXPECT_EQ(no_arn.code, "ValidationError");
  EXPECT_EQ(no_arn.status, 400);
  EXPECT_NE(no_arn.message.find("Value null at 'roleArn'"), std::string::npos) << no_arn.message;

  auto no_session = call_error("Action=AssumeRole&RoleArn=" + enc("arn:aws:iam::123456789012:role/demo"));
  EXPECT_EQ(no_session.code, "ValidationError");
  EXPECT_NE(no_session.message.find("roleSessionName"), std::string::npos) << no_session.message;
}

TEST_F(StsServiceTest, GetFederationToken) {
  auto r = call("Action=GetFederationToken&Version=2011-06-15&Name=Bob", user());
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<GetFederationTokenResult><Credentials>"), std::string::npos) << r.body;
  EXPECT_EQ(xml_value(r.body, "AccessKeyId").substr(0, 4), "ASIA");
  EXPECT_EQ(xml_value(r.body, "Expiration"), "2023-11-15T10:13:20Z");  // default 43200
  auto fed = xml_value(r.body, "FederatedUser");
  EXPECT_EQ(xml_value(fed, "FederatedUserId"), "111122223333:Bob");
  EXPECT_EQ(xml_value(fed, "Arn"), "arn:aws:sts::111122223333:federated-user/Bob");
  auto found = creds_->find(xml_value(r.body, "AccessKeyId"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->arn, "arn:aws:sts::111122223333:federated-user/Bob");
}

TEST_F(StsServiceTest, GetFederationTokenValidation) {
  EXPECT_EQ(call_error("Action=GetFederationToken", user()).code, "ValidationError");
  EXPECT_EQ(call_error("Action=GetFederationToken&Name=B", user()).code, "ValidationError");
  EXPECT_EQ(call_error("Action=GetFederationToken&Name=Bob&DurationSeconds=129601", user()).code,
            "ValidationError");
  auto temp = creds_->issue("111122223333", "arn:aws:iam::111122223333:user/alice", "AIDAX", kNow, 3600);
  auto e = call_error("Action=GetFederationToken&Name=Bob", temp);
  EXPECT_EQ(e.code, "AccessDenied");
  EXPECT_EQ(e.status, 403);
}

TEST_F(StsServiceTest, GetAccessKeyInfo) {
  auto other = call("Action=GetAccessKeyInfo&AccessKeyId=AKIAOTHEREXAMPLE0001");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(xml_value(other.body, "Account"), "444455556666");
  EXPECT_NE(other.body.find("<GetAccessKeyInfoResult><Account>444455556666</Account></GetAccessKeyInfoResult>"),
            std::string::npos);

  auto temp = creds_->issue("999988887777", "arn:aws:sts::999988887777:assumed-role/r/s", "AROAX:s", kNow, 3600);
  auto issued = call("Action=GetAccessKeyInfo&AccessKeyId=" + temp.access_key);
  EXPECT_EQ(xml_value(issued.body, "Account"), "999988887777");

  EXPECT_EQ(call_error("Action=GetAccessKeyInfo").code, "ValidationError");
  EXPECT_EQ(call_error("Action=GetAccessKeyInfo&AccessKeyId=SHORT").code, "ValidationError");
}

TEST_F(StsServiceTest, DecodeAuthorizationMessage) {
  auto e = call_error("Action=DecodeAuthorizationMessage&EncodedMessage=abc123");
  EXPECT_EQ(e.code, "InvalidAuthorizationMessageException");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(call_error("Action=DecodeAuthorizationMessage").code, "ValidationError");
}

TEST_F(StsServiceTest, UnknownActionIsInvalidAction) {
  auto e = call_error("Action=ListBuckets&Version=2011-06-15");
  EXPECT_EQ(e.code, "InvalidAction");
  EXPECT_EQ(e.status, 400);
  EXPECT_NE(e.message.find("ListBuckets"), std::string::npos);
}

TEST_F(StsServiceTest, UnimplementedActionIsNotImplemented) {
  auto e = call_error("Action=AssumeRoot&Version=2011-06-15");
  EXPECT_EQ(e.code, "NotImplemented");
  EXPECT_EQ(e.status, 501);
  auto web = call_error("Action=AssumeRoleWithWebIdentity&Version=2011-06-15");
  EXPECT_EQ(web.code, "NotImplemented");
}

TEST_F(StsServiceTest, MissingActionIsMissingAction) {
  auto e = call_error("Version=2011-06-15");
  EXPECT_EQ(e.code, "MissingAction");
  EXPECT_EQ(e.status, 400);
}

TEST_F(StsServiceTest, MalformedFormIsMalformedQueryString) {
  auto e = call_error("Action=GetCallerIdentity&X=%zz");
  EXPECT_EQ(e.code, "MalformedQueryString");
  EXPECT_EQ(e.status, 400);
}

}  // namespace
}  // namespace fogbank::sts
