#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/utf8.hpp"
#include "fogbank/s3/s3_service.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

std::string iso8601_ms(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string http_date(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  std::string s(text);
  // RFC 7231 IMF-fixdate, then the obsolete RFC 850 form, then ISO 8601 (AWS accepts it too).
  for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                          "%Y-%m-%dT%H:%M:%S"}) {
    std::tm tm{};
    const char* end = strptime(s.c_str(), fmt, &tm);
    if (end != nullptr && (*end == '\0' || *end == '.' || *end == 'Z')) {
      return static_cast<std::int64_t>(timegm(&tm));
    }
  }
  return std::nullopt;
}

std::string quote_etag(std::string_view etag) {
  std::string out;
  out.reserve(etag.size() + 2);
  out += '"';
  out += etag;
  out += '"';
  return out;
}

std::string unquoted(std::string_view etag) {
  while (!etag.empty() && etag.front() == ' ') etag.remove_prefix(1);
  while (!etag.empty() && etag.back() == ' ') etag.remove_suffix(1);
  if (etag.starts_with("W/")) {
    etag.remove_prefix(2);
  }
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto* start = reinterpret_cast<const unsigned char*>(text.data()) + at;
  const auto* p = start;
  char32_t cp = 0;
  if (!protocol::utf8::next_code_point(p, reinterpret_cast<const unsigned char*>(text.data()) + text.size(), cp)) {
    return 0;
  }
  return static_cast<std::size_t>(p - start);
}

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    auto n = utf8_sequence_length(text, i);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

void check_key_encoding(std::string_view key) {
  if (!valid_utf8(key)) {
    throw AwsError("InvalidURI", 400, "Couldn't parse the specified URI.");
  }
}

std::string xml_1_0_text(std::string body) {
  auto needs_work = [](unsigned char c) { return c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'); };
  auto first = std::find_if(body.begin(), body.end(), [&](char c) { return needs_work(static_cast<unsigned char>(c)); });
  if (first == body.end()) {
    return body;  // the common case: plain ASCII text
  }
  std::string out(body.begin(), first);
  out.reserve(body.size() + 16);
  for (std::size_t i = static_cast<std::size_t>(first - body.begin()); i < body.size();) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      // AWS's form: lower-case hex without leading zeros (&#x1; &#x1b;).
      char ref[8];
      std::snprintf(ref, sizeof ref, "&#x%x;", static_cast<unsigned>(c));
      out += ref;
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (auto n = utf8_sequence_length(body, i); n != 0) {
      out.append(body, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no UTF-8 character
      ++i;
    }
  }
  return out;
}

Response xml_response(std::string body, int status) {
  Response r(status, xml_1_0_text(std::move(body)), "application/xml");
  return r;
}

namespace {

const protocol::model::Operation& s3_operation(std::string_view name) {
  const auto* op = protocol::model::get("s3").operation(name);
  if (op == nullptr) {
    throw protocol::errors::internal_failure("S3 model has no operation " + std::string(name));
  }
  return *op;
}

// The member a REST operation's shape names as its whole body, or null.
const protocol::model::Member* payload_member(const protocol::model::Shape* shape) {
  return shape == nullptr || shape->payload.empty() ? nullptr : shape->find(shape->payload);
}

// The document element's local name. Only called on a body the codec has already accepted, so
// all that can come before the root is a BOM, whitespace, comments and processing instructions.
std::string_view root_element_name(std::string_view doc) {
  for (;;) {
    doc.remove_prefix(std::min(doc.find('<'), doc.size()));
    if (doc.starts_with("<?") || doc.starts_with("<!--")) {
      auto end = doc.find(doc[1] == '?' ? "?>" : "-->");
      doc.remove_prefix(std::min(end, doc.size()));
      continue;
    }
    break;
  }
  if (doc.empty()) {
    return {};
  }
  auto name = doc.substr(1, doc.find_first_of(" \t\r\n/>") - 1);
  auto colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

}  // namespace

protocol::codec::Value decode_body_xml(std::string_view operation, std::string_view body) {
  const auto* payload = payload_member(s3_operation(operation).input);
  if (payload == nullptr) {
    throw protocol::errors::internal_failure("S3 operation " + std::string(operation) + " has no payload");
  }
  auto value = protocol::codec::decode_xml(*payload->shape, body);
  // The codec leaves the root to its caller; S3's schema names it.
  if (root_element_name(body) != payload->wire_name()) {
    throw errors::malformed_xml();
  }
  return value;
}

std::string encode_output_xml(std::string_view operation, const protocol::codec::Value& value,
                              std::string_view root) {
  const auto& op = s3_operation(operation);
  if (op.output == nullptr) {
    throw protocol::errors::internal_failure("S3 operation " + std::string(operation) + " has no output");
  }
  if (const auto* payload = payload_member(op.output)) {
    return protocol::codec::encode_xml(*payload->shape, value, payload->wire_name(), kXmlns);
  }
  return protocol::codec::encode_xml(*op.output, value, root, kXmlns);
}

void validate_tags(const NameValues& tags, std::size_t max) {
  if (tags.size() > max) {
    throw AwsError("BadRequest", 400,
                   max == 10 ? "Object tags cannot be greater than 10" : "Bucket tag count cannot be greater than 50");
  }
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto& [k, v] = tags[i];
    if (k.empty() || k.size() > 128) {
      throw AwsError("InvalidTag", 400, "The TagKey you have provided is invalid")
          .with_field("TagKey", k);
    }
    if (v.size() > 256) {
      throw AwsError("InvalidTag", 400, "The TagValue you have provided is invalid")
          .with_field("TagKey", k)
          .with_field("TagValue", v);
    }
    if (k.starts_with("aws:")) {
      throw AwsError("InvalidTag", 400, "Your TagKey cannot be prefixed with aws:")
          .with_field("TagKey", k);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (tags[j].first == k) {
        throw AwsError("InvalidTag", 400, "Cannot provide multiple Tags with the same key")
            .with_field("TagKey", k);
      }
    }
  }
}

NameValues parse_tagging_xml(std::string_view body, std::size_t max) {
  // Bucket and object tagging (and POST's tagging field) share the one Tagging shape.
  auto doc = decode_body_xml("PutObjectTagging", body);
  auto set = doc.find("TagSet");
  if (set == doc.end()) {
    throw errors::malformed_xml();
  }
  NameValues tags;
  for (const auto& tag : *set) {
    auto k = tag.find("Key");
    auto v = tag.find("Value");
    if (k == tag.end() || v == tag.end()) {
      throw errors::malformed_xml();
    }
    tags.emplace_back(k->get<std::string>(), v->get<std::string>());
  }
  validate_tags(tags, max);
  return tags;
}

NameValues parse_tagging_header(std::string_view value) {
  auto params = protocol::parse_query_string(value);
  if (!params) {
    throw errors::invalid_argument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.");
  }
  NameValues tags(params->begin(), params->end());
  validate_tags(tags, 10);
  return tags;
}

Response tagging_response(std::string_view operation, const NameValues& tags) {
  auto set = nlohmann::json::array();
  for (const auto& [k, v] : tags) {
    set.push_back({{"Key", k}, {"Value", v}});
  }
  return xml_response(encode_output_xml(operation, {{"TagSet", std::move(set)}}, "Tagging"));
}

std::string sse_algorithm(const ObjectRecord& o) {
  for (const auto& [name, value] : o.headers) {
    if (name == "x-amz-server-side-encryption") {
      return value;
    }
  }
  return "AES256";
}

void write_owner(protocol::XmlWriter& xml, std::string_view account, std::string_view element) {
  xml.open(element).element("ID", canonical_user_id(account)).element("DisplayName", "webfile").close();
}

void write_checksum_elements(protocol::XmlWriter& xml, std::string_view algorithm,
                             std::string_view value) {
  if (!algorithm.empty() && !value.empty()) {
    xml.element("Checksum" + std::string(algorithm), value);
  }
}

namespace errors {
AwsError no_such_bucket(std::string_view bucket) {
  return AwsError("NoSuchBucket", 404, "The specified bucket does not exist")
      .with_field("BucketName", std::string(bucket));
}
AwsError no_such_key(std::string_view key) {
  return AwsError("NoSuchKey", 404, "The specified key does not exist.").with_field("Key", std::string(key));
}
AwsError no_such_upload(std::string_view upload_id) {
  return AwsError("NoSuchUpload", 404,
                  "The specified upload does not exist. The upload ID may be invalid, or the upload "
                  "may have been aborted or completed.")
      .with_field("UploadId", std::string(upload_id));
}
AwsError access_denied() { return AwsError("AccessDenied", 403, "Access Denied"); }
AwsError invalid_argument(std::string message, std::string_view name, std::string_view value) {
  AwsError e("InvalidArgument", 400, std::move(message));
  if (!name.empty()) {
    e.with_field("ArgumentName", std::string(name));
    e.with_field("ArgumentValue", std::string(value));
  }
  return e;
}
AwsError malformed_xml() {
  return AwsError("MalformedXML", 400,
                  "The XML you provided was not well-formed or did not validate against our "
                  "published schema");
}
AwsError precondition_failed(std::string_view condition) {
  return AwsError("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
      .with_field("Condition", std::string(condition));
}
}  // namespace errors

std::mutex& KeyLocks::of(std::string_view bucket, std::string_view key) {
  auto h = std::hash<std::string_view>{}(bucket) * 31 + std::hash<std::string_view>{}(key);
  return stripes_[h % stripes_.size()];
}

}  // namespace fogbank::s3
