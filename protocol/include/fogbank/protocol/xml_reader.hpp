#pragma once
// A small, strict XML reader for the request bodies of REST-XML operations (S3's
// CompleteMultipartUpload, Delete, Tagging, CreateBucketConfiguration, ...). Those documents are
// small (capped by the buffered-body limit) and element-only, so a DOM of names and texts is all
// handlers need. Namespace prefixes are dropped from names; attributes are parsed and ignored.
// Entities (the five predefined, &#N; and &#xN;) and CDATA are decoded; DTDs are refused.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbank::protocol {

struct XmlNode {
  std::string name;  ///< local name (no prefix)
  std::string text;  ///< concatenated character data directly inside this element
  std::vector<XmlNode> children;

  /// The first child element called `child_name`, or null.
  [[nodiscard]] const XmlNode* child(std::string_view child_name) const;
  /// The text of the first child called `child_name`, or nullopt when there is none.
  [[nodiscard]] std::optional<std::string> child_text(std::string_view child_name) const;
  /// Every child element called `child_name`, in document order.
  [[nodiscard]] std::vector<const XmlNode*> all(std::string_view child_name) const;
};

/// Parses a whole document and returns its root element; nullopt (with a reason in `error`)
/// when the text is not well-formed.
std::optional<XmlNode> parse_xml(std::string_view text, std::string& error);

}  // namespace fogbank::protocol
