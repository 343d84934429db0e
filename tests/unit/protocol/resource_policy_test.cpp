// Condition blocks of resource policies, as IAM evaluates them: every block and key must hold, a
// key the request does not carry makes its condition false (Null and IfExists excepted), negated
// operators hold when no value matches, and a Deny that applies wins.

#include "fogbank/protocol/resource_policy.hpp"

#include <gtest/gtest.h>

namespace fogbank::protocol {
namespace {

const PolicyCaller kOwner{"000000000000", "arn:aws:iam::000000000000:root"};
constexpr std::string_view kObject = "arn:aws:s3:::enc/app.apk";

// AWS's documented policy that refuses uploads without SSE-S3.
const std::string kDenyUnencrypted = R"({"Version":"2012-10-17","Statement":[
  {"Sid":"DenyIncorrectEncryptionHeader","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
   "Resource":"arn:aws:s3:::enc/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}},
  {"Sid":"DenyUnEncryptedObjectUploads","Effect":"Deny","Principal":"*","Action":"s3:PutObject",
   "Resource":"arn:aws:s3:::enc/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]})";

PolicyDecision put(const PolicyContext& context) {
  return evaluate_resource_policy(kDenyUnencrypted, kObject, kOwner, "s3:PutObject", context);
}

TEST(ResourcePolicyConditions, DenyUnencryptedUploads) {
  EXPECT_EQ(put({}), PolicyDecision::kDeny);  // header absent: the Null statement
  EXPECT_EQ(put({{"s3:x-amz-server-side-encryption", {"aws:kms"}}}), PolicyDecision::kDeny);
  EXPECT_EQ(put({{"S3:X-Amz-Server-Side-Encryption", {"AES256"}}}), PolicyDecision::kNone);  // keys ignore case
  EXPECT_EQ(evaluate_resource_policy(kDenyUnencrypted, kObject, kOwner, "s3:GetObject", {}), PolicyDecision::kNone);
}

TEST(ResourcePolicyConditions, MissingKeysNeitherGrantNorDeny) {
  const std::string allow = R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:*",
    "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:000000000000:topic"}}}})";
  EXPECT_EQ(evaluate_resource_policy(allow, "q", kOwner, "sqs:SendMessage", {}), PolicyDecision::kNone);
  EXPECT_EQ(evaluate_resource_policy(allow, "q", kOwner, "sqs:SendMessage",
                                     {{"aws:SourceArn", {"arn:aws:sns:us-east-1:000000000000:topic"}}}),
            PolicyDecision::kAllow);
  EXPECT_EQ(evaluate_resource_policy(allow, "q", kOwner, "sqs:SendMessage",
                                     {{"aws:SourceArn", {"arn:aws:sns:us-east-1:999999999999:topic"}}}),
            PolicyDecision::kNone);
  const std::string if_exists = R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*",
    "Condition":{"StringEqualsIfExists":{"aws:SourceAccount":"000000000000"}}}})";
  EXPECT_EQ(evaluate_resource_policy(if_exists, "r", kOwner, "x:y", {}), PolicyDecision::kAllow);
  EXPECT_EQ(evaluate_resource_policy(if_exists, "r", kOwner, "x:y", {{"aws:SourceAccount", {"1"}}}),
            PolicyDecision::kNone);
}

TEST(ResourcePolicyConditions, OperatorsAndBlocksAllMustHold) {
  const std::string policy = R"({"Statement":{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"*",
    "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThanEquals":{"s3:max-keys":"10"},
                 "StringLike":{"s3:prefix":["home/*","public/*"]}}}})";
  PolicyContext ok{{"aws:SecureTransport", {"true"}}, {"s3:max-keys", {"5"}}, {"s3:prefix", {"public/x"}}};
  EXPECT_EQ(evaluate_resource_policy(policy, "r", kOwner, "s3:ListBucket", ok), PolicyDecision::kAllow);
  auto insecure = ok;
  insecure["aws:SecureTransport"] = {"false"};
  EXPECT_EQ(evaluate_resource_policy(policy, "r", kOwner, "s3:ListBucket", insecure), PolicyDecision::kNone);
  auto many = ok;
  many["s3:max-keys"] = {"11"};
  EXPECT_EQ(evaluate_resource_policy(policy, "r", kOwner, "s3:ListBucket", many), PolicyDecision::kNone);
  auto elsewhere = ok;
  elsewhere["s3:prefix"] = {"private/x"};
  EXPECT_EQ(evaluate_resource_policy(policy, "r", kOwner, "s3:ListBucket", elsewhere), PolicyDecision::kNone);
  const std::string unknown = R"({"Statement":{"Effect":"Deny","Principal":"*","Action":"*",
    "Condition":{"ForAnyValue:StringEquals":{"k":"v"}}}})";
  EXPECT_EQ(evaluate_resource_policy(unknown, "r", kOwner, "a:b", {{"k", {"v"}}}), PolicyDecision::kNone);
}

TEST(ResourcePolicyConditions, NegatedOperatorsHoldForMissingKeys) {
  // IAM: "If the policy condition requires that the key is not matched ... and the key is not
  // present, the condition is true."
  const std::string referer = R"({"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:GetObject",
    "Condition":{"StringNotLike":{"aws:Referer":["https://app.example/*"]}}}})";
  EXPECT_EQ(evaluate_resource_policy(referer, "r", kOwner, "s3:GetObject", {}), PolicyDecision::kDeny);
  EXPECT_EQ(evaluate_resource_policy(referer, "r", kOwner, "s3:GetObject",
                                     {{"aws:Referer", {"https://app.example/page"}}}),
            PolicyDecision::kNone);
}

TEST(ResourcePolicyConditions, IpAddressesPrincipalKeysAndArnEqualsWildcards) {
  const std::string office = R"({"Statement":{"Effect":"Deny","Principal":"*","Action":"*",
    "Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}})";
  EXPECT_EQ(evaluate_resource_policy(office, "r", kOwner, "a:b", {{"aws:SourceIp", {"10.1.2.3"}}}),
            PolicyDecision::kNone);
  EXPECT_EQ(evaluate_resource_policy(office, "r", kOwner, "a:b", {{"aws:SourceIp", {"2001:db8:1::5"}}}),
            PolicyDecision::kNone);
  EXPECT_EQ(evaluate_resource_policy(office, "r", kOwner, "a:b", {{"aws:SourceIp", {"192.168.1.1"}}}),
            PolicyDecision::kDeny);
  // The caller's account is a key of every request: IfExists cannot be passed by leaving it out.
  const std::string only = R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage",
    "Condition":{"StringEqualsIfExists":{"aws:PrincipalAccount":"111111111111"}}}})";
  EXPECT_EQ(evaluate_resource_policy(only, "q", kOwner, "sqs:SendMessage", {}), PolicyDecision::kNone);
  EXPECT_EQ(evaluate_resource_policy(only, "q", {"111111111111", ""}, "sqs:SendMessage", {}), PolicyDecision::kAllow);
  const std::string arn = R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"*",
    "Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:000000000000:t"}}}})";
  EXPECT_EQ(evaluate_resource_policy(arn, "q", kOwner, "a:b", {{"aws:SourceArn", {"arn:aws:sns:eu-west-1:000000000000:t"}}}),
            PolicyDecision::kAllow);
}

TEST(ResourcePolicyConditions, MalformedPiecesSayNothing) {
  for (const char* policy : {R"({"Statement":{"Effect":7,"Principal":"*","Action":"*"}})",
                             R"({"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":[]}})",
                             R"({"Statement":{"Effect":"Deny","Principal":"*","Action":"*",
                                 "Condition":{"Null":{"k":["true","false"]}}}})",
                             "[1]", "", "{"}) {
    EXPECT_EQ(evaluate_resource_policy(policy, "r", kOwner, "a:b", {}), PolicyDecision::kNone) << policy;
  }
}

}  // namespace
}  // namespace fogbank::protocol
