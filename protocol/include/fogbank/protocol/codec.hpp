#pragma once
// Model-driven codecs: one per wire protocol, shared by every service that speaks it. They turn
// a request's wire form into a neutral value checked against the operation's input shape, and an
// output value into the wire form of the operation's output shape.
//
// The neutral value is an nlohmann::json, the same for every protocol, so a handler never knows
// which protocol its caller spoke:
//   structure → object keyed by member *name* (not wire name); absent members are absent
//   list → array            map → object (keys are strings)
//   string / enum → string  integer / long → integer   float / double → number   boolean → bool
//   blob → json::binary (raw bytes; base64 exists only on the wire)
//   timestamp → number, seconds since the Unix epoch (integer or fractional)
// Codecs throw AwsError for what the client sent wrong, with the code AWS uses for that protocol
// (JSON: SerializationException; Query: MalformedQueryString / InvalidParameterValue ...).

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "fogbank/protocol/uri.hpp"

namespace fogbank::protocol {
struct AwsError;
namespace model {
struct Shape;
struct Operation;
struct ServiceModel;
}  // namespace model
}  // namespace fogbank::protocol

namespace fogbank::protocol::codec {

using Value = nlohmann::json;

// --- Query (STS, SNS, SQS's legacy form) ------------------------------------------------------

/// Decodes form parameters (Action and Version ignored) into `input`'s value: nested structures
/// ("A.B.C"), lists ("Name.member.N", flattened "Name.N"), maps ("Name.entry.N.key/value",
/// flattened "Name.N.Name/Value" with the model's key/value location names), typed scalars.
/// A null `input` yields an empty object.
Value decode_query(const model::Shape* input, const QueryParams& params);

/// Renders a successful Query response:
///   <OpResponse xmlns=...><OpResult>members in model order</OpResult>
///   <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></OpResponse>
/// The Result element is left out when the operation has no output shape.
std::string encode_query_response(const model::ServiceModel& service, const model::Operation& op,
                                  const Value& output, std::string_view request_id);

// --- JSON 1.0 / 1.1 (SQS, Kinesis, Firehose) -------------------------------------------------

/// Parses a JSON body and checks it against `input` (types; blobs base64-decoded; timestamps as
/// epoch seconds). An empty body is an empty object.
Value decode_json(const model::Shape* input, std::string_view body);
/// Serialises `output` (members the shape does not know are dropped; blobs base64).
std::string encode_json(const model::Shape* output, const Value& value);

// --- CBOR (application/x-amz-cbor-1.1, the Java SDK's default for Kinesis) -------------------

/// Blobs are byte strings; timestamps are CBOR tag 1 over epoch *milliseconds* (the Java SDK's
/// reading of the protocol, which Kinesis' CBOR clients share), converted to and from seconds.
Value decode_cbor(const model::Shape* input, std::string_view body);
std::string encode_cbor(const model::Shape* output, const Value& value);

// --- REST-XML documents (S3 configuration bodies) -------------------------------------------

/// Parses an XML document whose root element is a `shape` structure (its name is not checked).
/// Throws AwsError MalformedXML on anything that is not well-formed or does not fit the shape.
Value decode_xml(const model::Shape& shape, std::string_view body);
/// Writes `value` as a document whose root element is `root_name` (xmlns on it when non-empty).
std::string encode_xml(const model::Shape& shape, const Value& value, std::string_view root_name,
                       std::string_view xmlns);

// --- Validation from the model ----------------------------------------------------------------

/// How a service words constraint violations.
struct ValidationStyle {
  std::string code = "ValidationException";  ///< "ValidationError" (STS), "InvalidParameter" (SNS)
  int status = 400;
  bool check_patterns = true;
  bool check_enums = true;
};

/// Checks required members, min/max (lengths and values), patterns and enums of `value` against
/// `input`, recursively. Throws one AwsError listing the violations the way AWS does:
///   "1 validation error detected: Value 'x y' at 'streamName' failed to satisfy constraint:
///    Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
/// (paths use the member name with a lower-case first letter; "2 validation errors detected: A; B").
void validate(const model::Shape* input, const Value& value, const ValidationStyle& style);

}  // namespace fogbank::protocol::codec
