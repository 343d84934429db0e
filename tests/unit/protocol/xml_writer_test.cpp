#include "fogbank/protocol/xml_writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace fogbank::protocol {
namespace {

constexpr std::string_view kDecl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

TEST(XmlWriterTest, EscapesSpecialCharacters) {
  EXPECT_EQ(xml_escape("&"), "&amp;");
  EXPECT_EQ(xml_escape("<"), "&lt;");
  EXPECT_EQ(xml_escape(">"), "&gt;");
  EXPECT_EQ(xml_escape("\""), "&quot;");
  EXPECT_EQ(xml_escape("'"), "&apos;");
  EXPECT_EQ(xml_escape("\r"), "&#13;");
  EXPECT_EQ(xml_escape("a<b>&\"c'\r\nd"), "a&lt;b&gt;&amp;&quot;c&apos;&#13;\nd");
  // C0 controls XML 1.0 cannot carry raw (an S3 key in an error's <Key>), in AWS's form.
  EXPECT_EQ(xml_escape(std::string_view("k\x00\x01\x1b\x1f", 5)), "k&#x0;&#x1;&#x1b;&#x1f;");
}

TEST(XmlWriterTest, LeavesOrdinaryTextAlone) {
  EXPECT_EQ(xml_escape(""), "");
  EXPECT_EQ(xml_escape("plain text\n\ttab"), "plain text\n\ttab");
  EXPECT_EQ(xml_escape("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // UTF-8 untouched
  EXPECT_EQ(xml_escape("&amp;"), "&amp;amp;");  // no double-escape detection: escapes again
}

TEST(XmlWriterTest, DeclarationOnByDefault) {
  XmlWriter xml;
  xml.element("A", "1");
  EXPECT_EQ(xml.finish(), std::string(kDecl) + "<A>1</A>");
}

TEST(XmlWriterTest, DeclarationOff) {
  XmlWriter xml(false);
  xml.element("A", "1");
  EXPECT_EQ(xml.finish(), "<A>1</A>");
}

TEST(XmlWriterTest, EmptyWriter) {
  EXPECT_EQ(XmlWriter(false).finish(), "");
  EXPECT_EQ(XmlWriter(true).finish(), std::string(kDecl));
}

TEST(XmlWriterTest, ElementEscapesTextButNotName) {
  XmlWriter xml(false);
  xml.element("Key", "<a href='x'>&</a>");
  EXPECT_EQ(xml.finish(), "<Key>&lt;a href=&apos;x&apos;&gt;&amp;&lt;/a&gt;</Key>");
}

TEST(XmlWriterTest, ElementWithEmptyTextIsWritten) {
  XmlWriter xml(false);
  xml.element("Empty", "");
  EXPECT_EQ(xml.finish(), "<Empty></Empty>");
}

TEST(XmlWriterTest, OptionalSkipsEmptyText) {
  XmlWriter xml(false);
  xml.open("R").optional("Skipped", "").optional("Kept", "v&").close();
  EXPECT_EQ(xml.finish(), "<R><Kept>v&amp;</Kept></R>");
}

TEST(XmlWriterTest, OpenWithXmlnsAttribute) {
  XmlWriter xml(false);
  xml.open("Root", "http://s3.amazonaws.com/doc/2006-03-01/").close();
  EXPECT_EQ(xml.finish(), "<Root xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></Root>");
}

TEST(XmlWriterTest, XmlnsIsEscaped) {
  XmlWriter xml(false);
  xml.open("R", "urn:a\"b&c").close();
  EXPECT_EQ(xml.finish(), "<R xmlns=\"urn:a&quot;b&amp;c\"></R>");
}

TEST(XmlWriterTest, NestingClosesInReverseOrder) {
  XmlWriter xml(false);
  xml.open("A").open("B").element("C", "1").close().open("D").element("E", "2").close().close();
  EXPECT_EQ(xml.finish(), "<A><B><C>1</C></B><D><E>2</E></D></A>");
}

TEST(XmlWriterTest, FinishClosesOpenElements) {
  XmlWriter xml;
  xml.open("ListBucketResult", "urn:x").open("Contents").element("Key", "k");
  EXPECT_EQ(xml.finish(),
            std::string(kDecl) + "<ListBucketResult xmlns=\"urn:x\"><Contents><Key>k</Key></Contents></ListBucketResult>");
}

TEST(XmlWriterTest, SiblingRootsAreAllowed) {
  XmlWriter xml(false);
  xml.open("A").close().open("B");
  EXPECT_EQ(xml.finish(), "<A></A><B></B>");
}

}  // namespace
}  // namespace fogbank::protocol
