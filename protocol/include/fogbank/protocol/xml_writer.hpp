#pragma once
// A small forward-only XML writer for AWS response bodies (Query and REST-XML protocols).

#include <string>
#include <string_view>
#include <vector>

namespace fogbank::protocol {

/// Escapes &, <, >, " and ' (and CR, which XML parsers would otherwise normalise away).
std::string xml_escape(std::string_view text);

class XmlWriter {
 public:
  /// Starts with the `<?xml version="1.0" encoding="UTF-8"?>` declaration when `declaration`.
  explicit XmlWriter(bool declaration = true);
  /// Opens <name xmlns="..."> (no attribute when xmlns is empty).
  XmlWriter& open(std::string_view name, std::string_view xmlns = {});
  XmlWriter& close();
  /// <name>escaped text</name>
  XmlWriter& element(std::string_view name, std::string_view text);
  /// Escaped character data inside the element opened last.
  XmlWriter& text(std::string_view text);
  /// Element only when `text` is non-empty.
  XmlWriter& optional(std::string_view name, std::string_view text);
  [[nodiscard]] std::string finish();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

}  // namespace fogbank::protocol
