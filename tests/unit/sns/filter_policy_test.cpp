// Subscription filter policies: matching in both scopes, and AWS's validation messages (wording
// and the Jackson positions AWS quotes, taken from responses recorded against AWS).

#include <gtest/gtest.h>

#include "filter_policy.hpp"
#include "fogbank/protocol/aws_error.hpp"

namespace fogbank::sns {
namespace {

using Attributes = std::map<std::string, FilterAttribute>;

std::shared_ptr<const FilterPolicy> attrs_policy(const std::string& text) {
  return FilterPolicy::compile(text, FilterScope::kMessageAttributes, "Invalid parameter: ");
}

std::shared_ptr<const FilterPolicy> body_policy(const std::string& text) {
  return FilterPolicy::compile(text, FilterScope::kMessageBody, "Invalid parameter: ");
}

bool body_matches(const std::shared_ptr<const FilterPolicy>& p, const std::string& body) {
  auto doc = nlohmann::json::parse(body);
  return p->matches_body(&doc);
}

/// The message of the error compiling `text` from Subscribe (or "" when it compiles).
std::string subscribe_error(const std::string& text, FilterScope scope = FilterScope::kMessageAttributes) {
  try {
    FilterPolicy::compile(text, scope, "Invalid parameter: Attributes Reason: ");
  } catch (const protocol::AwsError& e) {
    EXPECT_EQ(e.code, "InvalidParameter");
    EXPECT_EQ(e.status, 400);
    return e.message;
  }
  return "";
}

TEST(SnsFilterPolicyMatch, ExactStringsAndNumbers) {
  auto p = attrs_policy(R"({"store":["example_corp"],"price":[100, 200.5]})");
  EXPECT_TRUE(p->matches_attributes({{"store", {"String", "example_corp"}}, {"price", {"Number", "100"}}}));
  EXPECT_TRUE(p->matches_attributes({{"store", {"String", "example_corp"}}, {"price", {"Number", "200.50"}}}));
  EXPECT_FALSE(p->matches_attributes({{"store", {"String", "example_corp"}}, {"price", {"Number", "101"}}}));
  // A number rule never matches a String attribute, nor a key that is missing.
  EXPECT_FALSE(p->matches_attributes({{"store", {"String", "example_corp"}}, {"price", {"String", "100"}}}));
  EXPECT_FALSE(p->matches_attributes({{"store", {"String", "example_corp"}}}));
}

TEST(SnsFilterPolicyMatch, StringOperators) {
  auto p = attrs_policy(R"({"a":[{"prefix":"ord-"}],"b":[{"suffix":".png"}],"c":[{"equals-ignore-case":"RED"}]})");
  EXPECT_TRUE(p->matches_attributes({{"a", {"String", "ord-1"}}, {"b", {"String", "x.png"}}, {"c", {"String", "rEd"}}}));
  EXPECT_FALSE(p->matches_attributes({{"a", {"String", "or-1"}}, {"b", {"String", "x.png"}}, {"c", {"String", "red"}}}));
  EXPECT_FALSE(p->matches_attributes({{"a", {"String", "ord-1"}}, {"b", {"String", "x.jpg"}}, {"c", {"String", "red"}}}));
  EXPECT_FALSE(p->matches_attributes({{"a", {"String", "ord-1"}}, {"b", {"String", "x.png"}}, {"c", {"String", "blue"}}}));
}

TEST(SnsFilterPolicyMatch, AnythingBut) {
  auto list = attrs_policy(R"({"a":[{"anything-but":["x","y"]}]})");
  EXPECT_TRUE(list->matches_attributes({{"a", {"String", "z"}}}));
  EXPECT_FALSE(list->matches_attributes({{"a", {"String", "x"}}}));
  EXPECT_FALSE(list->matches_attributes({}));  // the attribute must exist
  auto number = attrs_policy(R"({"a":[{"anything-but":100}]})");
  EXPECT_FALSE(number->matches_attributes({{"a", {"Number", "100.0"}}}));
  EXPECT_TRUE(number->matches_attributes({{"a", {"Number", "101"}}}));
  auto prefix = attrs_policy(R"({"a":[{"anything-but":{"prefix":"test-"}}]})");
  EXPECT_TRUE(prefix->matches_attributes({{"a", {"String", "prod-1"}}}));
  EXPECT_FALSE(prefix->matches_attributes({{"a", {"String", "test-1"}}}));
}

TEST(SnsFilterPolicyMatch, NumericRanges) {
  auto p = attrs_policy(R"({"n":[{"numeric":[">",0,"<=",150]}]})");
  EXPECT_FALSE(p->matches_attributes({{"n", {"Number", "0"}}}));
  EXPECT_TRUE(p->matches_attributes({{"n", {"Number", "0.001"}}}));
  EXPECT_TRUE(p->matches_attributes({{"n", {"Number", "150"}}}));
  EXPECT_FALSE(p->matches_attributes({{"n", {"Number", "150.5"}}}));
  EXPECT_FALSE(p->matches_attributes({{"n", {"String", "100"}}}));
  auto eq = attrs_policy(R"({"n":[{"numeric":["=",3.0e2]}]})");
  EXPECT_TRUE(eq->matches_attributes({{"n", {"Number", "300"}}}));
  EXPECT_FALSE(eq->matches_attributes({{"n", {"Number", "301"}}}));
}

TEST(SnsFilterPolicyMatch, ExistsAndOr) {
  auto exists = attrs_policy(R"({"a":[{"exists":true}],"b":[{"exists":false}]})");
  EXPECT_TRUE(exists->matches_attributes({{"a", {"Binary", "\x01"}}}));
  EXPECT_FALSE(exists->matches_attributes({{"a", {"String", "x"}}, {"b", {"String", "y"}}}));
  EXPECT_FALSE(exists->matches_attributes({}));
  auto either = attrs_policy(R"({"source":["aws.cloudwatch"],"$or":[{"metric":["CPU"]},{"namespace":["AWS/EC2"]}]})");
  EXPECT_TRUE(either->matches_attributes({{"source", {"String", "aws.cloudwatch"}}, {"metric", {"String", "CPU"}}}));
  EXPECT_TRUE(either->matches_attributes({{"source", {"String", "aws.cloudwatch"}}, {"namespace", {"String", "AWS/EC2"}}}));
  EXPECT_FALSE(either->matches_attributes({{"source", {"String", "aws.cloudwatch"}}, {"metric", {"String", "RAM"}}}));
  EXPECT_FALSE(either->matches_attributes({{"metric", {"String", "CPU"}}}));
}

TEST(SnsFilterPolicyMatch, CidrAndStringArrays) {
  auto cidr = attrs_policy(R"({"ip":[{"cidr":"10.0.0.0/24"}],"v6":[{"cidr":"2001:db8::/32"}]})");
  EXPECT_TRUE(cidr->matches_attributes({{"ip", {"String", "10.0.0.255"}}, {"v6", {"String", "2001:db8::1"}}}));
  EXPECT_FALSE(cidr->matches_attributes({{"ip", {"String", "10.0.1.0"}}, {"v6", {"String", "2001:db8::1"}}}));
  EXPECT_FALSE(cidr->matches_attributes({{"ip", {"String", "10.0.0.1"}}, {"v6", {"String", "2001:db9::1"}}}));
  auto array = attrs_policy(R"({"tags":["red",5]})");
  EXPECT_TRUE(array->matches_attributes({{"tags", {"String.Array", R"(["blue","red"])"}}}));
  EXPECT_TRUE(array->matches_attributes({{"tags", {"String.Array", R"(["blue",5.0])"}}}));
  EXPECT_FALSE(array->matches_attributes({{"tags", {"String.Array", R"(["blue"])"}}}));
  EXPECT_FALSE(array->matches_attributes({{"tags", {"String.Array", "not json"}}}));
}

TEST(SnsFilterPolicyMatch, MessageBodyNestedKeysAndArrays) {
  auto p = body_policy(R"({"order":{"status":["paid"],"total":[{"numeric":[">=",10]}]},"items":{"sku":[{"prefix":"A"}]}})");
  EXPECT_TRUE(body_matches(p, R"({"order":{"status":"paid","total":12},"items":[{"sku":"B1"},{"sku":"A2"}]})"));
  EXPECT_FALSE(body_matches(p, R"({"order":{"status":"paid","total":9},"items":[{"sku":"A2"}]})"));
  EXPECT_FALSE(body_matches(p, R"({"order":{"status":"paid","total":"12"},"items":[{"sku":"A2"}]})"));
  EXPECT_FALSE(body_matches(p, R"({"order":{"status":["open","cancelled"],"total":12},"items":[{"sku":"A"}]})"));
  EXPECT_TRUE(body_matches(p, R"({"order":{"status":["open","paid"],"total":12},"items":[{"sku":"A"}]})"));
  EXPECT_FALSE(p->matches_body(nullptr));
  auto literals = body_policy(R"({"flag":[true],"gone":[{"exists":false}],"nothing":[null]})");
  EXPECT_TRUE(body_matches(literals, R"({"flag":true,"nothing":null})"));
  EXPECT_FALSE(body_matches(literals, R"({"flag":true,"nothing":null,"gone":1})"));
  EXPECT_FALSE(body_matches(literals, R"({"flag":"true","nothing":null})"));
  auto not_object = nlohmann::json::parse("[1]");
  EXPECT_FALSE(literals->matches_body(&not_object));
}

TEST(SnsFilterPolicyCompile, EmptyPoliciesFilterNothing) {
  EXPECT_EQ(attrs_policy(""), nullptr);
  EXPECT_EQ(attrs_policy("{}"), nullptr);
}

// Messages as AWS answered them (its rule compiler quotes the policy re-serialised compactly).
TEST(SnsFilterPolicyCompile, RuleErrorsCarryAwsWordingAndPosition) {
  EXPECT_EQ(subscribe_error(R"({"key": [["value"]]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Match value must be String, number, true, false, or "
            "null\n at [Source: (String)\"{\"key\":[[\"value\"]]}\"; line: 1, column: 10]");
  EXPECT_EQ(subscribe_error(R"({"key": [{"wrong-operator": true}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Unrecognized match type wrong-operator\n at [Source: "
            "(String)\"{\"key\":[{\"wrong-operator\":true}]}\"; line: 1, column: 31]");
  EXPECT_EQ(subscribe_error(R"({"key": []})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Empty arrays are not allowed\n at [Source: "
            "(String)\"{\"key\":[]}\"; line: 1, column: 10]");
  EXPECT_EQ(subscribe_error(R"({"key": [{"suffix": 100}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: suffix match pattern must be a string\n at [Source: "
            "(String)\"{\"key\":[{\"suffix\":100}]}\"; line: 1, column: 22]");
  EXPECT_EQ(subscribe_error(R"({"key": {"suffix": "value"}})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: \"suffix\" must be an object or an array\n at "
            "[Source: (String)\"{\"key\":{\"suffix\":\"value\"}}\"; line: 1, column: 19]");
  EXPECT_EQ(subscribe_error(R"({"key": [{"cidr": ["bad-filter"]}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: prefix match pattern must be a string\n at [Source: "
            "(String)\"{\"key\":[{\"cidr\":[\"bad-filter\"]}]}\"; line: 1, column: 18]");
  EXPECT_EQ(subscribe_error(R"({"key": [{"exists": "no"}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: exists match pattern must be either true or false.\n "
            "at [Source: (String)\"{\"key\":[{\"exists\":\"no\"}]}\"; line: 1, column: 20]");
  EXPECT_EQ(subscribe_error(R"({"key": [{"anything-but": {"wrong-operator": null}}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Unsupported anything-but pattern: wrong-operator\n at "
            "[Source: (String)\"{\"key\":[{\"anything-but\":{\"wrong-operator\":null}}]}\"; line: 1, column: 47]");
}

TEST(SnsFilterPolicyCompile, NumericErrorsFollowTheReader) {
  auto at = [](const std::string& policy) {
    auto message = subscribe_error(policy);
    auto pos = message.find(": FilterPolicy: ");
    auto end = message.find("\n at");
    return message.substr(pos + 16, end - pos - 16) + " @" + message.substr(message.rfind(' ') + 1);
  };
  EXPECT_EQ(at(R"({"key":[{"numeric":[]}]})"), "Invalid member in numeric match: ] @22]");
  EXPECT_EQ(at(R"({"key":[{"numeric":["operator"]}]})"), "Unrecognized numeric range operator: operator @32]");
  EXPECT_EQ(at(R"({"key":[{"numeric":[1,"<="]}]})"), "Invalid member in numeric match: 1 @22]");
  EXPECT_EQ(at(R"({"key":[{"numeric":["=","000"]}]})"), "Value of equals must be numeric @26]");
  EXPECT_EQ(at(R"({"key":[{"numeric":[">="]}]})"), "Value of >= must be numeric @26]");
  EXPECT_EQ(at(R"({"key":[{"numeric":["<",100,">",10]}]})"), "Too many elements in numeric expression @30]");
  EXPECT_EQ(at(R"({"key":[{"numeric":[">=",1,">",2]}]})"), "Bad numeric range operator: > @31]");
  EXPECT_EQ(at(R"({"key":[{"numeric":[">",3,"<",1]}]})"), "Bottom must be less than top @33]");
  EXPECT_EQ(at(R"({"key":[{"numeric":[">",20,30]}]})"), "Bad value in numeric range: 30 @30]");
  EXPECT_EQ(at(R"({"key":[{"numeric":[">",20,"<",30,"<",50]}]})"), "Too many terms in numeric range expression @36]");
}

TEST(SnsFilterPolicyCompile, JsonSyntaxErrorsQuoteJackson) {
  EXPECT_EQ(subscribe_error("{invalidjson}"),
            "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON. Unexpected character ('i' (code "
            "105)): was expecting double-quote to start field name\n at [Source: REDACTED "
            "(`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]");
  EXPECT_EQ(subscribe_error("invalid-json"),
            "Invalid parameter: Attributes Reason: FilterPolicy: failed to parse JSON. Unrecognized token 'invalid': "
            "was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: "
            "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 8]");
}

TEST(SnsFilterPolicyCompile, LimitsAndScope) {
  std::string many = R"({"key":[)";
  for (int i = 0; i < 151; ++i) {
    many += (i ? "," : "") + std::string("\"v") + std::to_string(i) + "\"";
  }
  many += "]}";
  EXPECT_EQ(subscribe_error(many), "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex");
  EXPECT_EQ(subscribe_error(R"({"a":["1"],"b":["2"],"c":["3"],"d":["4"],"e":["5"],"f":["6"]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy can not have more than 5 keys");
  EXPECT_EQ(subscribe_error(R"({"object":{"key":[{"prefix":"auto-"}]}})"),
            "Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not support nested "
            "filter policy");
  EXPECT_EQ(subscribe_error(R"({"object":{"key":[{"prefix":"auto-"}]}})", FilterScope::kMessageBody), "");
  // 3 x 4 x 2 x 3 x 1 x 3 = 216 combinations: nesting multiplies (AWS's documented example).
  EXPECT_EQ(subscribe_error(R"({"key_a":{"key_b":{"key_c":["1","2","3","4"]}},"key_d":{"key_e":["1","2","3"]},)"
                            R"("key_f":["1","2","3"]})",
                            FilterScope::kMessageBody),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex");
  std::string deep = std::string(40, '[') + std::string(40, ']');
  EXPECT_EQ(subscribe_error(R"({"k":)" + deep + "}"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex");
  EXPECT_EQ(subscribe_error(std::string(kMaxFilterPolicyBytes + 1, ' ')),
            "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too large");
  EXPECT_EQ(subscribe_error(R"({"key":[{"cidr":"bad-filter"}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Malformed CIDR, one '/' required");
  EXPECT_EQ(subscribe_error(R"({"key":[{"cidr":"xx.11.xx/8"}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Nonstandard IP address: xx.11.xx");
  EXPECT_EQ(subscribe_error(R"({"key":[{"cidr":"bad-/64filter"}]})"),
            "Invalid parameter: Attributes Reason: FilterPolicy: Malformed CIDR, mask bits must be an integer");
}

}  // namespace
}  // namespace fogbank::sns
