// Service- and bucket-level operations: ListBuckets, Create/Delete/HeadBucket, location,
// tagging and the read-only bucket settings SDKs probe (versioning, ACL, policy, encryption).

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "fogbank/protocol/resource_policy.hpp"
#include "fogbank/s3/s3_service.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

std::mutex bucket_admin_mu;  // CreateBucket/DeleteBucket check-then-act

bool valid_bucket_name(std::string_view n) {
  if (n.size() < 3 || n.size() > 63) {
    return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(n.front()) || !alnum(n.back())) {
    return false;
  }
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (!alnum(c) && c != '-' && c != '.') {
      return false;
    }
    if (c == '.' && i + 1 < n.size() && (n[i + 1] == '.' || n[i + 1] == '-')) {
      return false;
    }
    if (c == '-' && i + 1 < n.size() && n[i + 1] == '.') {
      return false;
    }
  }
  // Not an IPv4 address.
  int dots = 0;
  bool digits_and_dots = true;
  for (char c : n) {
    dots += c == '.';
    digits_and_dots = digits_and_dots && ((c >= '0' && c <= '9') || c == '.');
  }
  if (digits_and_dots && dots == 3) {
    return false;
  }
  for (std::string_view p : {"xn--", "sthree-", "amzn-s3-demo-"}) {
    if (n.starts_with(p)) {
      return false;
    }
  }
  for (std::string_view s : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (n.ends_with(s)) {
      return false;
    }
  }
  return true;
}

// Regions a bucket can be created in (LocationConstraint values; "EU" is the legacy eu-west-1).
constexpr std::string_view kRegions[] = {
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
    "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1",
    "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
    "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-2", "us-gov-east-1",
    "us-gov-west-1", "us-west-1", "us-west-2", "EU"};

std::string region_of_request(const Call& c) { return c.ctx.region.empty() ? "us-east-1" : c.ctx.region; }

}  // namespace

Response S3Service::list_buckets(Call& c) {
  std::uint32_t max = 10000;
  if (const auto* m = c.param("max-buckets")) {
    auto [end, ec] = std::from_chars(m->data(), m->data() + m->size(), max);
    if (ec != std::errc() || end != m->data() + m->size() || max < 1 || max > 10000) {
      throw errors::invalid_argument("Argument max-buckets must be an integer between 1 and 10000",
                                     "max-buckets", *m);
    }
  }
  std::string prefix = c.param("prefix") ? *c.param("prefix") : "";
  std::string region_filter = c.param("bucket-region") ? *c.param("bucket-region") : "";
  std::string after;
  if (const auto* t = c.param("continuation-token")) {
    auto d = protocol::base64_decode(*t);
    if (!d) {
      throw errors::invalid_argument("The continuation token provided is incorrect",
                                     "continuation-token", *t);
    }
    after = *d;
  }
  auto all = account_buckets(c.ctx.account_id);
  protocol::XmlWriter xml;
  xml.open("ListAllMyBucketsResult", kXmlns);
  xml.open("Buckets");
  std::uint32_t count = 0;
  std::string next;
  for (const auto& b : all) {
    if (!b.name.starts_with(prefix) || (!after.empty() && b.name <= after) ||
        (!region_filter.empty() && b.region != region_filter)) {
      continue;
    }
    if (count == max) {
      next = protocol::base64_encode(after);
      break;
    }
    xml.open("Bucket")
        .element("Name", b.name)
        .element("CreationDate", iso8601_ms(b.created_ms))
        .element("BucketRegion", b.region)
        .close();
    after = b.name;
    ++count;
  }
  xml.close();
  write_owner(xml, c.ctx.account_id);
  if (!next.empty()) {
    xml.element("ContinuationToken", next);
  }
  if (c.param("prefix")) {
    xml.element("Prefix", prefix);
  }
  return xml_response(xml.finish());
}

Response S3Service::create_bucket(Call& c) {
  if (!valid_bucket_name(c.bucket)) {
    throw AwsError("InvalidBucketName", 400, "The specified bucket is not valid.")
        .with_field("BucketName", c.bucket);
  }
  std::string endpoint_region = region_of_request(c);
  std::optional<std::string> constraint;
  if (c.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto config = decode_body_xml("CreateBucket", c.body);
    if (auto lc = config.find("LocationConstraint"); lc != config.end()) {
      constraint = lc->get<std::string>();
    }
  }
  std::string region;
  if (constraint && !constraint->empty()) {
    if (*constraint == "us-east-1" ||
        std::find(std::begin(kRegions), std::end(kRegions), *constraint) == std::end(kRegions)) {
      throw AwsError("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
          .with_field("LocationConstraint", *constraint);
    }
    if (endpoint_region != "us-east-1" && *constraint != endpoint_region) {
      throw AwsError("IllegalLocationConstraintException", 400,
                     "The " + *constraint +
                         " location constraint is incompatible for the region specific endpoint "
                         "this request was sent to.");
    }
    region = *constraint == "EU" ? "eu-west-1" : *constraint;
  } else {
    if (endpoint_region != "us-east-1") {
      throw AwsError("IllegalLocationConstraintException", 400,
                     "The unspecified location constraint is incompatible for the region specific "
                     "endpoint this request was sent to.");
    }
    region = "us-east-1";
  }
  std::lock_guard lock(bucket_admin_mu);
  if (auto existing = bucket(c.bucket)) {
    if (existing->account != c.ctx.account_id) {
      throw AwsError("BucketAlreadyExists", 409,
                     "The requested bucket name is not available. The bucket namespace is shared by "
                     "all users of the system. Please select a different name and try again.")
          .with_field("BucketName", c.bucket);
    }
    if (existing->region != "us-east-1") {
      throw AwsError("BucketAlreadyOwnedByYou", 409,
                     "Your previous request to create the named bucket succeeded and you already own it.")
          .with_field("BucketName", c.bucket);
    }
    // us-east-1 keeps S3's legacy answer: creating a bucket you own there succeeds again.
  } else {
    BucketRecord b;
    b.name = c.bucket;
    b.account = c.ctx.account_id;
    b.region = region;
    b.created_ms = c.now_ms();
    if (auto ownership = c.header("x-amz-object-ownership")) {
      if (*ownership != "BucketOwnerEnforced" && *ownership != "BucketOwnerPreferred" && *ownership != "ObjectWriter") {
        throw errors::invalid_argument("Invalid x-amz-object-ownership header: " + std::string(*ownership),
                                       "x-amz-object-ownership", *ownership);
      }
      b.settings["ownershipControls"] =
          nlohmann::json{{"Rules", nlohmann::json::array({{{"ObjectOwnership", *ownership}}})}}.dump();
    }
    try {
      b.settings["acl"] = requested_acl(c, b, b.account, false).value_or("");
    } catch (const AwsError& e) {
      // CreateBucket words the ownership and public-access conflicts in errors of its own.
      if (e.code == "AccessControlListNotSupported") {
        throw AwsError("InvalidBucketAclWithObjectOwnership", 400,
                       "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
      }
      if (e.code == "AccessDenied") {
        throw AwsError("InvalidBucketAclWithBlockPublicAccessError", 400,
                       "Bucket cannot have public ACLs set with BlockPublicAccess enabled");
      }
      throw;
    }
    if (b.settings["acl"].empty()) {
      b.settings.erase("acl");
    }
    if (auto lock = c.header("x-amz-bucket-object-lock-enabled"); lock && protocol::iequals(*lock, "true")) {
      // Object Lock needs versioning, and turns it on for good.
      b.object_lock = "Enabled";
      b.versioning = "Enabled";
    }
    put_bucket_record(b);
  }
  Response r(200, "");
  r.headers.set("Location", "/" + c.bucket);
  return r;
}

Response S3Service::delete_bucket(Call& c) {
  std::lock_guard lock(bucket_admin_mu);
  std::lock_guard config_lock(bucket_config_mu_);  // no concurrent settings change writes it back
  require_bucket(c);
  if (store_.scan_prefix(storage::Space::kS3Meta, object_prefix(c.bucket)).valid()) {
    throw AwsError("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
        .with_field("BucketName", c.bucket);
  }
  // Uploads still in progress go with the bucket.
  storage::Batch batch;
  std::vector<std::string> retired;
  for (auto u = store_.scan_prefix(storage::Space::kS3Meta, upload_prefix(c.bucket)); u.valid(); u.next()) {
    UploadRecord up;
    if (!decode(u.value(), up)) {
      continue;
    }
    for (auto p = store_.scan_prefix(storage::Space::kS3Meta, part_prefix(up.upload_id)); p.valid(); p.next()) {
      PartRecord part;
      if (decode(p.value(), part)) {
        blobs_.retire(batch, part.blob);
        retired.push_back(part.blob);
      }
      batch.del(storage::Space::kS3Meta, p.key());
    }
    batch.del(storage::Space::kS3Meta, u.key());
  }
  for (auto x = store_.scan_prefix(storage::Space::kS3Meta, completed_upload_prefix(c.bucket)); x.valid(); x.next()) {
    batch.del(storage::Space::kS3Meta, x.key());
  }
  batch.del(storage::Space::kS3Meta, bucket_key(c.bucket));
  if (auto st = store_.write(batch); !st) {
    throw protocol::errors::internal_failure(st.message());
  }
  drop_bucket_record(c.bucket);
  blobs_.collect(retired);
  return Response(204, "");
}

Response S3Service::head_bucket(Call& c) {
  auto b = require_bucket(c);
  Response r(200, "");
  r.headers.set("x-amz-bucket-region", b.region);
  r.headers.set("x-amz-access-point-alias", "false");
  return r;
}

Response S3Service::get_bucket_location(Call& c) {
  auto b = require_bucket(c);
  protocol::XmlWriter xml;
  xml.open("LocationConstraint", kXmlns);
  if (b.region != "us-east-1") {
    xml.text(b.region);  // us-east-1 is the empty constraint
  }
  return xml_response(xml.finish());
}

Response S3Service::update_bucket(const Call& c, int status, const std::function<void(BucketRecord&)>& change) {
  std::lock_guard lock(bucket_config_mu_);
  auto b = require_bucket(c);
  change(b);
  put_bucket_record(b);
  return Response(status, "");
}

Response S3Service::put_bucket_tagging(Call& c) {
  require_bucket(c);
  auto tags = parse_tagging_xml(c.body, 50);
  return update_bucket(c, 204, [&](BucketRecord& b) { b.tags = std::move(tags); });
}

Response S3Service::get_bucket_tagging(Call& c) {
  auto b = require_bucket(c);
  if (!b.tags) {
    throw AwsError("NoSuchTagSet", 404, "The TagSet does not exist").with_field("BucketName", c.bucket);
  }
  return tagging_response("GetBucketTagging", *b.tags);
}

Response S3Service::delete_bucket_tagging(Call& c) {
  return update_bucket(c, 204, [&](BucketRecord& b) { b.tags.reset(); });
}

namespace {

constexpr std::size_t kMaxBucketPolicyBytes = 20 * 1024;

AwsError malformed_policy(std::string message) { return AwsError("MalformedPolicy", 400, std::move(message)); }

/// S3's checks of a PutBucketPolicy document: JSON, statements with an effect, S3 actions and
/// resources inside this bucket.
void check_bucket_policy(std::string_view text, std::string_view bucket) {
  if (text.size() > kMaxBucketPolicyBytes) {
    throw AwsError("PolicyTooLarge", 400, "Policy exceeds the maximum allowed document size.");
  }
  const auto doc = protocol::parse_json_limited(text);
  if (!doc.is_object()) {
    throw malformed_policy("Policies must be valid JSON and the first byte must be '{'");
  }
  auto statements = doc.find("Statement");
  if (statements == doc.end()) {
    throw malformed_policy("Missing required field Statement");
  }
  nlohmann::json list = nlohmann::json::array();
  if (statements->is_array()) {
    list = *statements;
  } else {
    list.push_back(*statements);
  }
  if (list.empty()) {
    throw malformed_policy("Could not parse the policy: Statement is empty!");
  }
  const std::string arn = "arn:aws:s3:::" + std::string(bucket);
  for (const auto& s : list) {
    if (!s.is_object()) {
      throw malformed_policy("Policies must be valid JSON and the first byte must be '{'");
    }
    const auto effect = s.find("Effect");
    if (effect == s.end() || !effect->is_string() || (*effect != "Allow" && *effect != "Deny")) {
      throw malformed_policy("Invalid effect: " + (effect != s.end() && effect->is_string() ? effect->get<std::string>()
                                                                                             : std::string()));
    }
    if (!s.contains("Principal") && !s.contains("NotPrincipal")) {
      throw malformed_policy("Missing required field Principal");
    }
    auto each = [](const nlohmann::json& v, auto&& f) {
      if (v.is_string()) {
        f(v.get<std::string>());
      } else if (v.is_array()) {
        for (const auto& item : v) {
          f(item.is_string() ? item.get<std::string>() : std::string());
        }
      } else {
        f(std::string());
      }
    };
    const auto actions = s.contains("Action") ? s.find("Action") : s.find("NotAction");
    if (actions == s.end()) {
      throw malformed_policy("Missing required field Action");
    }
    each(*actions, [](const std::string& a) {
      if (a != "*" && !(a.size() > 3 && protocol::iequals(std::string_view(a).substr(0, 3), "s3:"))) {
        throw malformed_policy("Policy has invalid action");
      }
    });
    const auto resources = s.contains("Resource") ? s.find("Resource") : s.find("NotResource");
    if (resources == s.end()) {
      throw malformed_policy("Missing required field Resource");
    }
    each(*resources, [&](const std::string& r) {
      if (r != arn && !r.starts_with(arn + "/") && !protocol::wildcard_match(r, arn, false)) {
        throw malformed_policy("Policy has invalid resource");
      }
    });
  }
}

}  // namespace

Response S3Service::put_bucket_policy(Call& c) {
  require_bucket(c);
  check_bucket_policy(c.body, c.bucket);
  return update_bucket(c, 204, [&](BucketRecord& b) { b.policy = c.body; });
}

Response S3Service::get_bucket_policy(Call& c) {
  auto b = require_bucket(c);
  if (b.policy.empty()) {
    throw AwsError("NoSuchBucketPolicy", 404, "The bucket policy does not exist").with_field("BucketName", c.bucket);
  }
  return Response(200, b.policy, "application/json");
}

Response S3Service::delete_bucket_policy(Call& c) {
  return update_bucket(c, 204, [&](BucketRecord& b) { b.policy.clear(); });
}

Response S3Service::get_bucket_encryption(Call& c) {
  auto b = require_bucket(c);
  // Every bucket has SSE-S3 by default, and gets it back when its configuration is deleted.
  static const auto kDefault = nlohmann::json::parse(R"({"Rules": [{
      "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": false}]})");
  return xml_response(
      encode_output_xml("GetBucketEncryption", b.encryption.empty() ? kDefault : nlohmann::json::parse(b.encryption)));
}

Response S3Service::put_bucket_encryption(Call& c) {
  require_bucket(c);
  auto config = decode_body_xml("PutBucketEncryption", c.body);
  auto rules = config.find("Rules");
  if (rules == config.end() || !rules->is_array() || rules->size() != 1) {
    throw errors::malformed_xml();
  }
  const auto& rule = (*rules)[0];
  if (auto by_default = rule.find("ApplyServerSideEncryptionByDefault"); by_default != rule.end()) {
    const auto algorithm = by_default->value("SSEAlgorithm", std::string());
    if (algorithm != "AES256" && algorithm != "aws:kms" && algorithm != "aws:kms:dsse") {
      throw errors::malformed_xml();
    }
    if (algorithm == "AES256" && by_default->contains("KMSMasterKeyID")) {
      throw errors::invalid_argument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms "
                                     "or aws:kms:dsse");
    }
  }
  return update_bucket(c, 200, [&](BucketRecord& b) { b.encryption = config.dump(); });
}

Response S3Service::delete_bucket_encryption(Call& c) {
  return update_bucket(c, 204, [&](BucketRecord& b) { b.encryption.clear(); });
}

Response S3Service::put_bucket_logging(Call& c) {
  require_bucket(c);
  auto status = decode_body_xml("PutBucketLogging", c.body);
  std::string logging;
  if (auto enabled = status.find("LoggingEnabled"); enabled != status.end() && enabled->is_object()) {
    const auto target = enabled->value("TargetBucket", std::string());
    if (!enabled->contains("TargetPrefix")) {
      throw errors::malformed_xml();
    }
    auto t = bucket(target);
    if (!t) {
      throw AwsError("InvalidTargetBucketForLogging", 400, "The target bucket for logging does not exist")
          .with_field("TargetBucket", target);
    }
    if (t->account != c.ctx.account_id) {
      throw AwsError("InvalidTargetBucketForLogging", 400,
                     "The owner for the bucket to be logged and the target bucket must be the same.")
          .with_field("TargetBucket", target);
    }
    logging = enabled->dump();
  }
  return update_bucket(c, 200, [&](BucketRecord& b) { b.logging = std::move(logging); });
}

Response S3Service::get_bucket_logging(Call& c) {
  auto b = require_bucket(c);
  nlohmann::json status = nlohmann::json::object();
  if (!b.logging.empty()) {
    status["LoggingEnabled"] = nlohmann::json::parse(b.logging);
  }
  return xml_response(encode_output_xml("GetBucketLogging", status, "BucketLoggingStatus"));
}

Response S3Service::put_bucket_cors(Call& c) {
  require_bucket(c);
  auto config = std::make_shared<const CorsConfig>(cors_from_request(decode_body_xml("PutBucketCors", c.body)));
  return update_bucket(c, 200, [&](BucketRecord& b) { b.cors = std::move(config); });
}

Response S3Service::get_bucket_cors(Call& c) {
  auto b = require_bucket(c);
  if (!b.cors) {
    throw AwsError("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")
        .with_field("BucketName", c.bucket);
  }
  return xml_response(encode_output_xml("GetBucketCors", cors_output(*b.cors), "CORSConfiguration"));
}

Response S3Service::delete_bucket_cors(Call& c) {
  return update_bucket(c, 204, [&](BucketRecord& b) { b.cors.reset(); });
}

Response S3Service::preflight(Call& c) {
  auto b = bucket(c.bucket);
  if (!b) {
    throw errors::no_such_bucket(c.bucket);
  }
  return cors_preflight(b->cors.get(), c.ctx.head.headers, !c.key.empty());
}

void S3Service::add_cors(const Call& c, std::vector<std::pair<std::string, std::string>>& headers) const {
  auto origin = c.header("origin");
  if (!origin || c.bucket.empty()) {
    return;
  }
  auto b = bucket(c.bucket);
  if (b && b->cors) {
    add_cors_headers(*b->cors, *origin, c.ctx.head.method, headers);
  }
}

Response S3Service::put_bucket_notification_configuration(Call& c) {
  auto b = require_bucket(c);
  auto config = parse_notification_config(decode_body_xml("PutBucketNotificationConfiguration", c.body), b.region);
  const auto skip = c.header("x-amz-skip-destination-validation");
  const bool validate = !skip || !protocol::iequals(*skip, "true");
  if (validate) {
    notifications_.validate_destinations(config);
  }
  {
    std::lock_guard lock(bucket_config_mu_);
    b = require_bucket(c);
    // An empty <NotificationConfiguration/> turns notifications off.
    b.notifications = config.empty() ? nullptr : std::make_shared<const NotificationConfig>(config);
    put_bucket_record(b);
  }
  if (validate) {
    notifications_.send_test_events(config, c.bucket, b.account, c.ctx.request_id,
                                    protocol::base64_encode(c.ctx.request_id + c.ctx.request_id), clock_.now_ms());
  }
  return Response(200, "");
}

Response S3Service::get_bucket_notification_configuration(Call& c) {
  // Also what botocore's deprecated GetBucketNotification reads (same route): the current shape.
  auto b = require_bucket(c);
  auto value = b.notifications ? notification_config_value(*b.notifications) : nlohmann::json::object();
  return xml_response(encode_output_xml("GetBucketNotificationConfiguration", value, "NotificationConfiguration"));
}

}  // namespace fogbank::s3

