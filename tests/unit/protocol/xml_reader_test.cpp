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

TEST(XmlReader, RefusesWhatPugixmlAloneWouldLetThrough) {
  EXPECT_TRUE(fails("<!DOCTYPE a><a/>"));
  EXPECT_TRUE(fails("<!DOCTYPE a SYSTEM \"file:///etc/passwd\"><a>x</a>"));
  EXPECT_TRUE(fails("<a></a>trailing"));
  EXPECT_TRUE(fails("leading<a></a>"));
  EXPECT_TRUE(fails("<a b='1' b='2'/>"));
  EXPECT_TRUE(fails("<a b='<'/>"));
  EXPECT_TRUE(fails("<a b='&bogus;'/>"));
  EXPECT_TRUE(fails("<a>&amp</a>"));
  EXPECT_TRUE(fails("<a>& b</a>"));
  EXPECT_TRUE(fails("<a>&#;</a>"));
  EXPECT_TRUE(fails("<a>&#x;</a>"));
  EXPECT_TRUE(fails("<a>&#1;</a>"));
  EXPECT_TRUE(fails("<a>&#x110000;</a>"));
  EXPECT_TRUE(fails("<a>&#-5;</a>"));
  EXPECT_TRUE(fails(std::string_view("<a>\0</a>", 8)));
  EXPECT_TRUE(fails("<a>\x01</a>"));
  EXPECT_TRUE(fails("<a>\xC3</a>"));         // truncated sequence
  EXPECT_TRUE(fails("<a>\xC0\xAF</a>"));     // overlong
  EXPECT_TRUE(fails("<a>\xED\xA0\x80</a>")); // UTF-8 encoded surrogate
  EXPECT_TRUE(fails("<a>\xEF\xBF\xBE</a>")); // U+FFFE
  EXPECT_TRUE(fails("<![CDATA[x]]><a/>"));
}

TEST(XmlReader, AcceptsBomCommentsAndInstructionsAroundTheRoot) {
  auto doc = parse_ok("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- before --><a><!-- in -->x<?pi data?>y</a>\n<!-- after -->\n");
  EXPECT_EQ(doc.name, "a");
  EXPECT_EQ(doc.text, "xy");
}

TEST(XmlReader, KeepsWhitespaceOnlyTextAndNormalisesLineEnds) {
  auto doc = parse_ok("<a><k> </k><l>x\r\ny&#13;</l><m attr='1\t2'/></a>");
  EXPECT_EQ(doc.child_text("k"), " ");
  EXPECT_EQ(doc.child_text("l"), "x\ny\r");
}

TEST(XmlReader, DepthLimitIsSixtyFourElements) {
  auto nest = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "<a>";
    s += "leaf";
    for (int i = 0; i < n; ++i) s += "</a>";
    return s;
  };
  auto doc = parse_ok(nest(64));
  const XmlNode* n = &doc;
  int levels = 1;
  while (!n->children.empty()) {
    n = &n->children.front();
    ++levels;
  }
  EXPECT_EQ(levels, 64);
  EXPECT_EQ(n->text, "leaf");
  EXPECT_TRUE(fails(nest(65)));
  // Far deeper than a stack would survive if anything recursed (and under the tag limit, so
  // the depth check is what refuses it).
  EXPECT_TRUE(fails(nest(100000)));
}

TEST(XmlReader, SiblingsAfterADeepBranchKeepTheirOrder) {
  auto doc = parse_ok("<r><a><b><c>1</c></b><d>2</d></a><e>3</e><a><f/></a></r>");
  ASSERT_EQ(doc.children.size(), 3u);
  EXPECT_EQ(doc.children[0].name, "a");
  EXPECT_EQ(doc.children[0].children[0].child_text("c"), "1");
  EXPECT_EQ(doc.children[0].child_text("d"), "2");
  EXPECT_EQ(doc.children[1].text, "3");
  EXPECT_EQ(doc.all("a").size(), 2u);
  ASSERT_EQ(doc.children[2].children.size(), 1u);
  EXPECT_EQ(doc.children[2].children[0].name, "f");
}

TEST(XmlReader, RefusesDocumentsWithTooManyTags) {
  // Each tag is a tree node; a flat run of them would cost far more memory than its text.
  auto flat = [](int n) {
    std::string s = "<r>";
    for (int i = 0; i < n; ++i) s += "<a/>";
    return s + "</r>";
  };
  EXPECT_EQ(parse_ok(flat(100000)).children.size(), 100000u);
  EXPECT_TRUE(fails(flat(300000)));
  // Escaped markup in text is not markup.
  std::string text = "<r>";
  for (int i = 0; i < 300000; ++i) text += "&lt;";
  text += "</r>";
  EXPECT_EQ(parse_ok(text).text.size(), 300000u);
}

TEST(XmlReader, RefusesDocumentsOverTheSizeLimit) {
  std::string big = "<a>";
  big.append(20u << 20, 'x');
  big += "</a>";
  EXPECT_TRUE(fails(big));
  std::string fits = "<a>";
  fits.append((20u << 20) - 16, 'x');
  fits += "</a>";
  EXPECT_EQ(parse_ok(fits).text.size(), (20u << 20) - 16);
}

}  // namespace
}  // namespace fogbank::protocol
