// The REST-XML document codec (S3's configuration and request bodies), driven by the model.
//
// Decoding reads what botocore's RestXMLSerializer writes; encoding writes what its RestXMLParser
// reads back. Where the two disagree (the element name of a flattened list whose member has its
// own locationName), the decoder accepts both. Unlike botocore's lenient parser, the decoder
// behaves like S3's schema validation: an element the shape does not know, a repeated
// non-list element, text where a structure belongs, a value of the wrong type or a missing
// required member all make the document MalformedXML.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "timestamps.hpp"
#include "xml_load.hpp"

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/xml_writer.hpp"

namespace fogbank::protocol {

namespace codec {

namespace {

using model::Member;
using model::Shape;
using model::ShapeType;
using model::TimestampFormat;
using xml_detail::local_name;

[[noreturn]] void malformed() {
  throw AwsError("MalformedXML", 400,
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
}

[[noreturn]] void bad_value(std::string_view what) {
  // Handlers build output values; a mismatch is a bug in fogbank, not in the request.
  throw std::invalid_argument("encode_xml: " + std::string(what));
}

bool is_structure(const Shape& s) { return s.type == ShapeType::kStructure || s.type == ShapeType::kUnion; }

// botocore merges member and shape traits, so either level can flatten a list or map.
bool is_flattened(const Member& m) { return m.flattened || m.shape->flattened; }

// A part's wire name as botocore resolves it: the reference's locationName, else the target
// shape's own, else `fallback`.
std::string_view serialized_name(const Member& m, std::string_view fallback) {
  if (!m.location_name.empty()) {
    return m.location_name;
  }
  if (!m.shape->location_name.empty()) {
    return m.shape->location_name;
  }
  return fallback;
}

// The element a structure member appears as. A flattened list's items are named by the list
// member's locationName when it has one (RestXMLParser._member_key_name).
std::string_view element_name(const Member& m) {
  if (m.shape->type == ShapeType::kList && is_flattened(m) && !m.shape->member.location_name.empty()) {
    return m.shape->member.location_name;
  }
  return serialized_name(m, m.name);
}

// Members carried in headers, the URI or the status line have no place in the document.
bool in_body(const Member& m) { return m.location.empty(); }

TimestampFormat timestamp_format(const Shape& s, const Member* m) {
  if (m != nullptr && m->timestamp_format != TimestampFormat::kDefault) {
    return m->timestamp_format;
  }
  if (s.timestamp_format != TimestampFormat::kDefault) {
    return s.timestamp_format;
  }
  return TimestampFormat::kIso8601;  // the REST-XML default for bodies
}

// --- text → value ------------------------------------------------------------------------------

// XML Schema's numeric, boolean and date types collapse surrounding whitespace; strings keep it.
std::string_view trimmed(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  }
  if (text.empty() || text.front() == '+') {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// REST-XML bodies follow XML Schema's dateTime: a 'T' and no leap second. Its reduced forms (a
// date alone, no seconds) and the decimal comma are read as well: refusing them would turn an
// unambiguous document into MalformedXML.
constexpr timestamps::Rules kTimestampRules{
    .comma_fraction = true,
    .reduced_precision = true,
};

std::optional<Value> parse_timestamp(std::string_view text, TimestampFormat format) {
  if (format == TimestampFormat::kUnix) {
    // XML Schema's numbers may carry a '+', which the shared reader does not take.
    if (!text.empty() && text.front() == '+') {
      text.remove_prefix(1);
    }
    return timestamps::parse_epoch_seconds(text);
  }
  // A client may well send the other textual form; either names one instant.
  auto t = timestamps::parse_iso8601(text, kTimestampRules);
  if (!t) {
    t = timestamps::parse_rfc822(text, kTimestampRules);
  }
  return t ? std::optional<Value>(timestamps::neutral_value(*t)) : std::nullopt;
}

Value decode_scalar(const Shape& s, const Member* m, std::string_view text) {
  switch (s.type) {
    case ShapeType::kString:
      return std::string(text);
    case ShapeType::kInteger:
    case ShapeType::kLong: {
      std::int64_t v = 0;
      if (!parse_number(trimmed(text), v) ||
          (s.type == ShapeType::kInteger && (v < INT32_MIN || v > INT32_MAX))) {
        malformed();
      }
      return v;
    }
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kBigDecimal: {
      double v = 0;
      if (!parse_number(trimmed(text), v) || !std::isfinite(v)) {
        malformed();
      }
      return v;
    }
    case ShapeType::kBoolean: {
      auto t = trimmed(text);
      if (t == "true") {
        return true;
      }
      if (t == "false") {
        return false;
      }
      malformed();
    }
    case ShapeType::kBlob: {
      auto bytes = base64_decode(trimmed(text));
      if (!bytes) {
        malformed();
      }
      return Value::binary(std::vector<std::uint8_t>(bytes->begin(), bytes->end()));
    }
    case ShapeType::kTimestamp: {
      auto t = parse_timestamp(trimmed(text), timestamp_format(s, m));
      if (!t) {
        malformed();
      }
      return std::move(*t);
    }
    default:
      malformed();
  }
}

// --- document → value --------------------------------------------------------------------------
// Recursion here follows the document, whose depth load_document has already bounded.

bool blank(const char* s) {
  for (; *s != '\0'; ++s) {
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
      return false;
    }
  }
  return true;
}

// Container elements hold elements and indentation, nothing else.
void require_no_text(pugi::xml_node n) {
  if ((n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) && !blank(n.value())) {
    malformed();
  }
}

std::string text_of(pugi::xml_node element) {
  std::string text;
  for (auto n = element.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_element) {
      malformed();
    }
    text += n.value();  // character data and CDATA alike
  }
  return text;
}

Value decode_node(const Shape& s, const Member* m, pugi::xml_node element);

const Member* member_for(const Shape& s, std::string_view name) {
  for (const auto& m : s.members) {
    if (!in_body(m) || m.xml_attribute) {
      continue;
    }
    if (element_name(m) == name ||
        (m.shape->type == ShapeType::kList && is_flattened(m) && serialized_name(m, m.name) == name)) {
      return &m;
    }
  }
  return nullptr;
}

pugi::xml_attribute attribute_for(pugi::xml_node element, const Member& m) {
  auto wanted = local_name(serialized_name(m, m.name));
  for (auto a = element.first_attribute(); a; a = a.next_attribute()) {
    std::string_view name = a.name();
    if (name == "xmlns" || name.starts_with("xmlns:")) {
      continue;
    }
    if (local_name(name) == wanted) {
      return a;
    }
  }
  return {};
}

// One map entry's key and value (<key>/<value> unless the model renames them).
void decode_entry(const Shape& map, pugi::xml_node entry, Value& out) {
  auto key_name = serialized_name(map.key, "key");
  auto value_name = serialized_name(map.value, "value");
  std::optional<std::string> key;
  std::optional<Value> value;
  for (auto n = entry.first_child(); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) {
      require_no_text(n);
      continue;
    }
    auto name = local_name(n.name());
    if (name == key_name && !key) {
      key = text_of(n);
    } else if (name == value_name && !value) {
      value = decode_node(*map.value.shape, &map.value, n);
    } else {
      malformed();
    }
  }
  if (!key || !value) {
    malformed();
  }
  out[*key] = std::move(*value);
}

Value decode_structure(const Shape& s, pugi::xml_node element) {
  Value out = Value::object();
  for (const auto& m : s.members) {
    if (m.xml_attribute && in_body(m)) {
      if (auto a = attribute_for(element, m)) {
        out[m.name] = decode_scalar(*m.shape, &m, a.value());
      }
    }
  }
  for (auto n = element.first_child(); n; n = n.next_sibling()) {
    if (n.type() != pugi::node_element) {
      require_no_text(n);
      continue;
    }
    const Member* m = member_for(s, local_name(n.name()));
    if (m == nullptr) {
      malformed();
    }
    const Shape& ms = *m->shape;
    if (ms.type == ShapeType::kList && is_flattened(*m)) {
      auto& items = out[m->name];
      if (items.is_null()) {
        items = Value::array();
      }
      items.push_back(decode_node(*ms.member.shape, &ms.member, n));
    } else if (ms.type == ShapeType::kMap && is_flattened(*m)) {
      auto& entries = out[m->name];
      if (entries.is_null()) {
        entries = Value::object();
      }
      decode_entry(ms, n, entries);
    } else if (out.contains(m->name)) {
      malformed();
    } else {
      out[m->name] = decode_node(ms, m, n);
    }
  }
  for (const auto& m : s.members) {
    if (m.required && in_body(m) && !out.contains(m.name)) {
      malformed();
    }
  }
  return out;
}

Value decode_node(const Shape& s, const Member* m, pugi::xml_node element) {
  switch (s.type) {
    case ShapeType::kStructure:
    case ShapeType::kUnion:
      if (s.document) {
        malformed();
      }
      return decode_structure(s, element);
    case ShapeType::kList: {
      // A wrapped list: <Name><item/>...</Name>; flattened ones are gathered by the parent.
      Value items = Value::array();
      auto item_name = serialized_name(s.member, "member");
      for (auto n = element.first_child(); n; n = n.next_sibling()) {
        if (n.type() != pugi::node_element) {
          require_no_text(n);
        } else if (local_name(n.name()) != item_name) {
          malformed();
        } else {
          items.push_back(decode_node(*s.member.shape, &s.member, n));
        }
      }
      return items;
    }
    case ShapeType::kMap: {
      Value entries = Value::object();
      for (auto n = element.first_child(); n; n = n.next_sibling()) {
        if (n.type() != pugi::node_element) {
          require_no_text(n);
        } else if (local_name(n.name()) != "entry") {
          malformed();
        } else {
          decode_entry(s, n, entries);
        }
      }
      return entries;
    }
    default:
      return decode_scalar(s, m, text_of(element));
  }
}

// --- value → document --------------------------------------------------------------------------

std::string attribute_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '"': out += "&quot;"; break;
      // Attribute-value normalisation would turn these into spaces.
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default: out += c;
    }
  }
  return out;
}

// S3 writes milliseconds always ("…T08:00:00.000Z"), and so do we.
std::string iso8601_text(double seconds) {
  const auto split = timestamps::round_to_millis(seconds);
  char buf[timestamps::kTextCapacity];
  return std::string(timestamps::format_iso8601(buf, split.seconds, split.millis, timestamps::Millis::kAlways));
}

// RFC 822 has whole seconds only; the fraction is dropped, not rounded.
std::string rfc822_text(double seconds) {
  const auto split = timestamps::round_to_millis(std::floor(seconds));
  char buf[timestamps::kTextCapacity];
  return std::string(timestamps::format_rfc822(buf, split.seconds));
}

std::string number_text(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string scalar_text(const Shape& s, const Member* m, const Value& v, std::string_view name) {
  auto wrong = [&]() -> std::string { bad_value(std::string(name) + " has the wrong type for " + s.name); };
  switch (s.type) {
    case ShapeType::kString:
      return v.is_string() ? v.get<std::string>() : wrong();
    case ShapeType::kInteger:
    case ShapeType::kLong:
      return v.is_number_integer() ? v.dump() : wrong();
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kBigDecimal:
      if (v.is_number_float()) {
        if (!std::isfinite(v.get<double>())) {
          wrong();
        }
        return number_text(v.get<double>());
      }
      return v.is_number() ? v.dump() : wrong();
    case ShapeType::kBoolean:
      return v.is_boolean() ? (v.get<bool>() ? "true" : "false") : wrong();
    case ShapeType::kBlob:
      if (v.is_binary()) {
        const auto& bytes = v.get_binary();
        return base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      }
      return v.is_string() ? base64_encode(v.get<std::string>()) : wrong();
    case ShapeType::kTimestamp: {
      if (!v.is_number()) {
        wrong();
      }
      switch (timestamp_format(s, m)) {
        case TimestampFormat::kUnix:
          return v.is_number_float() ? number_text(v.get<double>()) : v.dump();
        case TimestampFormat::kRfc822:
          return rfc822_text(v.get<double>());
        default:
          return iso8601_text(v.get<double>());
      }
    }
    default:
      return wrong();
  }
}

class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}

  // Writes `v` as element(s) called `name`; `root_xmlns` only for the document element.
  void node(const Shape& s, const Member* m, const Value& v, std::string_view name,
            std::string_view root_xmlns = {}) {
    if (is_structure(s)) {
      structure(s, m, v, name, root_xmlns);
    } else if (s.type == ShapeType::kList) {
      if (!v.is_array()) {
        bad_value(std::string(name) + " is not an array");
      }
      bool flat = m != nullptr && is_flattened(*m);
      std::string_view item_name = flat ? name : serialized_name(s.member, "member");
      if (!flat) {
        open(s, m, name, root_xmlns);
        close_start();
      }
      for (const auto& item : v) {
        node(*s.member.shape, &s.member, item, item_name);
      }
      if (!flat) {
        end(name);
      }
    } else if (s.type == ShapeType::kMap) {
      map(s, m, v, name, root_xmlns);
    } else {
      open(s, m, name, root_xmlns);
      close_start();
      out_ += xml_escape(scalar_text(s, m, v, name));
      end(name);
    }
  }

 private:
  void structure(const Shape& s, const Member* m, const Value& v, std::string_view name,
                 std::string_view root_xmlns) {
    if (!v.is_object()) {
      bad_value(std::string(name) + " is not an object");
    }
    open(s, m, name, root_xmlns);
    for (const auto& member : s.members) {
      if (!member.xml_attribute || !in_body(member)) {
        continue;
      }
      if (auto it = v.find(member.name); it != v.end() && !it->is_null()) {
        attribute(serialized_name(member, member.name), scalar_text(*member.shape, &member, *it, member.name));
      }
    }
    close_start();
    for (const auto& member : s.members) {
      if (member.xml_attribute || !in_body(member)) {
        continue;
      }
      if (auto it = v.find(member.name); it != v.end() && !it->is_null()) {
        node(*member.shape, &member, *it, element_name(member));
      }
    }
    end(name);
  }

  void map(const Shape& s, const Member* m, const Value& v, std::string_view name,
           std::string_view root_xmlns) {
    if (!v.is_object()) {
      bad_value(std::string(name) + " is not an object");
    }
    bool flat = m != nullptr && is_flattened(*m);
    auto key_name = serialized_name(s.key, "key");
    auto value_name = serialized_name(s.value, "value");
    if (!flat) {
      open(s, m, name, root_xmlns);
      close_start();
    }
    for (const auto& [key, value] : v.items()) {
      std::string_view entry = flat ? name : "entry";
      out_ += '<';
      out_ += entry;
      out_ += '>';
      node(*s.key.shape, &s.key, Value(key), key_name);
      node(*s.value.shape, &s.value, value, value_name);
      end(entry);
    }
    if (!flat) {
      end(name);
    }
  }

  // `<name` and its namespace declarations: the document's, the member reference's, and the
  // shape's own (Grantee declares xsi for its xsi:type attribute).
  void open(const Shape& s, const Member* m, std::string_view name, std::string_view root_xmlns) {
    declared_.clear();
    out_ += '<';
    out_ += name;
    if (!root_xmlns.empty()) {
      attribute("xmlns", root_xmlns);
    }
    if (m != nullptr && !m->xml_namespace_uri.empty()) {
      attribute(m->xml_namespace_prefix.empty() ? std::string("xmlns") : "xmlns:" + m->xml_namespace_prefix,
                m->xml_namespace_uri);
    }
    if (!s.xml_namespace_uri.empty()) {
      attribute(shape_namespace_attribute(s), s.xml_namespace_uri);
    }
  }

  // The model keeps no prefix for a shape-level namespace; the prefix its attribute members are
  // written with is the one it declares (Grantee: xsi).
  static std::string shape_namespace_attribute(const Shape& s) {
    for (const auto& member : s.members) {
      if (!member.xml_attribute) {
        continue;
      }
      auto wire = serialized_name(member, member.name);
      if (auto colon = wire.find(':'); colon != std::string_view::npos) {
        return "xmlns:" + std::string(wire.substr(0, colon));
      }
    }
    return "xmlns";
  }

  void attribute(std::string_view name, std::string_view value) {
    if (std::find(declared_.begin(), declared_.end(), name) != declared_.end()) {
      return;
    }
    declared_.emplace_back(name);
    out_ += ' ';
    out_ += name;
    out_ += "=\"";
    out_ += attribute_escape(value);
    out_ += '"';
  }

  void close_start() { out_ += '>'; }

  void end(std::string_view name) {
    out_ += "</";
    out_ += name;
    out_ += '>';
  }

  std::string& out_;
  std::vector<std::string> declared_;  // attributes of the start tag being written
};

}  // namespace

Value decode_xml(const model::Shape& shape, std::string_view body) {
  pugi::xml_document doc;
  std::string why;
  if (!xml_detail::load_document(doc, body, why)) {
    malformed();
  }
  return decode_node(shape, nullptr, doc.document_element());
}

std::string encode_xml(const model::Shape& shape, const Value& value, std::string_view root_name,
                       std::string_view xmlns) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  Encoder(out).node(shape, nullptr, value, root_name, xmlns);
  return out;
}

}  // namespace codec
}  // namespace fogbank::protocol
