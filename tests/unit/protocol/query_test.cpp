#include "fogbank/protocol/query.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::protocol {
namespace {

using Pairs = QueryParams;

TEST(QueryTest, CollectParamsJoinsUrlQueryThenFormBody) {
  auto params = query::collect_params("Action=GetCallerIdentity&Version=2011-06-15", "A=1&B=2");
  Pairs expected = {{"Action", "GetCallerIdentity"}, {"Version", "2011-06-15"}, {"A", "1"}, {"B", "2"}};
  EXPECT_EQ(params, expected);
}

TEST(QueryTest, CollectParamsDecodesPlusAndPercentEscapes) {
  auto params = query::collect_params("q=a+b%20c", "Name=x%2By%3Dz&Path=%2Fp%2F+q&Empty=&Flag");
  Pairs expected = {{"q", "a b c"}, {"Name", "x+y=z"}, {"Path", "/p/ q"}, {"Empty", ""}, {"Flag", ""}};
  EXPECT_EQ(params, expected);
}

TEST(QueryTest, CollectParamsWithEmptyInputsIsEmpty) {
  EXPECT_TRUE(query::collect_params("", "").empty());
}

TEST(QueryTest, CollectParamsKeepsRepeatedNamesInOrder) {
  auto params = query::collect_params("a=1", "a=2");
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].second, "1");
  EXPECT_EQ(params[1].second, "2");
  ASSERT_NE(find_param(params, "a"), nullptr);
  EXPECT_EQ(*find_param(params, "a"), "1");
}

void expect_malformed(std::string_view url, std::string_view body) {
  try {
    (void)query::collect_params(url, body);
    ADD_FAILURE() << "no AwsError for url='" << url << "' body='" << body << "'";
  } catch (const AwsError& e) {
    EXPECT_EQ(e.code, "MalformedQueryString");
    EXPECT_EQ(e.status, 400);
    EXPECT_TRUE(e.sender_fault);
  }
}

TEST(QueryTest, CollectParamsRejectsMalformedEscapes) {
  expect_malformed("a=%zz", "");
  expect_malformed("", "a=%4");
  expect_malformed("", "a=%");
  expect_malformed("ok=1", "b=%G1");
}

}  // namespace
}  // namespace fogbank::protocol
