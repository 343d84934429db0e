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

TEST(QueryTest, ToTreeNestsDottedNames) {
  Pairs params = {{"Action", "TagResource"},
                  {"Tags.member.1.Key", "k1"},
                  {"Tags.member.1.Value", "v1"},
                  {"Tags.member.2.Key", "k2"}};
  auto tree = query::to_tree(params);
  EXPECT_EQ(tree["Action"], "TagResource");
  EXPECT_EQ(tree["Tags"]["member"]["1"]["Key"], "k1");
  EXPECT_EQ(tree["Tags"]["member"]["1"]["Value"], "v1");
  EXPECT_EQ(tree["Tags"]["member"]["2"]["Key"], "k2");
  EXPECT_FALSE(tree["Tags"]["member"]["2"].contains("Value"));
  auto expected = nlohmann::json::parse(
      R"({"Action":"TagResource","Tags":{"member":{"1":{"Key":"k1","Value":"v1"},"2":{"Key":"k2"}}}})");
  EXPECT_EQ(tree, expected);
}

TEST(QueryTest, ToTreeDeeperStructureWinsOverLeaf) {
  // Leaf first, then a deeper name under it.
  auto a = query::to_tree(Pairs{{"Attr", "x"}, {"Attr.Name", "n"}});
  ASSERT_TRUE(a["Attr"].is_object());
  EXPECT_EQ(a["Attr"]["Name"], "n");
  // Deeper name first, then the leaf: the leaf must not clobber it.
  auto b = query::to_tree(Pairs{{"Attr.Name", "n"}, {"Attr", "x"}});
  ASSERT_TRUE(b["Attr"].is_object());
  EXPECT_EQ(b["Attr"]["Name"], "n");
}

TEST(QueryTest, ToTreeEmptyParamsIsEmptyObject) {
  auto tree = query::to_tree({});
  EXPECT_TRUE(tree.is_object());
  EXPECT_TRUE(tree.empty());
}

TEST(QueryTest, ListItemsOrdersByNumericIndex) {
  Pairs params = {{"Tags.member.10.Key", "ten"},
                  {"Tags.member.2.Key", "two"},
                  {"Tags.member.1.Key", "one"}};
  auto tree = query::to_tree(params);
  auto items = query::list_items(tree, "Tags");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ((*items[0])["Key"], "one");
  EXPECT_EQ((*items[1])["Key"], "two");
  EXPECT_EQ((*items[2])["Key"], "ten");
}

TEST(QueryTest, ListItemsFlatListWithoutMember) {
  Pairs params = {{"AttributeName.3", "c"}, {"AttributeName.1", "a"}, {"AttributeName.11", "k"},
                  {"AttributeName.2", "b"}};
  auto tree = query::to_tree(params);
  auto items = query::list_items(tree, "AttributeName", "");
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(*items[0], "a");
  EXPECT_EQ(*items[1], "b");
  EXPECT_EQ(*items[2], "c");
  EXPECT_EQ(*items[3], "k");
}

TEST(QueryTest, ListItemsIgnoresNonNumericAndZeroIndexes) {
  Pairs params = {{"L.member.0", "zero"}, {"L.member.x", "x"}, {"L.member.1a", "bad"},
                  {"L.member.-1", "neg"}, {"L.member.1", "one"}};
  auto tree = query::to_tree(params);
  auto items = query::list_items(tree, "L");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(*items[0], "one");
}

TEST(QueryTest, ListItemsMissingListOrMemberIsEmpty) {
  auto tree = query::to_tree(Pairs{{"Tags.item.1", "a"}, {"Leaf", "v"}});
  EXPECT_TRUE(query::list_items(tree, "Nope").empty());
  EXPECT_TRUE(query::list_items(tree, "Tags").empty());  // no "member" level
  EXPECT_TRUE(query::list_items(tree, "Leaf", "").empty());
  EXPECT_EQ(query::list_items(tree, "Tags", "item").size(), 1u);
}

TEST(QueryTest, RenderResponseExactShape) {
  auto xml = query::render_response("GetThing", "https://example.com/doc/2020-01-01/", "req-1",
                                    [](XmlWriter& w) { w.element("Name", "a&b"); });
  EXPECT_EQ(xml,
            "<GetThingResponse xmlns=\"https://example.com/doc/2020-01-01/\">"
            "<GetThingResult><Name>a&amp;b</Name></GetThingResult>"
            "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
            "</GetThingResponse>");
}

TEST(QueryTest, RenderResponseEmptyResultStillHasResultElement) {
  auto xml = query::render_response("Ping", "urn:x", "id", [](XmlWriter&) {});
  EXPECT_EQ(xml,
            "<PingResponse xmlns=\"urn:x\"><PingResult></PingResult>"
            "<ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></PingResponse>");
}

TEST(QueryTest, RenderResponseNullResultOmitsResult) {
  auto xml = query::render_response("DeleteThing", "urn:x", "rid", nullptr);
  EXPECT_EQ(xml,
            "<DeleteThingResponse xmlns=\"urn:x\">"
            "<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteThingResponse>");
}

TEST(QueryTest, RenderResponseNestedResult) {
  auto xml = query::render_response("List", "", "r", [](XmlWriter& w) {
    w.open("Items").element("member", "1").close().open("Next").element("T", "x");
    w.close();
  });
  EXPECT_EQ(xml,
            "<ListResponse><ListResult><Items><member>1</member></Items><Next><T>x</T></Next></ListResult>"
            "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListResponse>");
}

}  // namespace
}  // namespace fogbank::protocol
