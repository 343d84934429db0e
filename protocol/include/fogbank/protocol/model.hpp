#pragma once
// AWS service models (botocore's service-2.json, trimmed copies in protocol/models/) loaded into
// compact C++ structures. They are the single source of operation names, shapes, wire names and
// locations, timestamp formats, constraints and modeled errors for every codec.
//
// Models are embedded in the binary at build time (protocol/models/*.json → a generated source)
// and parsed once, on first use; the returned objects live for the whole process and are
// immutable, so every thread may read them without locks.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fogbank::protocol::model {

enum class ShapeType {
  kStructure, kList, kMap, kString, kInteger, kLong, kBoolean, kFloat, kDouble, kBlob, kTimestamp,
  kBigDecimal, kUnion
};

/// "iso8601", "unixTimestamp" or "rfc822": which one applies is the member's, else the shape's,
/// else the protocol's default.
enum class TimestampFormat { kDefault, kIso8601, kUnix, kRfc822 };

struct Shape;

/// A structure member, a list's member or a map's key/value.
struct Member {
  std::string name;                ///< member name as in the model ("QueueUrl"; empty for list/map parts)
  const Shape* shape = nullptr;
  std::string location;            ///< "", "header", "headers", "querystring", "uri", "statusCode"
  std::string location_name;       ///< wire name (XML element, query key, header), empty: the member name
  std::string xml_namespace_uri;   ///< xmlNamespace.uri on the member
  std::string xml_namespace_prefix;
  bool flattened = false;          ///< member-level flattened (Query/XML lists and maps)
  bool xml_attribute = false;
  bool required = false;           ///< listed in the parent's "required"
  bool idempotency_token = false;
  bool event_payload = false;
  bool host_label = false;
  TimestampFormat timestamp_format = TimestampFormat::kDefault;

  /// The name this member has on the wire: location_name when set, else `name`.
  [[nodiscard]] const std::string& wire_name() const { return location_name.empty() ? name : location_name; }
};

/// A modeled error's trait: Query code, HTTP status and fault ("error" in the model).
struct ErrorTrait {
  std::string code;       ///< empty: the shape name is the code
  int http_status = 400;
  bool sender_fault = true;
};

struct Shape {
  std::string name;
  ShapeType type = ShapeType::kString;
  std::vector<Member> members;     ///< structures and unions, in model order
  Member member;                   ///< lists
  Member key;                      ///< maps
  Member value;                    ///< maps
  bool flattened = false;          ///< shape-level flattened (lists, maps)
  std::optional<double> min;       ///< length (strings, blobs, lists, maps) or value (numbers)
  std::optional<double> max;
  std::string pattern;
  std::vector<std::string> enum_values;
  TimestampFormat timestamp_format = TimestampFormat::kDefault;
  bool exception = false;
  std::optional<ErrorTrait> error;
  std::string payload;             ///< REST: the member that is the whole body
  std::string location_name;       ///< REST-XML: the element name when this shape is a payload
  std::string xml_namespace_uri;
  bool streaming = false;
  bool event_stream = false;
  bool document = false;
  bool sensitive = false;

  /// The structure member called `member_name`, or null.
  [[nodiscard]] const Member* find(std::string_view member_name) const;
  /// The member whose wire name is `wire`, or null.
  [[nodiscard]] const Member* find_wire(std::string_view wire) const;
  [[nodiscard]] bool is_scalar() const {
    return type != ShapeType::kStructure && type != ShapeType::kList && type != ShapeType::kMap &&
           type != ShapeType::kUnion;
  }
};

struct Operation {
  std::string name;
  std::string http_method = "POST";
  std::string request_uri = "/";
  int http_status = 200;           ///< the success status ("responseCode")
  const Shape* input = nullptr;    ///< null: the operation takes no input
  const Shape* output = nullptr;   ///< null: the response has no result element/body
  std::string result_wrapper;      ///< Query: "<Op>Result"
  std::string input_location_name; ///< REST-XML: root element of a structure-payload body
  std::string input_xml_namespace;
  std::vector<const Shape*> errors;
  bool deprecated = false;
};

struct ServiceModel {
  std::string id;                  ///< our name for this model: "sqs", "sqs-query", "sts", ...
  std::string protocol;            ///< "query", "json", "rest-xml", "rest-json", "ec2"
  std::string json_version;        ///< "1.0" / "1.1"
  std::string target_prefix;       ///< X-Amz-Target prefix ("AmazonSQS")
  std::string xml_namespace;       ///< Query/REST-XML response namespace
  std::string signing_name;
  std::string endpoint_prefix;
  std::string api_version;
  std::string service_id;
  bool query_compatible = false;   ///< awsQueryCompatible: JSON errors also carry the Query code
  std::map<std::string, Shape, std::less<>> shapes;
  std::map<std::string, Operation, std::less<>> operations;

  [[nodiscard]] const Operation* operation(std::string_view op_name) const;
  [[nodiscard]] const Shape* shape(std::string_view shape_name) const;
  /// The exception shape whose name or error code is `code`, or null.
  [[nodiscard]] const Shape* error_shape(std::string_view code) const;
};

/// The model called `id` (a file protocol/models/<id>.json embedded at build time). Throws
/// std::out_of_range for an unknown id. Parsed on first use; thread-safe.
const ServiceModel& get(std::string_view id);

/// Parses a (trimmed or full) botocore service-2.json text. Used by get() and by tests.
ServiceModel parse(std::string_view id, std::string_view service_json);

/// Ids of every embedded model.
std::vector<std::string_view> embedded_ids();

}  // namespace fogbank::protocol::model
