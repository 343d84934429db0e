// JSON 1.0 / 1.1 codec (SQS, Kinesis, Firehose) and the shape walk it shares with the CBOR codec
// (shape_walk.hpp).
//
// Wrong member types are answered with the messages AWS's Coral deserializer gives, as measured
// against live services by other emulators (SQS and Athena: "STRING_VALUE can not be converted
// to an Integer", "NUMBER_VALUE can not be converted to a String", "Start of list found where not
// expected", "Start of structure or map found where not expected."; Kinesis, via kinesalite:
// "Expected null", "Expected list or null", "Expected map or null" and the Blob/Base64 texts).
// A body that is not JSON at all gets a SerializationException without a message, as Athena's.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/json_text.hpp"
#include "shape_walk.hpp"

namespace fogbank::protocol::codec {

namespace walk {

using model::Member;
using model::Shape;
using model::ShapeType;
using model::TimestampFormat;

void fail(std::string message) { throw AwsError("SerializationException", 400, std::move(message)); }

namespace {

constexpr std::string_view kStartOfList = "Start of list found where not expected";
constexpr std::string_view kStartOfStructure = "Start of structure or map found where not expected.";

/// Coral names the JSON token it met, and the Java type it wanted.
const char* token_name(const Value& v) {
  if (v.is_string()) {
    return "STRING_VALUE";
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? "TRUE_VALUE" : "FALSE_VALUE";
  }
  if (v.is_number()) {
    return "NUMBER_VALUE";
  }
  if (v.is_binary()) {
    return "BLOB_VALUE";
  }
  return "NULL_VALUE";
}

const char* java_type(ShapeType type) {
  switch (type) {
    case ShapeType::kString: return "a String";
    case ShapeType::kInteger: return "an Integer";
    case ShapeType::kLong: return "a Long";
    case ShapeType::kBoolean: return "a Boolean";
    case ShapeType::kFloat: return "a Float";
    case ShapeType::kDouble: return "a Double";
    case ShapeType::kBigDecimal: return "a BigDecimal";
    case ShapeType::kBlob: return "a Blob";
    case ShapeType::kTimestamp: return "a Timestamp";
    default: return "a value";
  }
}

[[noreturn]] void wrong_scalar(const Value& v, ShapeType expected) {
  if (v.is_array()) {
    fail(std::string(kStartOfList));
  }
  if (v.is_object()) {
    fail(std::string(kStartOfStructure));
  }
  fail(std::string(token_name(v)) + " can not be converted to " + java_type(expected));
}

/// Integral seconds stay integers so handlers and encoders can take the cheap path.
Value seconds_value(double seconds) {
  if (std::trunc(seconds) == seconds && std::fabs(seconds) < 9.0e15) {
    return static_cast<std::int64_t>(seconds);
  }
  return seconds;
}

// Timestamp text is rare on these wires (SDKs send numbers), so what does come is read
// leniently: a space for the 'T', a decimal comma, a leap second, a dangling "+05:"; but the time
// of day is never left out.
constexpr timestamps::Rules kTimestampRules{
    .leap_second = true,
    .space_separator = true,
    .comma_fraction = true,
    .bare_offset_colon = true,
};

/// ISO-8601 text → epoch seconds, the fraction added in (seconds_value decides the type).
std::optional<double> iso8601_seconds(std::string_view text) {
  auto t = timestamps::parse_iso8601(text, kTimestampRules);
  if (!t) {
    return std::nullopt;
  }
  return static_cast<double>(t->seconds) + t->fraction();
}

// --- base64 ---------------------------------------------------------------------------------------

[[noreturn]] void bad_base64(const std::string& text, std::string_view why) {
  fail("'" + text + "' can not be converted to a Blob: " + std::string(why));
}

/// Strict padded base64, failing with Coral's three complaints in the order it checks them.
std::vector<std::uint8_t> decode_base64(const std::string& text) {
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  if (auto size = json_text::decode_base64(text, out.data())) {
    out.resize(*size);
    return out;
  }
  const std::size_t n = text.size();
  if (n % 4 != 0) {
    bad_base64(text, "Base64 encoded length is expected a multiple of 4 bytes but found: " + std::to_string(n));
  }
  const std::size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t j = 0; j < n - pad; ++j) {
    if (kAlphabet.find(text[j]) == std::string_view::npos) {
      bad_base64(text, std::string("Invalid Base64 character: '") + text[j] + "'");
    }
  }
  // Only the pad bits are left: the padding says they are unused, so they must be zero.
  bad_base64(text, "Invalid last non-pad Base64 character dectected");  // sic, AWS's spelling
}

// --- the walk -----------------------------------------------------------------------------------

void conform(const Shape& shape, Value& v, Wire wire);

void conform_structure(const Shape& shape, Value& v, Wire wire) {
  if (!v.is_object()) {
    fail(v.is_array() ? std::string(kStartOfList) : std::string("Expected null"));
  }
  auto& members = v.get_ref<Value::object_t&>();
  // A wire name differing from the member name (locationName) is renamed after the loop: a node
  // re-inserted during it could be visited again under its new, unknown-on-the-wire name.
  std::vector<std::pair<std::string, const Member*>> renames;
  for (auto it = members.begin(); it != members.end();) {
    const Member* member = shape.find_wire(it->first);
    if (member == nullptr || member->shape == nullptr || it->second.is_null()) {
      it = members.erase(it);
      continue;
    }
    conform(*member->shape, it->second, wire);
    if (member->name != it->first) {
      renames.emplace_back(it->first, member);
    }
    ++it;
  }
  for (const auto& [wire_name, member] : renames) {
    auto node = members.extract(wire_name);
    node.key() = member->name;
    members.insert(std::move(node));
  }
}

void conform_integer(ShapeType type, Value& v) {
  const bool is_int = type == ShapeType::kInteger;
  const std::int64_t lo = is_int ? std::numeric_limits<std::int32_t>::min() : std::numeric_limits<std::int64_t>::min();
  const std::int64_t hi = is_int ? std::numeric_limits<std::int32_t>::max() : std::numeric_limits<std::int64_t>::max();
  if (v.is_number_unsigned()) {
    if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(hi)) {
      wrong_scalar(v, type);
    }
    return;
  }
  if (v.is_number_integer()) {
    const auto n = v.get<std::int64_t>();
    if (n < lo || n > hi) {
      wrong_scalar(v, type);
    }
    return;
  }
  if (v.is_number_float()) {
    // Java's deserializers truncate a fractional number given for an integral member.
    const double t = std::trunc(v.get<double>());
    if (!std::isfinite(t) || t < static_cast<double>(lo) || t >= -static_cast<double>(lo)) {
      wrong_scalar(v, type);
    }
    v = static_cast<std::int64_t>(t);
    return;
  }
  wrong_scalar(v, type);
}

void conform_float(ShapeType type, Value& v) {
  if (v.is_number()) {
    return;
  }
  // JSON has no literal for these; the AWS protocols send them as strings.
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "NaN") {
      v = std::numeric_limits<double>::quiet_NaN();
      return;
    }
    if (s == "Infinity") {
      v = std::numeric_limits<double>::infinity();
      return;
    }
    if (s == "-Infinity") {
      v = -std::numeric_limits<double>::infinity();
      return;
    }
  }
  wrong_scalar(v, type);
}

void conform_blob(Value& v) {
  if (v.is_binary()) {
    return;
  }
  if (!v.is_string()) {
    wrong_scalar(v, ShapeType::kBlob);
  }
  auto bytes = decode_base64(v.get_ref<const std::string&>());
  v = Value::binary(std::move(bytes));
}

void conform_timestamp(Value& v, Wire wire) {
  if (v.is_number()) {
    if (wire == Wire::kJson) {
      return;
    }
    if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX)) {
      const auto ms = v.get<std::int64_t>();
      if (ms % 1000 == 0) {
        v = ms / 1000;
      } else {
        v = static_cast<double>(ms) / 1000.0;
      }
      return;
    }
    v = seconds_value(v.get<double>() / 1000.0);
    return;
  }
  if (v.is_string()) {
    if (auto seconds = iso8601_seconds(v.get_ref<const std::string&>())) {
      v = seconds_value(*seconds);
      return;
    }
  }
  wrong_scalar(v, ShapeType::kTimestamp);
}

void conform(const Shape& shape, Value& v, Wire wire) {
  if (shape.document) {
    return;
  }
  switch (shape.type) {
    case ShapeType::kStructure:
    case ShapeType::kUnion:
      conform_structure(shape, v, wire);
      return;
    case ShapeType::kList:
      if (!v.is_array()) {
        fail(v.is_object() ? std::string(kStartOfStructure) : std::string("Expected list or null"));
      }
      if (shape.member.shape != nullptr) {
        for (auto& item : v.get_ref<Value::array_t&>()) {
          if (!item.is_null()) {
            conform(*shape.member.shape, item, wire);
          }
        }
      }
      return;
    case ShapeType::kMap:
      if (!v.is_object()) {
        fail(v.is_array() ? std::string(kStartOfList) : std::string("Expected map or null"));
      }
      if (shape.value.shape != nullptr) {
        for (auto& entry : v.get_ref<Value::object_t&>()) {
          if (!entry.second.is_null()) {
            conform(*shape.value.shape, entry.second, wire);
          }
        }
      }
      return;
    case ShapeType::kString:
      if (!v.is_string()) {
        wrong_scalar(v, shape.type);
      }
      return;
    case ShapeType::kBoolean:
      if (!v.is_boolean()) {
        wrong_scalar(v, shape.type);
      }
      return;
    case ShapeType::kInteger:
    case ShapeType::kLong:
      conform_integer(shape.type, v);
      return;
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kBigDecimal:
      conform_float(shape.type, v);
      return;
    case ShapeType::kBlob:
      conform_blob(v);
      return;
    case ShapeType::kTimestamp:
      conform_timestamp(v, wire);
      return;
  }
}

}  // namespace

void conform_input(const Shape* input, Value& value, Wire wire) {
  if (value.is_null()) {
    value = Value::object();
  }
  if (input == nullptr) {
    if (!value.is_object()) {
      fail(value.is_array() ? std::string(kStartOfList) : std::string("Expected null"));
    }
    value = Value::object();
    return;
  }
  conform_structure(*input, value, wire);
}

TimestampFormat timestamp_format(const Member& member) {
  if (member.timestamp_format != TimestampFormat::kDefault) {
    return member.timestamp_format;
  }
  return member.shape != nullptr ? member.shape->timestamp_format : TimestampFormat::kDefault;
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty() || !(text[0] == '-' || (text[0] >= '0' && text[0] <= '9'))) {
    return std::nullopt;  // from_chars would take "inf" and "nan"
  }
  if (text[0] == '-' && (text.size() < 2 || text[1] < '0' || text[1] > '9')) {
    return std::nullopt;
  }
  double d = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return d;
}

std::optional<double> timestamp_seconds(const Value& value) {
  if (value.is_number()) {
    return value.get<double>();
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (auto iso = iso8601_seconds(s)) {
      return iso;
    }
    return parse_number(s);
  }
  return std::nullopt;
}

bool blob_bytes(const Value& value, const std::uint8_t*& data, std::size_t& size) {
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    data = bytes.data();
    size = bytes.size();
    return true;
  }
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    data = reinterpret_cast<const std::uint8_t*>(s.data());
    size = s.size();
    return true;
  }
  return false;
}

}  // namespace walk

// --- decode ---------------------------------------------------------------------------------------

namespace {

/// A JSON (RFC 8259) reader building the generic value. nlohmann's own parser goes through its
/// lexer a character at a time and copies every string once more into the DOM: 4.4 ms for a
/// 256 KiB MessageBody, where this one scans strings eight bytes at a time and builds each
/// std::string once. Containers nest at most kMaxDepth deep, so its recursion (and the walk's, and
/// the destructor's) stays bounded whatever the body.
class JsonReader {
 public:
  explicit JsonReader(std::string_view body)
      : p_(reinterpret_cast<const unsigned char*>(body.data())), end_(p_ + body.size()) {}

  void document(Value& out) {
    if (end_ - p_ >= 3 && p_[0] == 0xEF && p_[1] == 0xBB && p_[2] == 0xBF) {
      p_ += 3;  // a UTF-8 byte order mark, which nlohmann's parser skipped too
    }
    value(out, 0);
    skip_space();
    if (p_ != end_) {
      malformed();
    }
  }

 private:
  [[noreturn]] static void malformed() { walk::fail(""); }

  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
      ++p_;
    }
  }

  void literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) {
      malformed();
    }
    p_ += word.size();
  }

  void enter(int depth) {
    if (depth + 1 > walk::kMaxDepth) {
      walk::fail("Request body nests deeper than " + std::to_string(walk::kMaxDepth) + " levels");
    }
  }

  void value(Value& out, int depth) {
    skip_space();
    if (p_ == end_) {
      malformed();
    }
    switch (*p_) {
      case '{': {
        enter(depth);
        ++p_;
        out = Value::object();
        auto& members = out.get_ref<Value::object_t&>();
        skip_space();
        if (p_ < end_ && *p_ == '}') {
          ++p_;
          return;
        }
        for (;;) {
          skip_space();
          if (p_ == end_ || *p_ != '"') {
            malformed();
          }
          std::string key = string();
          skip_space();
          if (p_ == end_ || *p_ != ':') {
            malformed();
          }
          ++p_;
          value(members[std::move(key)], depth + 1);  // a repeated key: the last one wins
          skip_space();
          if (p_ == end_) {
            malformed();
          }
          if (*p_ == ',') {
            ++p_;
            continue;
          }
          if (*p_ != '}') {
            malformed();
          }
          ++p_;
          return;
        }
      }
      case '[': {
        enter(depth);
        ++p_;
        out = Value::array();
        auto& items = out.get_ref<Value::array_t&>();
        skip_space();
        if (p_ < end_ && *p_ == ']') {
          ++p_;
          return;
        }
        for (;;) {
          items.emplace_back();
          value(items.back(), depth + 1);
          skip_space();
          if (p_ == end_) {
            malformed();
          }
          if (*p_ == ',') {
            ++p_;
            continue;
          }
          if (*p_ != ']') {
            malformed();
          }
          ++p_;
          return;
        }
      }
      case '"':
        out = string();
        return;
      case 't':
        literal("true");
        out = true;
        return;
      case 'f':
        literal("false");
        out = false;
        return;
      case 'n':
        literal("null");
        out = nullptr;
        return;
      default:
        number(out);
        return;
    }
  }

  /// Whether any of the 8 bytes is '"', '\\', a control character or not ASCII. May say yes
  /// wrongly next to such a byte (the per-byte loop decides), never no wrongly.
  static bool special_in(std::uint64_t w) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    const std::uint64_t quote = w ^ (kOnes * '"');
    const std::uint64_t backslash = w ^ (kOnes * '\\');
    const std::uint64_t has_quote = (quote - kOnes) & ~quote;
    const std::uint64_t has_backslash = (backslash - kOnes) & ~backslash;
    const std::uint64_t has_control = w - kOnes * 0x20;
    return ((has_quote | has_backslash | has_control | w) & kHighs) != 0;
  }

  std::string string() {
    ++p_;  // opening quote
    std::string out;
    const unsigned char* run = p_;
    for (;;) {
      while (end_ - p_ >= 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, p_, 8);
        if (special_in(w)) {
          break;
        }
        p_ += 8;
      }
      if (p_ == end_) {
        malformed();
      }
      const unsigned char c = *p_;
      if (c == '"') {
        out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p_ - run));
        ++p_;
        return out;
      }
      if (c < 0x20) {
        malformed();
      }
      if (c >= 0x80) {
        char32_t cp = 0;
        if (!walk::next_code_point(p_, end_, cp)) {
          malformed();
        }
        continue;
      }
      if (c != '\\') {
        ++p_;
        continue;
      }
      out.append(reinterpret_cast<const char*>(run), static_cast<std::size_t>(p_ - run));
      ++p_;
      escape(out);
      run = p_;
    }
  }

  std::uint32_t hex4() {
    if (end_ - p_ < 4) {
      malformed();
    }
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const unsigned char d = *p_++;
      v <<= 4;
      if (d >= '0' && d <= '9') {
        v |= d - '0';
      } else if (d >= 'a' && d <= 'f') {
        v |= d - 'a' + 10;
      } else if (d >= 'A' && d <= 'F') {
        v |= d - 'A' + 10;
      } else {
        malformed();
      }
    }
    return v;
  }

  void escape(std::string& out) {
    if (p_ == end_) {
      malformed();
    }
    const unsigned char e = *p_++;
    switch (e) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default: malformed();
    }
    char32_t cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      malformed();  // a low surrogate without its high half
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') {
        malformed();
      }
      p_ += 2;
      const char32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) {
        malformed();
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    utf8::append_utf8(out, cp);
  }

  static bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

  /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?: integers as int64 (uint64 above its range, a
  /// double beyond that, as nlohmann does), everything else a double.
  void number(Value& out) {
    const unsigned char* start = p_;
    if (p_ < end_ && *p_ == '-') {
      ++p_;
    }
    if (p_ == end_ || !digit(*p_)) {
      malformed();
    }
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && digit(*p_)) {
        ++p_;
      }
    }
    bool integral = true;
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ == end_ || !digit(*p_)) {
        malformed();
      }
      while (p_ < end_ && digit(*p_)) {
        ++p_;
      }
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) {
        ++p_;
      }
      if (p_ == end_ || !digit(*p_)) {
        malformed();
      }
      while (p_ < end_ && digit(*p_)) {
        ++p_;
      }
    }
    const char* first = reinterpret_cast<const char*>(start);
    const char* last = reinterpret_cast<const char*>(p_);
    if (integral) {
      if (*first == '-') {
        std::int64_t n = 0;
        if (auto [at, ec] = std::from_chars(first, last, n); ec == std::errc() && at == last) {
          out = n;
          return;
        }
      } else {
        std::uint64_t n = 0;
        if (auto [at, ec] = std::from_chars(first, last, n); ec == std::errc() && at == last) {
          if (n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            out = static_cast<std::int64_t>(n);
          } else {
            out = n;
          }
          return;
        }
      }
    }
    double d = 0;
    auto [at, ec] = std::from_chars(first, last, d);
    if (ec == std::errc::result_out_of_range) {
      // from_chars leaves `d` alone here; strtod gives the infinity or zero nlohmann would.
      d = std::strtod(std::string(first, last).c_str(), nullptr);
    } else if (ec != std::errc() || at != last) {
      malformed();
    }
    out = d;
  }

  const unsigned char* p_;
  const unsigned char* const end_;
};

}  // namespace

Value decode_json(const model::Shape* input, std::string_view body) {
  Value value;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    value = Value::object();
  } else {
    JsonReader(body).document(value);
  }
  walk::conform_input(input, value, walk::Wire::kJson);
  return value;
}

// --- encode ---------------------------------------------------------------------------------------

namespace {

using model::Shape;
using model::ShapeType;
using model::TimestampFormat;

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void value(const Shape& shape, const Value& v, TimestampFormat format) {
    if (shape.document) {
      raw(v);
      return;
    }
    switch (shape.type) {
      case ShapeType::kStructure:
      case ShapeType::kUnion:
        structure(shape, v);
        return;
      case ShapeType::kList:
        list(shape, v);
        return;
      case ShapeType::kMap:
        map(shape, v);
        return;
      case ShapeType::kString:
        if (v.is_string()) {
          string(v.get_ref<const std::string&>());
        } else if (v.is_number() || v.is_boolean()) {
          string(v.dump());
        } else {
          raw(v);
        }
        return;
      case ShapeType::kInteger:
      case ShapeType::kLong:
        integer(v);
        return;
      case ShapeType::kFloat:
      case ShapeType::kDouble:
      case ShapeType::kBigDecimal:
        floating(v);
        return;
      case ShapeType::kBoolean:
        boolean(v);
        return;
      case ShapeType::kBlob: {
        const std::uint8_t* data = nullptr;
        std::size_t size = 0;
        if (walk::blob_bytes(v, data, size)) {
          out_ += '"';
          json_text::append_base64(out_, data, size);
          out_ += '"';
        } else {
          raw(v);
        }
        return;
      }
      case ShapeType::kTimestamp:
        timestamp(v, format);
        return;
    }
  }

  void structure(const Shape& shape, const Value& v) {
    if (!v.is_object()) {
      raw(v);
      return;
    }
    out_ += '{';
    bool first = true;
    for (const auto& member : shape.members) {
      auto it = v.find(member.name);
      if (it == v.end() || it->is_null() || member.shape == nullptr) {
        continue;
      }
      if (!first) {
        out_ += ',';
      }
      first = false;
      string(member.wire_name());
      out_ += ':';
      value(*member.shape, *it, walk::timestamp_format(member));
    }
    out_ += '}';
  }

 private:
  void list(const Shape& shape, const Value& v) {
    if (!v.is_array() || shape.member.shape == nullptr) {
      raw(v);
      return;
    }
    const auto format = walk::timestamp_format(shape.member);
    out_ += '[';
    bool first = true;
    for (const auto& item : v) {
      if (!first) {
        out_ += ',';
      }
      first = false;
      if (item.is_null()) {
        out_ += "null";
      } else {
        value(*shape.member.shape, item, format);
      }
    }
    out_ += ']';
  }

  void map(const Shape& shape, const Value& v) {
    if (!v.is_object() || shape.value.shape == nullptr) {
      raw(v);
      return;
    }
    const auto format = walk::timestamp_format(shape.value);
    out_ += '{';
    bool first = true;
    for (const auto& [key, item] : v.items()) {
      if (item.is_null()) {
        continue;
      }
      if (!first) {
        out_ += ',';
      }
      first = false;
      string(key);
      out_ += ':';
      value(*shape.value.shape, item, format);
    }
    out_ += '}';
  }

  void integer(const Value& v) {
    if (v.is_number_unsigned()) {
      append_int(v.get<std::uint64_t>());
    } else if (v.is_number_integer()) {
      append_int(v.get<std::int64_t>());
    } else if (v.is_number_float()) {
      whole_or_number(v.get<double>());
    } else if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (auto n = walk::parse_number(s)) {
        whole_or_number(*n);
      } else {
        string(s);
      }
    } else {
      raw(v);
    }
  }

  void floating(const Value& v) {
    if (v.is_number_unsigned()) {
      append_int(v.get<std::uint64_t>());
    } else if (v.is_number_integer()) {
      append_int(v.get<std::int64_t>());
    } else if (v.is_number_float()) {
      number(v.get<double>());
    } else if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (auto n = walk::parse_number(s)) {
        number(*n);
      } else {
        string(s);  // "NaN", "Infinity" are already in wire form
      }
    } else {
      raw(v);
    }
  }

  void boolean(const Value& v) {
    if (v.is_boolean()) {
      out_ += v.get<bool>() ? "true" : "false";
    } else if (v.is_string() && walk::boolean_text(v.get_ref<const std::string&>())) {
      out_ += v.get_ref<const std::string&>();
    } else {
      raw(v);
    }
  }

  void timestamp(const Value& v, TimestampFormat format) {
    if (format == TimestampFormat::kDefault || format == TimestampFormat::kUnix) {
      if (v.is_number_integer()) {
        integer(v);
        return;
      }
    }
    auto seconds = walk::timestamp_seconds(v);
    if (!seconds || !std::isfinite(*seconds)) {
      raw(v);
      return;
    }
    if (std::fabs(*seconds) >= walk::kCalendarLimitSeconds) {
      number(*seconds);
      return;
    }
    const auto split = timestamps::round_to_millis(*seconds);
    char text[timestamps::kTextCapacity];
    switch (format) {
      case TimestampFormat::kIso8601:
        string(timestamps::format_iso8601(text, split.seconds, split.millis, timestamps::Millis::kIfAny));
        return;
      case TimestampFormat::kRfc822:
        string(timestamps::format_rfc822(text, split.seconds));
        return;
      default:
        epoch_seconds(*seconds);
        return;
    }
  }

  void epoch_seconds(double seconds) { json_text::append_epoch_seconds(out_, seconds); }

  void whole_or_number(double d) {
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18) {
      append_int(static_cast<std::int64_t>(d));
    } else {
      number(d);
    }
  }

  void number(double d) {
    if (std::isnan(d)) {
      out_ += "\"NaN\"";
    } else if (std::isinf(d)) {
      out_ += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
      out_.append(buf, end);
    }
  }

  template <class Int>
  void append_int(Int n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out_.append(buf, end);
  }

  void string(std::string_view s) { json_text::append_string(out_, s); }

  void raw(const Value& v) { out_ += v.dump(-1, ' ', false, Value::error_handler_t::replace); }

  std::string& out_;
};

/// About how many bytes `v` takes as JSON (blobs as base64, strings before escaping). The writer
/// reserves it once: grown through every power of two instead, a 10 MiB GetRecords answer was
/// copied twice over into fresh pages, and faulting those in took a fifth of a drain's CPU.
std::size_t json_size_hint(const Value& v, int depth) {
  if (depth > walk::kMaxDepth) {
    return 0;
  }
  std::size_t n = 0;
  if (v.is_object()) {
    n = 2;
    for (const auto& [key, member] : v.get_ref<const Value::object_t&>()) {
      n += key.size() + 4 + json_size_hint(member, depth + 1);
    }
  } else if (v.is_array()) {
    n = 2;
    for (const auto& item : v.get_ref<const Value::array_t&>()) {
      n += 1 + json_size_hint(item, depth + 1);
    }
  } else if (v.is_string()) {
    n = v.get_ref<const std::string&>().size() + 2;
  } else if (v.is_binary()) {
    n = (v.get_binary().size() + 2) / 3 * 4 + 2;
  } else {
    n = 24;  // a number, boolean or null
  }
  return n;
}

}  // namespace

std::string encode_json(const model::Shape* output, const Value& value) {
  if (output == nullptr || !value.is_object()) {
    return "{}";
  }
  std::string out;
  out.reserve(json_size_hint(value, 0));
  JsonWriter(out).structure(*output, value);
  return out;
}

}  // namespace fogbank::protocol::codec
