#pragma once
// The AWS Query protocol (STS, SNS, the legacy form of SQS): form-encoded parameters in, XML out.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "fogbank/protocol/uri.hpp"
#include "fogbank/protocol/xml_writer.hpp"

namespace fogbank::protocol::query {

/// Parameters of a Query request: the URL's query string followed by the form body
/// (application/x-www-form-urlencoded). Throws AwsError (400 MalformedQueryString) on bad escapes.
QueryParams collect_params(std::string_view raw_query, std::string_view form_body);

/// Turns flattened names into a tree: "Tags.member.2.Key=k" → {"Tags":{"member":{"2":{"Key":"k"}}}}.
/// Leaves are strings. A name that is both a leaf and a prefix keeps the deeper structure.
nlohmann::json to_tree(const QueryParams& params);

/// The elements of a flattened list ("Tags.member.N" or "Attribute.N"), ordered by N, from a
/// to_tree() node; `member` is the list's member name or empty for flat lists.
std::vector<const nlohmann::json*> list_items(const nlohmann::json& tree, std::string_view name,
                                              std::string_view member = "member");

/// Writes a successful Query response:
///   <{Action}Response xmlns=...><{Action}Result>...</{Action}Result>
///   <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></{Action}Response>
/// `result` writes the Result's children; when null the Result element is omitted.
std::string render_response(std::string_view action, std::string_view xmlns,
                            std::string_view request_id,
                            const std::function<void(XmlWriter&)>& result);

}  // namespace fogbank::protocol::query
