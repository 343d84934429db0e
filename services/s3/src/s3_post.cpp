// PostObject: browser uploads with an HTML form (multipart/form-data). The request itself is
// unsigned; the form carries a base64 policy document and its SigV4 signature, and every field
// must satisfy the policy's conditions.

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "fogbank/protocol/sigv4.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

struct FormField {
  std::string name;  // lower case
  std::string value;
  std::string filename;
  std::string content_type;
};

AwsError policy_error(std::string detail) {
  return AwsError("AccessDenied", 403, "Invalid according to Policy: " + std::move(detail));
}

AwsError invalid_policy_document() {
  return AwsError("InvalidPolicyDocument", 400, "Invalid Policy: Invalid JSON.");
}

AwsError malformed_post(std::string message) {
  return AwsError("MalformedPOSTRequest", 400,
                  message.empty() ? "The body of your POST request is not well-formed multipart/form-data." : message);
}

// Value of `param` in a header like: form-data; name="key"; filename="a.png".
std::string header_param(std::string_view header, std::string_view param) {
  std::string needle = std::string(param) + "=";
  std::size_t pos = 0;
  while ((pos = header.find(needle, pos)) != std::string_view::npos) {
    bool boundary = pos == 0 || header[pos - 1] == ' ' || header[pos - 1] == ';';
    pos += needle.size();
    if (!boundary) {
      continue;
    }
    if (pos < header.size() && header[pos] == '"') {
      auto end = header.find('"', pos + 1);
      return std::string(header.substr(pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1));
    }
    auto end = header.find(';', pos);
    return std::string(header.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
  }
  return {};
}

/// Splits a multipart/form-data body. Fields after the file are ignored, as S3 does.
std::vector<FormField> parse_form(std::string_view body, std::string_view content_type) {
  auto boundary = header_param(content_type, "boundary");
  if (boundary.empty()) {
    throw malformed_post("");
  }
  std::string delim = "--" + boundary;
  std::vector<FormField> fields;
  auto pos = body.find(delim);
  if (pos == std::string_view::npos) {
    throw malformed_post("");
  }
  pos += delim.size();
  for (;;) {
    if (body.substr(pos, 2) == "--") {
      return fields;  // closing delimiter
    }
    if (body.substr(pos, 2) != "\r\n") {
      throw malformed_post("");
    }
    pos += 2;
    auto head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) {
      throw malformed_post("");
    }
    FormField f;
    auto headers = body.substr(pos, head_end - pos);
    while (!headers.empty()) {
      auto eol = headers.find("\r\n");
      auto line = headers.substr(0, eol);
      auto colon = line.find(':');
      if (colon != std::string_view::npos) {
        auto name = protocol::ascii_lower(line.substr(0, colon));
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (name == "content-disposition") {
          f.name = protocol::ascii_lower(header_param(value, "name"));
          f.filename = header_param(value, "filename");
        } else if (name == "content-type") {
          f.content_type = std::string(value);
        }
      }
      headers = eol == std::string_view::npos ? std::string_view{} : headers.substr(eol + 2);
    }
    auto data_start = head_end + 4;
    auto next = body.find("\r\n" + delim, data_start);
    if (next == std::string_view::npos) {
      throw malformed_post("");
    }
    f.value = std::string(body.substr(data_start, next - data_start));
    bool is_file = f.name == "file";
    fields.push_back(std::move(f));
    if (is_file) {
      return fields;
    }
    pos = next + 2 + delim.size();
  }
}

const FormField* field(const std::vector<FormField>& fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

/// Checks the policy's expiration and conditions against the form (with the final key).
void check_policy(const nlohmann::json& policy, const std::vector<FormField>& fields,
                  const std::string& bucket, const std::string& key, std::uint64_t file_size,
                  std::int64_t now) {
  auto exp = policy.find("expiration");
  auto t = exp != policy.end() && exp->is_string() ? parse_http_date(exp->get_ref<const std::string&>())
                                                   : std::nullopt;
  if (!t) {
    throw policy_error("Policy could not be parsed.");
  }
  if (*t < now) {
    throw policy_error("Policy expired.");
  }
  auto value_of = [&](std::string name) -> std::string {
    name = protocol::ascii_lower(name);
    if (!name.empty() && name.front() == '$') {
      name.erase(0, 1);
    }
    if (name == "bucket") return bucket;
    if (name == "key") return key;
    const auto* f = field(fields, name);
    return f ? f->value : std::string();
  };
  std::vector<std::string> covered = {"bucket"};
  auto condition_failed = [](const nlohmann::json& c) { return policy_error("Policy Condition failed: " + c.dump()); };
  auto conditions = policy.find("conditions");
  if (conditions != policy.end() && !conditions->is_array()) {
    throw policy_error("Policy could not be parsed.");
  }
  for (const auto& c : conditions != policy.end() ? *conditions : nlohmann::json::array()) {
    if (c.is_object()) {
      for (const auto& [name, v] : c.items()) {
        if (!v.is_string() || value_of(name) != v.get<std::string>()) {
          throw condition_failed(c);
        }
        covered.push_back(protocol::ascii_lower(name));
      }
    } else if (c.is_array() && c.size() == 3 && c[0].is_string()) {
      auto op = protocol::ascii_lower(c[0].get<std::string>());
      if (op == "content-length-range") {
        // Bounds that are not non-negative integers cannot be compared with a size.
        if (!c[1].is_number_unsigned() || !c[2].is_number_unsigned()) {
          throw condition_failed(c);
        }
        const bool too_large = file_size > c[2].get<std::uint64_t>();
        if (too_large || file_size < c[1].get<std::uint64_t>()) {
          throw AwsError(too_large ? "EntityTooLarge" : "EntityTooSmall", 400,
                         too_large ? "Your proposed upload exceeds the maximum allowed size"
                                   : "Your proposed upload is smaller than the minimum allowed size");
        }
        continue;
      }
      if (!c[1].is_string() || !c[2].is_string()) {
        throw policy_error("Policy Condition failed: " + c.dump());
      }
      auto name = c[1].get<std::string>();
      auto expected = c[2].get<std::string>();
      auto actual = value_of(name);
      bool ok = op == "eq" ? actual == expected : op == "starts-with" ? actual.starts_with(expected) : false;
      if (!ok) {
        throw condition_failed(c);
      }
      covered.push_back(protocol::ascii_lower(name.starts_with("$") ? name.substr(1) : name));
    } else {
      throw policy_error("Policy could not be parsed.");
    }
  }
  for (const auto& f : fields) {
    static constexpr std::string_view kExempt[] = {"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"};
    if (std::find(std::begin(kExempt), std::end(kExempt), f.name) != std::end(kExempt) ||
        f.name.starts_with("x-ignore-") || f.name == "x-amz-credential" || f.name == "x-amz-algorithm" ||
        f.name == "x-amz-date" || f.name == "x-amz-security-token") {
      continue;
    }
    if (std::find(covered.begin(), covered.end(), f.name) == covered.end()) {
      throw policy_error("Extra input fields: " + f.name);
    }
  }
}

}  // namespace

Response S3Service::post_object(Call& c) {
  auto fields = parse_form(c.body, c.header("content-type").value_or(""));
  const auto* file = field(fields, "file");
  const auto* key_field = field(fields, "key");
  if (file == nullptr || key_field == nullptr) {
    throw AwsError("InvalidArgument", 400,
                   file == nullptr ? "POST requires exactly one file upload per request."
                                   : "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
        .with_field("ArgumentName", file == nullptr ? "file" : "key");
  }
  std::string key = key_field->value;
  if (auto at = key.find("${filename}"); at != std::string::npos) {
    key.replace(at, 11, file->filename);
  }
  // Authenticate the form: the policy's signature stands in for the request's.
  if (!c.ctx.authenticated) {
    const auto* policy_b64 = field(fields, "policy");
    const auto* signature = field(fields, "x-amz-signature");
    const auto* credential = field(fields, "x-amz-credential");
    if (policy_b64 == nullptr || signature == nullptr || credential == nullptr) {
      if (c.ctx.account_id.empty()) {
        throw errors::access_denied();
      }
    } else {
      // AKID/date/region/s3/aws4_request
      std::vector<std::string> scope;
      std::string_view rest = credential->value;
      while (!rest.empty()) {
        auto slash = rest.find('/');
        scope.emplace_back(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      }
      if (scope.size() != 5) {
        throw AwsError("InvalidArgument", 400, "Invalid argument: x-amz-credential");
      }
      auto cred = keys_->find(scope[0]);
      if (!cred) {
        throw AwsError("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
            .with_field("AWSAccessKeyId", scope[0]);
      }
      if (cred->temporary()) {
        const auto* token = field(fields, "x-amz-security-token");
        if (token == nullptr || token->value != cred->session_token) {
          throw AwsError("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.");
        }
      }
      auto key_bytes = protocol::sigv4::signing_key(cred->secret_key, scope[1], scope[2], scope[3]);
      auto expected = protocol::hex(protocol::hmac_sha256(
          std::string_view(reinterpret_cast<const char*>(key_bytes.data()), key_bytes.size()), policy_b64->value));
      if (!protocol::iequals(expected, signature->value)) {
        throw AwsError("SignatureDoesNotMatch", 403,
                       "The request signature we calculated does not match the signature you "
                       "provided. Check your key and signing method.");
      }
      auto decoded = protocol::base64_decode(policy_b64->value);
      // Depth-limited: the conditions are re-serialised into error messages, which recurses.
      auto policy = protocol::parse_json_limited(decoded.value_or(""));
      if (!policy.is_object()) {
        throw invalid_policy_document();
      }
      check_policy(policy, fields, c.bucket, key, file->value.size(), c.ctx.now);
      c.ctx.caller = *cred;
      c.ctx.account_id = cred->account_id;
    }
  }
  auto bucket = require_bucket(c);
  c.key = key;
  if (c.key.empty() || c.key.size() > 1024) {
    throw AwsError("InvalidArgument", 400, "User key must have a length greater than 0.");
  }
  check_key_encoding(c.key);
  ObjectRecord record;
  record.owner = c.ctx.account_id;
  record.modified_ms = c.now_ms();
  const auto* ctype = field(fields, "content-type");
  record.headers.emplace_back("Content-Type", ctype ? ctype->value
                                                    : (file->content_type.empty() ? "binary/octet-stream" : file->content_type));
  for (std::string_view h : {"cache-control", "content-disposition", "content-encoding", "expires"}) {
    if (const auto* f = field(fields, h)) {
      std::string name(h);
      name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
      if (auto dash = name.find('-'); dash != std::string::npos) {
        name[dash + 1] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[dash + 1])));
      }
      record.headers.emplace_back(name, f->value);
    }
  }
  for (const auto& f : fields) {
    if (f.name.starts_with("x-amz-meta-")) {
      record.metadata.emplace_back(f.name.substr(11), f.value);
    }
  }
  if (const auto* acl = field(fields, "acl")) {
    record.acl = canned_acl(acl->value, bucket, c.ctx.account_id);
  }
  if (const auto* t = field(fields, "tagging")) {
    record.tags = parse_tagging_xml(t->value, 10);
  }
  record.size = file->value.size();
  record.etag = protocol::hex(protocol::md5(file->value));
  storage::Batch batch;
  {
    auto writer = blobs_.new_writer();
    if (auto key = choose_encryption(c, bucket, record); !key.empty()) {
      writer->encrypt_with(key);
    }
    writer->append(file->value);
    writer->finish(batch);
    record.segments = {Segment{writer->blob(), record.size, {}, {}}};
  }
  std::optional<PendingEvent> event;
  {
    std::lock_guard lock(locks_.of(c.bucket, c.key));
    commit_object(bucket, c.key, record, load_object(c.bucket, c.key), batch);
    if (bucket.notifications) {
      event = object_event(c, bucket, EventKind::kPost, c.key, &record);
    }
  }
  emit(std::move(event));
  auto host = std::string(c.header("host").value_or("localhost"));
  auto location = std::string(c.ctx.head.tls ? "https://" : "http://") + host + "/" + c.bucket + "/" +
                  protocol::uri_encode(c.key, true);
  if (const auto* redirect = field(fields, "success_action_redirect"); redirect && !redirect->value.empty()) {
    Response r(303, "");
    auto sep = redirect->value.find('?') == std::string::npos ? "?" : "&";
    r.headers.set("Location", redirect->value + sep + "bucket=" + protocol::uri_encode(c.bucket) +
                                  "&key=" + protocol::uri_encode(c.key) + "&etag=" +
                                  protocol::uri_encode(quote_etag(record.etag)));
    r.headers.set("ETag", quote_etag(record.etag));
    return r;
  }
  const auto* status_field = field(fields, "success_action_status");
  std::string status = status_field ? status_field->value : "204";
  Response r(204, "");
  if (status == "201") {
    protocol::XmlWriter xml;
    xml.open("PostResponse")
        .element("Location", location)
        .element("Bucket", c.bucket)
        .element("Key", c.key)
        .element("ETag", quote_etag(record.etag));
    r = xml_response(xml.finish(), 201);
  } else if (status == "200") {
    r.status = 200;
  }
  r.headers.set("ETag", quote_etag(record.etag));
  r.headers.set("Location", location);
  return r;
}

}  // namespace fogbank::s3
