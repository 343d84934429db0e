#include "fogbank/protocol/xml_writer.hpp"

#include <cstdio>

namespace fogbank::protocol {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          // Not allowed raw in XML 1.0 (an S3 key may hold one, and may come back in an error's
          // <Key>): written as AWS writes them, lower-case hex without leading zeros.
          char ref[8];
          std::snprintf(ref, sizeof ref, "&#x%x;", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += ref;
        } else {
          out += c;
        }
    }
  }
  return out;
}

XmlWriter::XmlWriter(bool declaration) {
  if (declaration) {
    out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  }
}

XmlWriter& XmlWriter::open(std::string_view name, std::string_view xmlns) {
  out_ += '<';
  out_ += name;
  if (!xmlns.empty()) {
    out_ += " xmlns=\"";
    out_ += xml_escape(xmlns);
    out_ += '"';
  }
  out_ += '>';
  open_.emplace_back(name);
  return *this;
}

XmlWriter& XmlWriter::close() {
  out_ += "</";
  out_ += open_.back();
  out_ += '>';
  open_.pop_back();
  return *this;
}

XmlWriter& XmlWriter::element(std::string_view name, std::string_view text) {
  out_ += '<';
  out_ += name;
  out_ += '>';
  out_ += xml_escape(text);
  out_ += "</";
  out_ += name;
  out_ += '>';
  return *this;
}

XmlWriter& XmlWriter::text(std::string_view text) {
  out_ += xml_escape(text);
  return *this;
}

XmlWriter& XmlWriter::optional(std::string_view name, std::string_view text) {
  if (!text.empty()) {
    element(name, text);
  }
  return *this;
}

std::string XmlWriter::finish() {
  while (!open_.empty()) {
    close();
  }
  return std::move(out_);
}

}  // namespace fogbank::protocol
