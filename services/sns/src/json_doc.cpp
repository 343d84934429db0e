#include "json_doc.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "fogbank/protocol/utf8.hpp"

namespace fogbank::sns::jsondoc {

namespace {

constexpr std::string_view kValueList = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
constexpr std::string_view kRedacted = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)";

struct Failure {};

bool is_identifier_part(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         c > 0x7F;
}

/// Reads one document. Positions follow Jackson's reader: an error is reported after the
/// offending character was consumed, as a column counted from the start of its line.
class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth, ParseError& error)
      : s_(text), max_depth_(max_depth), error_(error) {}

  std::optional<Doc> run() {
    try {
      if (skip_ws() < 0) {
        error_ = {"No content to map due to end-of-input", line_, pos_ - line_start_ + 1};
        return std::nullopt;
      }
      Doc doc;
      value(doc, 0);
      return doc;
    } catch (const Failure&) {
      return std::nullopt;
    }
  }

 private:
  [[noreturn]] void fail(std::string message) {
    error_ = {std::move(message), line_, pos_ - line_start_};
    throw Failure{};
  }

  /// The character at pos_ as Jackson describes it; consumes it.
  std::string take_char_desc() {
    const auto* p = reinterpret_cast<const unsigned char*>(s_.data() + pos_);
    const auto* end = reinterpret_cast<const unsigned char*>(s_.data() + s_.size());
    char32_t cp = *p;
    std::size_t width = 1;
    if (const auto* q = p; cp >= 0x80 && protocol::utf8::next_code_point(q, end, cp)) {
      width = static_cast<std::size_t>(q - p);
    }
    pos_ += width;
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      return "(CTRL-CHAR, code " + std::to_string(cp) + ")";
    }
    std::string glyph;
    protocol::utf8::append_utf8(glyph, cp);
    std::string desc = "'" + glyph + "' (code " + std::to_string(cp);
    if (cp > 255) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%x", static_cast<unsigned>(cp));
      desc += std::string(" / 0x") + hex;
    }
    return desc + ")";
  }

  [[noreturn]] void unexpected(std::string_view what) { fail("Unexpected character (" + take_char_desc() + "): " + std::string(what)); }

  [[noreturn]] void eof(std::string_view what) { fail("Unexpected end-of-input: " + std::string(what)); }

  [[noreturn]] void invalid_token(std::string part) {
    // Jackson gathers the rest of the word and consumes the character that ended it.
    while (pos_ < s_.size()) {
      const auto* p = reinterpret_cast<const unsigned char*>(s_.data() + pos_);
      const auto* end = reinterpret_cast<const unsigned char*>(s_.data() + s_.size());
      char32_t cp = *p;
      const auto* q = p;
      if (cp >= 0x80 && !protocol::utf8::next_code_point(q, end, cp)) {
        ++pos_;
        break;
      }
      std::size_t width = cp >= 0x80 ? static_cast<std::size_t>(q - p) : 1;
      pos_ += width;
      if (!is_identifier_part(cp)) {
        break;
      }
      part.append(s_.substr(pos_ - width, width));
    }
    fail("Unrecognized token '" + part + "': was expecting " + std::string(kValueList));
  }

  int skip_ws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return static_cast<unsigned char>(c);
      }
      ++pos_;
    }
    return -1;
  }

  std::string marker(std::size_t line, std::size_t column) {
    return "(start marker at [Source: " + std::string(kRedacted) + "; line: " + std::to_string(line) +
           ", column: " + std::to_string(column) + "])";
  }

  void value(Doc& out, std::size_t depth) {
    int c = skip_ws();
    if (c < 0) {
      eof("expected a value");
    }
    switch (c) {
      case '{':
        object(out, depth + 1);
        return;
      case '[':
        array(out, depth + 1);
        return;
      case '"': {
        ++pos_;
        out = string();
        return;
      }
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
        break;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      number(out);
      return;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s_.data() + pos_);
    const auto* end = reinterpret_cast<const unsigned char*>(s_.data() + s_.size());
    char32_t cp = static_cast<char32_t>(c);
    if (const auto* q = p; cp >= 0x80) {
      protocol::utf8::next_code_point(q, end, cp);
    }
    if (is_identifier_part(cp) && !(cp >= '0' && cp <= '9')) {
      invalid_token("");
    }
    unexpected("expected a valid value " + std::string(kValueList));
  }

  void literal(std::string_view word) {
    std::size_t i = 0;
    while (i < word.size() && pos_ < s_.size() && s_[pos_] == word[i]) {
      ++pos_;
      ++i;
    }
    if (i < word.size()) {
      invalid_token(std::string(word.substr(0, i)));
    }
    // "trueish" is one unrecognised token to Jackson, not "true" followed by garbage.
    if (pos_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (is_identifier_part(c)) {
        invalid_token(std::string(word));
      }
    }
  }

  void number(Doc& out) {
    const std::size_t start = pos_;
    bool integral = true;
    if (s_[pos_] == '-') {
      ++pos_;
      if (pos_ >= s_.size()) {
        eof("expected digit (0-9) to follow minus sign, for valid numeric value");
      }
      if (s_[pos_] < '0' || s_[pos_] > '9') {
        fail("Unexpected character (" + take_char_desc() +
             ") in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value");
      }
    }
    if (s_[pos_] == '0' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9') {
      pos_ += 2;
      fail("Invalid numeric value: Leading zeroes not allowed");
    }
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
        if (pos_ >= s_.size()) {
          eof("Decimal point not followed by a digit");
        }
        fail("Unexpected character (" + take_char_desc() + ") in numeric value: Decimal point not followed by a digit");
      }
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        ++pos_;
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') {
        if (pos_ >= s_.size()) {
          eof("Exponent indicator not followed by a digit");
        }
        fail("Unexpected character (" + take_char_desc() +
             ") in numeric value: Exponent indicator not followed by a digit");
      }
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        ++pos_;
      }
    }
    std::string_view literal = s_.substr(start, pos_ - start);
    if (integral) {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), v);
      if (ec == std::errc() && end == literal.data() + literal.size()) {
        out = v;
        return;
      }
    }
    double d = 0;
    std::from_chars(literal.data(), literal.data() + literal.size(), d);
    out = d;
  }

  unsigned hex_digit() {
    if (pos_ >= s_.size()) {
      eof("was expecting closing quote for a string value");
    }
    char c = s_[pos_];
    if (c >= '0' && c <= '9') {
      ++pos_;
      return static_cast<unsigned>(c - '0');
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      ++pos_;
      return static_cast<unsigned>((c | 0x20) - 'a' + 10);
    }
    unexpected("expected a hex-digit for character escape sequence");
  }

  /// After the opening quote; consumes the closing one.
  std::string string() {
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) {
        eof("was expecting closing quote for a string value");
      }
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) {
        fail("Illegal unquoted character (" + take_char_desc() +
             "): has to be escaped using backslash to be included in string value");
      }
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) {
        eof("was expecting closing quote for a string value");
      }
      char e = s_[pos_];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          ++pos_;
          break;
        case 'b':
          out.push_back('\b');
          ++pos_;
          break;
        case 'f':
          out.push_back('\f');
          ++pos_;
          break;
        case 'n':
          out.push_back('\n');
          ++pos_;
          break;
        case 'r':
          out.push_back('\r');
          ++pos_;
          break;
        case 't':
          out.push_back('\t');
          ++pos_;
          break;
        case 'u': {
          ++pos_;
          unsigned cp = 0;
          for (int i = 0; i < 4; ++i) {
            cp = (cp << 4) | hex_digit();
          }
          // Surrogate pairs combine; a lone surrogate becomes U+FFFD (UTF-8 cannot carry it).
          if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
            pos_ += 2;
            unsigned low = 0;
            for (int i = 0; i < 4; ++i) {
              low = (low << 4) | hex_digit();
            }
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              protocol::utf8::append_utf8(out, 0xFFFD);
              cp = low;
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
          }
          protocol::utf8::append_utf8(out, cp);
          break;
        }
        default:
          fail("Unrecognized character escape " + take_char_desc());
      }
    }
  }

  void object(Doc& out, std::size_t depth) {
    if (depth > max_depth_) {
      error_ = {"too deep", line_, pos_ - line_start_ + 1};
      throw Failure{};
    }
    const std::size_t open_line = line_;
    const std::size_t open_column = pos_ - line_start_ + 1;
    ++pos_;
    out = Doc::object();
    int c = skip_ws();
    if (c == '}') {
      ++pos_;
      return;
    }
    while (true) {
      if (c < 0) {
        eof("expected close marker for Object " + marker(open_line, open_column));
      }
      if (c != '"') {
        unexpected("was expecting double-quote to start field name");
      }
      ++pos_;
      std::string name = string();
      c = skip_ws();
      if (c < 0) {
        eof("expected close marker for Object " + marker(open_line, open_column));
      }
      if (c != ':') {
        unexpected("was expecting a colon to separate field name and value");
      }
      ++pos_;
      Doc member;
      value(member, depth);
      out[name] = std::move(member);  // a repeated name keeps its first place, last value (Jackson)
      c = skip_ws();
      if (c == '}') {
        ++pos_;
        return;
      }
      if (c < 0) {
        eof("expected close marker for Object " + marker(open_line, open_column));
      }
      if (c != ',') {
        unexpected("was expecting comma to separate Object entries");
      }
      ++pos_;
      c = skip_ws();
    }
  }

  void array(Doc& out, std::size_t depth) {
    if (depth > max_depth_) {
      error_ = {"too deep", line_, pos_ - line_start_ + 1};
      throw Failure{};
    }
    const std::size_t open_line = line_;
    const std::size_t open_column = pos_ - line_start_ + 1;
    ++pos_;
    out = Doc::array();
    int c = skip_ws();
    if (c == ']') {
      ++pos_;
      return;
    }
    while (true) {
      if (c < 0) {
        eof("expected close marker for Array " + marker(open_line, open_column));
      }
      Doc item;
      value(item, depth);
      out.push_back(std::move(item));
      c = skip_ws();
      if (c == ']') {
        ++pos_;
        return;
      }
      if (c < 0) {
        eof("expected close marker for Array " + marker(open_line, open_column));
      }
      if (c != ',') {
        unexpected("was expecting comma to separate Array entries");
      }
      ++pos_;
      c = skip_ws();
    }
  }

  std::string_view s_;
  std::size_t max_depth_;
  ParseError& error_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t line_start_ = 0;
};

}  // namespace

std::optional<Doc> parse(std::string_view text, std::size_t max_depth, ParseError& error) {
  return Parser(text, max_depth, error).run();
}

void append_quoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('"');
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string java_double(double v) {
  if (v == 0) {
    return std::signbit(v) ? "-0.0" : "0.0";
  }
  // Shortest round-trip digits, then Java's layout: plain for 1e-3 <= |v| < 1e7, else d.dddE<n>.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) {
    sci.erase(0, 1);
  }
  auto e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  int exponent = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') {
      digits.push_back(c);
    }
  }
  std::string out = negative ? "-" : "";
  double mag = std::fabs(v);
  if (mag >= 1e-3 && mag < 1e7) {
    if (exponent >= 0) {
      std::size_t int_len = static_cast<std::size_t>(exponent) + 1;
      if (digits.size() <= int_len) {
        out += digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    } else {
      out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0") + "E" + std::to_string(exponent);
  return out;
}

Compact::Compact(const Doc& doc) { write(doc); }

void Compact::write(const Doc& value) {
  Span span;
  span.start = text_.size();
  switch (value.type()) {
    case Doc::value_t::object: {
      text_.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) {
          text_.push_back(',');
        }
        first = false;
        append_quoted(text_, key);
        text_.push_back(':');
        write(member);
      }
      text_.push_back('}');
      break;
    }
    case Doc::value_t::array: {
      text_.push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) {
          text_.push_back(',');
        }
        first = false;
        write(item);
      }
      text_.push_back(']');
      break;
    }
    case Doc::value_t::string:
      append_quoted(text_, value.get_ref<const std::string&>());
      break;
    case Doc::value_t::number_integer:
      text_ += std::to_string(value.get<std::int64_t>());
      break;
    case Doc::value_t::number_unsigned:
      text_ += std::to_string(value.get<std::uint64_t>());
      break;
    case Doc::value_t::number_float:
      text_ += java_double(value.get<double>());
      break;
    case Doc::value_t::boolean:
      text_ += value.get<bool>() ? "true" : "false";
      break;
    default:
      text_ += "null";
      break;
  }
  span.end = text_.size();
  spans_[&value] = span;
}

std::size_t Compact::head(const Doc& value) const {
  auto s = span(value);
  if (value.is_string() || value.is_object() || value.is_array()) {
    return s.start + 1;
  }
  return s.end;
}

std::string Compact::location(std::size_t pos) const {
  // Jackson quotes at most 500 characters of the source and says how many it left out.
  constexpr std::size_t kMaxQuoted = 500;
  std::string source = "(String)\"";
  if (text_.size() > kMaxQuoted) {
    source += text_.substr(0, kMaxQuoted) + "\"[truncated " + std::to_string(text_.size() - kMaxQuoted) + " chars]";
  } else {
    source += text_ + "\"";
  }
  return "\n at [Source: " + source + "; line: 1, column: " + std::to_string(pos + 1) + "]";
}

}  // namespace fogbank::sns::jsondoc
