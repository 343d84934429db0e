#pragma once
// The Query protocol face of SQS. Handlers work on the JSON protocol's shapes (botocore's current
// model); these two functions translate a Query request into that shape and a JSON-shaped result
// into the Query XML response, using the Query model's member and location names
// (Attribute.N.Name, SendMessageBatchRequestEntry.N.Id, <Message>, <BatchResultErrorEntry>...).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/uri.hpp"

namespace fogbank::sqs {

/// Form parameters of `action` → the JSON request object. Integers become numbers (throws
/// InvalidParameterValue on a non-integer); BinaryValue stays base64, as in JSON.
nlohmann::json query_to_json(std::string_view action, const protocol::QueryParams& params);

/// A JSON result object of `action` → the complete Query XML response body. Operations without
/// output (DeleteMessage, ...) have no <ActionResult> element.
std::string json_to_query_xml(std::string_view action, const nlohmann::json& result,
                              std::string_view xmlns, std::string_view request_id);

}  // namespace fogbank::sqs
