#include "fogbank/protocol/xml_reader.hpp"

#include <gtest/gtest.h>

namespace fogbank::protocol {
namespace {

XmlNode parse_ok(std::string_view text) {
  std::string error;
  auto doc = parse_xml(text, error);
  EXPECT_TRUE(doc.has_value()) << error;
  return doc.value_or(XmlNode{});
}

bool fails(std::string_view text) {
  std::string error;
  return !parse_xml(text, error).has_value() && !error.empty();
}

TEST(XmlReader, ParsesNestedElementsWithNamespacesAndDeclaration) {
  auto doc = parse_ok(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Part><PartNumber>1</PartNumber><ETag>\"abc\"</ETag></Part>"
      "<Part><PartNumber>2</PartNumber><ETag>&quot;def&quot;</ETag></Part>"
      "</CompleteMultipartUpload>");
  EXPECT_EQ(doc.name, "CompleteMultipartUpload");
  auto parts = doc.all("Part");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0]->child_text("PartNumber"), "1");
  EXPECT_EQ(parts[0]->child_text("ETag"), "\"abc\"");
  EXPECT_EQ(parts[1]->child_text("ETag"), "\"def\"");
  EXPECT_EQ(doc.child("Missing"), nullptr);
  EXPECT_FALSE(doc.child_text("Missing").has_value());
}

TEST(XmlReader, DecodesEntitiesCharacterReferencesAndCdata) {
  auto doc = parse_ok("<Key>a&amp;b &lt;c&gt; &#233;&#x65E5; <![CDATA[<raw>&amp;]]></Key>");
  EXPECT_EQ(doc.text, "a&b <c> \xC3\xA9\xE6\x97\xA5 <raw>&amp;");
}

TEST(XmlReader, KeepsWhitespaceInTextAndDropsPrefixes) {
  auto doc = parse_ok("<s3:Delete xmlns:s3=\"x\"><s3:Object><s3:Key> spaced key </s3:Key></s3:Object></s3:Delete>");
  EXPECT_EQ(doc.name, "Delete");
  ASSERT_NE(doc.child("Object"), nullptr);
  EXPECT_EQ(doc.child("Object")->child_text("Key"), " spaced key ");
}

TEST(XmlReader, SelfClosingElementsAndAttributes) {
  auto doc = parse_ok("<a x='1' y=\"2\"><b/><c z=\"3\" /></a>");
  ASSERT_EQ(doc.children.size(), 2u);
  EXPECT_EQ(doc.children[0].name, "b");
  EXPECT_EQ(doc.children[1].name, "c");
}

TEST(XmlReader, RefusesMalformedDocuments) {
  EXPECT_TRUE(fails(""));
  EXPECT_TRUE(fails("not xml"));
  EXPECT_TRUE(fails("<a>"));
  EXPECT_TRUE(fails("<a></b>"));
  EXPECT_TRUE(fails("<a>&bogus;</a>"));
  EXPECT_TRUE(fails("<a>&#0;</a>"));
  EXPECT_TRUE(fails("<a>&#xD800;</a>"));
  EXPECT_TRUE(fails("<a></a><b></b>"));
  EXPECT_TRUE(fails("<a x=1></a>"));
  EXPECT_TRUE(fails("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>"));
  EXPECT_TRUE(fails("<a><![CDATA[unterminated</a>"));
}

TEST(XmlReader, RefusesExcessiveNesting) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_TRUE(fails(deep));
}

}  // namespace
}  // namespace fogbank::protocol
