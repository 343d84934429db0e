#pragma once
// Client JSON documents (filter policies) read and written the way SNS's Java parser (Jackson)
// does, so that error messages carry the same text and positions as AWS's:
//  - parse(): a depth-limited reader keeping object member order, whose errors are Jackson's
//    ("Unexpected character ('i' (code 105)): was expecting double-quote to start field name")
//    with the line and column Jackson reports;
//  - Compact: the document re-serialised without whitespace (what AWS quotes in rule errors), with
//    the byte span of every value, so a rule error can name the column Jackson's streaming parser
//    was at when the rule compiler gave up.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace fogbank::sns::jsondoc {

using Doc = nlohmann::ordered_json;

struct ParseError {
  std::string message;  ///< Jackson's wording, without the location
  std::size_t line = 1;
  std::size_t column = 1;
};

/// Parses `text`; on failure returns nullopt and fills `error`. Nesting deeper than `max_depth`
/// fails with message "too deep". Content after the first complete value is ignored, as
/// Jackson's ObjectMapper.readTree does.
std::optional<Doc> parse(std::string_view text, std::size_t max_depth, ParseError& error);

/// Where a value sits in the compact text: [start, end).
struct Span {
  std::size_t start = 0;
  std::size_t end = 0;
};

/// The compact serialisation of a document and the span of each of its values (keyed by the
/// value's address, so the Doc must outlive it and stay unmodified).
class Compact {
 public:
  explicit Compact(const Doc& doc);
  [[nodiscard]] const std::string& text() const { return text_; }
  [[nodiscard]] Span span(const Doc& value) const { return spans_.at(&value); }
  /// Jackson's position right after it read the first token of `value` (the opening quote of a
  /// string, the bracket of a container, the whole of a number or literal).
  [[nodiscard]] std::size_t head(const Doc& value) const;
  /// Position after the whole value.
  [[nodiscard]] std::size_t after(const Doc& value) const { return span(value).end; }
  /// "\n at [Source: (String)"<text>"; line: 1, column: <pos + 1>]" (long texts truncated as
  /// Jackson does).
  [[nodiscard]] std::string location(std::size_t pos) const;

 private:
  void write(const Doc& value);
  std::string text_;
  std::unordered_map<const Doc*, Span> spans_;
};

/// A JSON string literal with Jackson's escaping (short escapes, \u00XX upper-case, UTF-8 kept).
void append_quoted(std::string& out, std::string_view text);
/// A double as Java's Double.toString writes it ("100.0", "1.5E-7").
std::string java_double(double v);

}  // namespace fogbank::sns::jsondoc
