#pragma once
// The hardened pugixml load every XML body goes through (DTDs refused, references decoded
// strictly, size and depth bounded), shared by the XmlNode reader and the REST-XML codec.
// Private to fogbank_protocol, which keeps pugixml a private dependency.

#include <string>
#include <string_view>

#include <pugixml.hpp>

namespace fogbank::protocol::xml_detail {

/// Parses `text` into `doc`; false (with a reason in `error`) when it is not acceptable XML.
bool load_document(pugi::xml_document& doc, std::string_view text, std::string& error);
/// The name without its namespace prefix ("xsi:type" → "type").
std::string_view local_name(std::string_view qualified);

}  // namespace fogbank::protocol::xml_detail
