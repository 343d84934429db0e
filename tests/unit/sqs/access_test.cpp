// Cross-account access to queues: the resource-policy evaluation (access.cpp) and the depth limit
// on the JSON attributes it and the queue attributes read.

#include <string>

#include <gtest/gtest.h>

#include "access.hpp"
#include "attributes.hpp"
#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::sqs {
namespace {

constexpr const char* kArn = "arn:aws:sqs:us-east-1:111111111111:q";
const Principal kOther{"222222222222", "arn:aws:iam::222222222222:user/alice"};

std::string statement(const std::string& body) { return R"({"Version":"2012-10-17","Statement":[)" + body + "]}"; }

TEST(SqsAccessTest, NoPolicyGrantsNothing) {
  EXPECT_FALSE(policy_allows("", kArn, kOther, "SendMessage"));
  EXPECT_FALSE(policy_allows("not json", kArn, kOther, "SendMessage"));
  EXPECT_FALSE(policy_allows(R"({"Statement": 5})", kArn, kOther, "SendMessage"));
}

TEST(SqsAccessTest, AddPermissionStatementGrantsItsActionsToItsAccounts) {
  // What AddPermission writes.
  auto p = statement(R"({"Sid":"l","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},
                         "Action":"SQS:SendMessage","Resource":"arn:aws:sqs:us-east-1:111111111111:q"})");
  EXPECT_TRUE(policy_allows(p, kArn, kOther, "SendMessage"));
  EXPECT_FALSE(policy_allows(p, kArn, kOther, "ReceiveMessage"));
  EXPECT_FALSE(policy_allows(p, kArn, {"333333333333", ""}, "SendMessage"));
  EXPECT_FALSE(policy_allows(p, "arn:aws:sqs:us-east-1:111111111111:other", kOther, "SendMessage"));
}

TEST(SqsAccessTest, PrincipalForms) {
  for (const char* principal : {R"("*")", R"({"AWS":"*"})", R"({"AWS":"222222222222"})",
                                R"({"AWS":["1","arn:aws:iam::222222222222:user/alice"]})"}) {
    auto p = statement(std::string(R"({"Effect":"Allow","Principal":)") + principal + R"(,"Action":"sqs:*"})");
    EXPECT_TRUE(policy_allows(p, kArn, kOther, "SendMessage")) << principal;
  }
  for (const char* principal : {R"({"Service":"sns.amazonaws.com"})", R"({"AWS":"arn:aws:iam::222222222222:user/bob"})",
                                R"({"AWS":5})", R"("222222222222")"}) {
    auto p = statement(std::string(R"({"Effect":"Allow","Principal":)") + principal + R"(,"Action":"sqs:*"})");
    EXPECT_FALSE(policy_allows(p, kArn, kOther, "SendMessage")) << principal;
  }
}

TEST(SqsAccessTest, ActionsAreCaseInsensitiveWildcards) {
  auto p = statement(R"({"Effect":"Allow","Principal":"*","Action":["sqs:send*","SQS:Receive?essage"]})");
  EXPECT_TRUE(policy_allows(p, kArn, kOther, "SendMessage"));
  EXPECT_TRUE(policy_allows(p, kArn, kOther, "ReceiveMessage"));
  EXPECT_FALSE(policy_allows(p, kArn, kOther, "DeleteMessage"));
  EXPECT_TRUE(policy_allows(statement(R"({"Effect":"Allow","Principal":"*","Action":"*"})"), kArn, kOther, "PurgeQueue"));
}

TEST(SqsAccessTest, ExplicitDenyWins) {
  auto p = statement(R"({"Effect":"Allow","Principal":"*","Action":"sqs:*","Resource":"arn:aws:sqs:*:111111111111:*"},
                        {"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage"})");
  EXPECT_FALSE(policy_allows(p, kArn, kOther, "SendMessage"));
  EXPECT_TRUE(policy_allows(p, kArn, kOther, "ReceiveMessage"));
}

TEST(SqsAccessTest, StatementsWithConditionsOrNegationsGrantNothing) {
  for (const char* extra : {R"("Condition":{"ArnEquals":{"aws:SourceArn":"x"}})", R"("NotResource":"x")"}) {
    auto p = statement(std::string(R"({"Effect":"Allow","Principal":"*","Action":"sqs:*",)") + extra + "}");
    EXPECT_FALSE(policy_allows(p, kArn, kOther, "SendMessage")) << extra;
  }
  // A single statement object (not a list) is evaluated as well.
  EXPECT_TRUE(policy_allows(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage"}})", kArn,
                            kOther, "SendMessage"));
}

TEST(SqsAccessTest, DeeplyNestedPolicyIsNoPolicy) {
  std::string deep = R"({"Statement":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(policy_allows(deep, kArn, kOther, "SendMessage"));
}

TEST(SqsAccessTest, WildcardMatch) {
  EXPECT_TRUE(wildcard_match("*", "", false));
  EXPECT_TRUE(wildcard_match("a*b*c", "axxbyyc", false));
  EXPECT_FALSE(wildcard_match("a*b*c", "axxbyy", false));
  EXPECT_TRUE(wildcard_match("A?C", "abc", true));
  EXPECT_FALSE(wildcard_match("A?C", "abc", false));
  EXPECT_TRUE(wildcard_match(std::string(200, '*') + "x", std::string(10000, 'a') + "x", false));
  // Found by fuzz_resource_policy: a '*' in the text must not swallow the pattern's wildcard.
  EXPECT_TRUE(wildcard_match("*", "*arn", false));
  EXPECT_TRUE(wildcard_match("a*", "a*b", false));
  EXPECT_TRUE(wildcard_match("a*b", "a*b", false));
}

TEST(SqsAccessTest, DeepQueueAttributesAreInvalidAttributeValue) {
  const std::string deep = std::string(100000, '[') + "1" + std::string(100000, ']');
  const std::map<std::string, std::string> attributes[] = {
      {{"RedrivePolicy", R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:d","maxReceiveCount":)" + deep + "}"}},
      {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue","sourceQueueArns":)" + deep + "}"}},
      {{"Policy", R"({"Statement":)" + deep + "}"}},
  };
  for (const auto& a : attributes) {
    try {
      (void)validate_queue_attributes(a, false, true);
      ADD_FAILURE() << a.begin()->first << " accepted";
    } catch (const protocol::AwsError& e) {
      EXPECT_EQ(e.code, "InvalidAttributeValue") << a.begin()->first;
      EXPECT_LT(e.message.size(), 200u) << "the error must not echo the whole value";
    }
  }
}

}  // namespace
}  // namespace fogbank::sqs
