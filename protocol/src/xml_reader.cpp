// Request-body XML is attacker-controlled, so pugixml is driven defensively here: DTDs are
// refused rather than skipped (no entity expansion of any kind), only XML's own entities are
// decoded (by us: pugixml leaves unknown references in place, which would hide malformed
// input), the text must be UTF-8 made of XML characters, and size and depth are bounded before
// anything walks the tree. Every walk is iterative, so a deep document costs no stack.

#include "fogbank/protocol/xml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <utility>

#include <pugixml.hpp>

#include "fogbank/protocol/utf8.hpp"
#include "xml_load.hpp"

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

// Far above any configuration document or 1000-key Delete, far below what would let one
// request pin much memory (pugixml's tree costs a few times the text).
constexpr std::size_t kMaxDocumentBytes = 20u << 20;
// S3's deepest documents (lifecycle filters, replication rules) nest well under 10 levels.
constexpr int kMaxDepth = 64;
// pugixml spends some 50 bytes per node, so a flat run of "<a/>" would cost ~14x its size in
// tree. Every node starts at a '<', so capping their count caps the tree near the text's size.
// The largest legitimate bodies (1000-key Deletes, 1000-rule lifecycles) use a few tens of
// thousands.
constexpr std::size_t kMaxMarkup = 1u << 18;

// The XML 1.0 Char production; everything else (NUL, most C0 controls, surrogates, U+FFFE/F)
// cannot appear in a document, literally or as a character reference.
bool is_xml_char(std::uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// pugixml takes bytes as they come; a real XML parser (and S3's) refuses malformed UTF-8 and
// non-characters, so the whole text is checked once up front.
bool valid_xml_text(std::string_view s, std::string& error) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  std::size_t markup = 0;
  while (p < end) {
    if (*p == '<' && ++markup > kMaxMarkup) {
      error = "more than " + std::to_string(kMaxMarkup) + " tags";
      return false;
    }
    char32_t cp = 0;
    if (!utf8::next_code_point(p, end, cp)) {
      error = "invalid UTF-8";
      return false;
    }
    if (!is_xml_char(cp)) {
      error = "character not allowed in XML";
      return false;
    }
  }
  return true;
}

// Decodes the five predefined entities and character references; pugixml is told not to, so
// that an unknown or malformed reference is an error instead of literal text.
bool decode_references(std::string_view raw, std::string& out, std::string& error) {
  out.clear();
  out.reserve(raw.size());
  std::size_t pos = 0;
  while (pos < raw.size()) {
    auto amp = raw.find('&', pos);
    if (amp == std::string_view::npos) {
      out.append(raw.substr(pos));
      break;
    }
    out.append(raw.substr(pos, amp - pos));
    auto semi = raw.find(';', amp);
    // The longest legal reference is &#x10FFFF; (10 bytes); a bound keeps the scan linear.
    if (semi == std::string_view::npos || semi - amp > 10) {
      error = "malformed entity reference";
      return false;
    }
    auto ref = raw.substr(amp + 1, semi - amp - 1);
    pos = semi + 1;
    if (ref == "amp") {
      out += '&';
    } else if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (ref.size() >= 2 && ref[0] == '#') {
      auto digits = ref.substr(1);
      int base = 10;
      if (digits[0] == 'x') {
        base = 16;
        digits.remove_prefix(1);
      }
      std::uint32_t cp = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, base);
      // from_chars would take a sign or "0x" nowhere, but an empty digit string must not pass.
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          !is_xml_char(cp)) {
        error = "invalid character reference";
        return false;
      }
      utf8::append_utf8(out, cp);
    } else {
      error = "unknown entity &" + std::string(ref) + ";";
      return false;
    }
  }
  return true;
}

// pugixml accepts repeated attribute names and '<' in attribute values; XML does not.
bool check_attributes(pugi::xml_node element, std::string& error) {
  if (!element.first_attribute()) {
    return true;  // nearly every element of a request body
  }
  std::vector<std::string_view> names;
  for (auto a = element.first_attribute(); a; a = a.next_attribute()) {
    if (std::strchr(a.value(), '<') != nullptr) {
      error = "'<' in an attribute value";
      return false;
    }
    names.emplace_back(a.name());
  }
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
    error = "repeated attribute";
    return false;
  }
  return true;
}

// Character data and attribute values are replaced by their decoded form, so readers of the
// tree never see a reference.
bool decode_in_place(pugi::xml_node element, std::string& scratch, std::string& error) {
  for (auto a = element.first_attribute(); a; a = a.next_attribute()) {
    if (std::strchr(a.value(), '&') != nullptr) {
      if (!decode_references(a.value(), scratch, error)) {
        return false;
      }
      a.set_value(scratch.c_str());
    }
  }
  for (auto n = element.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_pcdata && std::strchr(n.value(), '&') != nullptr) {
      if (!decode_references(n.value(), scratch, error)) {
        return false;
      }
      n.set_value(scratch.c_str());
    }
  }
  return true;
}

bool only_whitespace(const char* s) {
  for (; *s != '\0'; ++s) {
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace xml_detail {

std::string_view local_name(std::string_view qualified) {
  auto colon = qualified.rfind(':');
  return colon == std::string_view::npos ? qualified : qualified.substr(colon + 1);
}

bool load_document(pugi::xml_document& doc, std::string_view text, std::string& error) {
  if (text.size() > kMaxDocumentBytes) {
    error = "document larger than " + std::to_string(kMaxDocumentBytes) + " bytes";
    return false;
  }
  if (!valid_xml_text(text, error)) {
    return false;
  }
  // No parse_escapes (decode_references does that strictly) and no pi/comment/declaration
  // nodes (skipped). parse_doctype only makes a DOCTYPE visible so it can be refused;
  // parse_fragment keeps stray top-level text visible so it can be refused too.
  constexpr unsigned kOptions = pugi::parse_cdata | pugi::parse_ws_pcdata | pugi::parse_eol |
                                pugi::parse_wconv_attribute | pugi::parse_doctype |
                                pugi::parse_fragment;
  auto result = doc.load_buffer(text.data(), text.size(), kOptions, pugi::encoding_utf8);
  if (!result) {
    error = std::string(result.description()) + " at offset " + std::to_string(result.offset);
    return false;
  }
  int roots = 0;
  for (auto n = doc.first_child(); n; n = n.next_sibling()) {
    switch (n.type()) {
      case pugi::node_element:
        ++roots;
        break;
      case pugi::node_doctype:
        error = "document type declarations are not allowed";
        return false;
      case pugi::node_pcdata:
        if (!only_whitespace(n.value())) {
          error = "text outside the root element";
          return false;
        }
        break;
      default:
        error = "content outside the root element";
        return false;
    }
  }
  if (roots != 1) {
    error = roots == 0 ? "no root element" : "more than one root element";
    return false;
  }
  // Pre-order walk over pugixml's own parent/sibling links: no recursion, no stack.
  std::string scratch;
  pugi::xml_node root = doc.document_element();
  pugi::xml_node node = root;
  int depth = 1;
  while (node) {
    if (depth > kMaxDepth) {
      error = "elements nested deeper than " + std::to_string(kMaxDepth);
      return false;
    }
    if (!check_attributes(node, error) || !decode_in_place(node, scratch, error)) {
      return false;
    }
    if (auto child = node.find_child([](pugi::xml_node n) { return n.type() == pugi::node_element; })) {
      node = child;
      ++depth;
      continue;
    }
    while (node != root) {
      auto next = node.next_sibling();
      while (next && next.type() != pugi::node_element) {
        next = next.next_sibling();
      }
      if (next) {
        node = next;
        break;
      }
      node = node.parent();
      --depth;
    }
    if (node == root) {
      break;
    }
  }
  return true;
}

}  // namespace xml_detail

std::optional<XmlNode> parse_xml(std::string_view text, std::string& error) {
  pugi::xml_document doc;
  if (!xml_detail::load_document(doc, text, error)) {
    return std::nullopt;
  }
  // Each element's children are all appended before any of them is visited, so the pointers
  // kept on the stack never see their vector grow again.
  XmlNode root;
  std::vector<std::pair<pugi::xml_node, XmlNode*>> pending{{doc.document_element(), &root}};
  while (!pending.empty()) {
    auto [src, dst] = pending.back();
    pending.pop_back();
    dst->name = xml_detail::local_name(src.name());
    for (auto n = src.first_child(); n; n = n.next_sibling()) {
      if (n.type() == pugi::node_element) {
        dst->children.emplace_back();
      } else if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
        dst->text += n.value();
      }
    }
    std::size_t i = 0;
    for (auto n = src.first_child(); n; n = n.next_sibling()) {
      if (n.type() == pugi::node_element) {
        pending.emplace_back(n, &dst->children[i++]);
      }
    }
  }
  return root;
}

}  // namespace fogbank::protocol
