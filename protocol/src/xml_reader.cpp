#include "fogbank/protocol/xml_reader.hpp"

#include <charconv>

namespace fogbank::protocol {

const XmlNode* XmlNode::child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) {
      return &c;
    }
  }
  return nullptr;
}

std::optional<std::string> XmlNode::child_text(std::string_view child_name) const {
  if (const XmlNode* c = child(child_name)) {
    return c->text;
  }
  return std::nullopt;
}

std::vector<const XmlNode*> XmlNode::all(std::string_view child_name) const {
  std::vector<const XmlNode*> out;
  for (const auto& c : children) {
    if (c.name == child_name) {
      out.push_back(&c);
    }
  }
  return out;
}

namespace {

constexpr int kMaxDepth = 64;

struct ParseError {
  std::string reason;
};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  XmlNode document() {
    skip_prolog();
    if (!at('<')) {
      fail("no root element");
    }
    XmlNode root = element(0);
    skip_misc();
    if (pos_ != s_.size()) {
      fail("content after the root element");
    }
    return root;
  }

 private:
  [[noreturn]] static void fail(std::string reason) { throw ParseError{std::move(reason)}; }
  bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  bool starts(std::string_view p) const { return s_.substr(pos_, p.size()) == p; }
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) {
      ++pos_;
    }
  }
  void skip_past(std::string_view end) {
    auto e = s_.find(end, pos_);
    if (e == std::string_view::npos) {
      fail("unterminated construct");
    }
    pos_ = e + end.size();
  }
  // Whitespace, comments and processing instructions, as allowed around the root.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<?")) {
        skip_past("?>");
      } else if (starts("<!--")) {
        skip_past("-->");
      } else {
        return;
      }
    }
  }
  void skip_prolog() {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") {
      pos_ = 3;  // UTF-8 byte order mark
    }
    skip_misc();
    if (starts("<!DOCTYPE")) {
      fail("document type declarations are not allowed");
    }
  }
  static bool name_char(char c) {
    return c != '>' && c != '/' && c != '=' && c != '<' && !is_space(c) && c != '"' && c != '\'';
  }
  std::string_view name() {
    auto start = pos_;
    while (pos_ < s_.size() && name_char(s_[pos_])) {
      ++pos_;
    }
    if (pos_ == start) {
      fail("expected a name");
    }
    return s_.substr(start, pos_ - start);
  }
  static std::string local(std::string_view qname) {
    auto colon = qname.rfind(':');
    return std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1));
  }
  void decode_entity(std::string& out) {
    auto semi = s_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) {
      fail("malformed entity reference");
    }
    auto ent = s_.substr(pos_ + 1, semi - pos_ - 1);
    pos_ = semi + 1;
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.size() > 1 && ent[0] == '#') {
      int base = 10;
      auto digits = ent.substr(1);
      if (digits[0] == 'x') {
        base = 16;
        digits.remove_prefix(1);
      }
      std::uint32_t cp = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, base);
      if (ec != std::errc() || end != digits.data() + digits.size() || cp == 0 || cp > 0x10FFFF ||
          (cp >= 0xD800 && cp <= 0xDFFF)) {
        fail("invalid character reference");
      }
      append_utf8(out, cp);
    } else {
      fail("unknown entity &" + std::string(ent) + ";");
    }
  }
  std::string_view attribute_value() {
    if (!at('"') && !at('\'')) {
      fail("attribute value must be quoted");
    }
    char q = s_[pos_++];
    auto end = s_.find(q, pos_);
    if (end == std::string_view::npos) {
      fail("unterminated attribute value");
    }
    auto v = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return v;
  }

  XmlNode element(int depth) {
    if (depth > kMaxDepth) {
      fail("elements nested too deeply");
    }
    ++pos_;  // '<'
    auto qname = name();
    XmlNode node;
    node.name = local(qname);
    for (;;) {
      skip_space();
      if (starts("/>")) {
        pos_ += 2;
        return node;
      }
      if (at('>')) {
        ++pos_;
        break;
      }
      if (pos_ >= s_.size()) {
        fail("unterminated start tag");
      }
      name();
      skip_space();
      if (!at('=')) {
        fail("attribute without a value");
      }
      ++pos_;
      skip_space();
      attribute_value();
    }
    for (;;) {
      if (pos_ >= s_.size()) {
        fail("unterminated element <" + node.name + ">");
      }
      char c = s_[pos_];
      if (c == '&') {
        decode_entity(node.text);
      } else if (c != '<') {
        node.text += c;
        ++pos_;
      } else if (starts("</")) {
        pos_ += 2;
        if (name() != qname) {
          fail("mismatched end tag for <" + std::string(qname) + ">");
        }
        skip_space();
        if (!at('>')) {
          fail("malformed end tag");
        }
        ++pos_;
        return node;
      } else if (starts("<![CDATA[")) {
        pos_ += 9;
        auto end = s_.find("]]>", pos_);
        if (end == std::string_view::npos) {
          fail("unterminated CDATA section");
        }
        node.text.append(s_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (starts("<!--")) {
        skip_past("-->");
      } else if (starts("<?")) {
        skip_past("?>");
      } else if (starts("<!")) {
        fail("declarations are not allowed inside elements");
      } else {
        node.children.push_back(element(depth + 1));
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<XmlNode> parse_xml(std::string_view text, std::string& error) {
  try {
    return Parser(text).document();
  } catch (const ParseError& e) {
    error = e.reason;
    return std::nullopt;
  }
}

}  // namespace fogbank::protocol
