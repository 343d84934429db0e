#include "fogbank/protocol/xml_writer.hpp"

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
      default: out += c;
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
