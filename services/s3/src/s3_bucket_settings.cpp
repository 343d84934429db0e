// Bucket settings that S3 stores and returns without fogbank acting on them yet: public access
// block, object ownership, request payment, transfer acceleration, replication (validated
// against both buckets' versioning; nothing is copied), and the configurations a bucket holds
// by Id (inventory, analytics, metrics, intelligent tiering). One table row
// each: the subresource, the model operations whose shapes carry the document, what a bucket has
// before anything is put (AWS's defaults since 2023), and the error once there is none.

#include <algorithm>

#include "fogbank/protocol/crypto.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

using nlohmann::json;

struct Setting {
  std::string_view subresource;
  std::string_view put_op;
  std::string_view get_op;
  std::string_view root;  ///< the Get output's root element when its output has no payload member
  const char* default_value;  ///< JSON a new bucket answers with; null: the error below
  std::string_view missing_code;
  std::string_view missing_message;
  void (*check)(const S3Service& s3, const BucketRecord& b, const Call& c, const json& doc);
};

namespace {

void one_of(const json& doc, const char* member, std::initializer_list<std::string_view> allowed) {
  const auto v = doc.value(member, std::string());
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    throw errors::malformed_xml();
  }
}

const Setting kPublicAccessBlock{
    "publicAccessBlock", "PutPublicAccessBlock", "GetPublicAccessBlock", "",
    R"({"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true})",
    "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found",
    [](const S3Service&, const BucketRecord&, const Call&, const json&) {}};

const Setting kOwnershipControls{
    "ownershipControls", "PutBucketOwnershipControls", "GetBucketOwnershipControls", "",
    R"({"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]})", "OwnershipControlsNotFoundError",
    "The bucket ownership controls were not found", [](const S3Service&, const BucketRecord&, const Call&, const json& doc) {
      auto rules = doc.find("Rules");
      if (rules == doc.end() || !rules->is_array() || rules->size() != 1) {
        throw errors::malformed_xml();
      }
      one_of((*rules)[0], "ObjectOwnership", {"BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"});
    }};

const Setting kRequestPayment{
    "requestPayment", "PutBucketRequestPayment", "GetBucketRequestPayment", "RequestPaymentConfiguration",
    R"({"Payer":"BucketOwner"})", "", "",
    [](const S3Service&, const BucketRecord&, const Call&, const json& doc) { one_of(doc, "Payer", {"Requester", "BucketOwner"}); }};

const Setting kAccelerate{
    "accelerate", "PutBucketAccelerateConfiguration", "GetBucketAccelerateConfiguration", "AccelerateConfiguration",
    "{}", "", "", [](const S3Service&, const BucketRecord&, const Call& c, const json& doc) {
      one_of(doc, "Status", {"Enabled", "Suspended"});
      if (c.bucket.find('.') != std::string::npos) {
        throw AwsError("InvalidRequest", 400,
                       "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names");
      }
    }};

const Setting kReplication{
    "replication", "PutBucketReplication", "GetBucketReplication", "", nullptr,
    "ReplicationConfigurationNotFoundError", "The replication configuration was not found",
    [](const S3Service& s3, const BucketRecord& b, const Call&, const json& doc) {
      // Replication copies versions: both ends must keep them.
      if (b.versioning != "Enabled") {
        throw AwsError("InvalidRequest", 400, "Versioning must be 'Enabled' on the bucket to apply a replication "
                                              "configuration");
      }
      auto rules = doc.find("Rules");
      if (doc.value("Role", std::string()).empty() || rules == doc.end() || !rules->is_array() || rules->empty()) {
        throw errors::malformed_xml();
      }
      for (const auto& rule : *rules) {
        auto dest = rule.find("Destination");
        auto arn = dest == rule.end() ? std::string() : dest->value("Bucket", std::string());
        constexpr std::string_view kArnPrefix = "arn:aws:s3:::";
        if (!arn.starts_with(kArnPrefix)) {
          throw errors::invalid_argument("Invalid bucket ARN.", "Bucket", arn);
        }
        auto target = s3.bucket(std::string_view(arn).substr(kArnPrefix.size()));
        if (!target) {
          throw errors::invalid_argument("Destination bucket must exist.", "Bucket", arn);
        }
        if (target->versioning != "Enabled") {
          throw errors::invalid_argument("Destination bucket must have versioning enabled.", "Bucket", arn);
        }
      }
    }};

}  // namespace

Response S3Service::put_setting(Call& c, const Setting& s) {
  auto b = require_bucket(c);
  auto doc = decode_body_xml(s.put_op, c.body);
  s.check(*this, b, c, doc);
  return update_bucket(c, 200, [&](BucketRecord& b) { b.settings[std::string(s.subresource)] = doc.dump(); });
}

namespace {

/// The setting's document as stored, or its default; "" when there is none.
std::string setting_text(const BucketRecord& b, const Setting& s) {
  if (auto it = b.settings.find(std::string(s.subresource)); it != b.settings.end()) {
    return it->second;  // "" once deleted
  }
  return s.default_value != nullptr ? std::string(s.default_value) : std::string();
}

}  // namespace

std::string bucket_object_ownership(const BucketRecord& b) {
  const auto text = setting_text(b, kOwnershipControls);
  if (text.empty()) {
    return "ObjectWriter";  // what a bucket without ownership controls does
  }
  return json::parse(text).at("Rules").at(0).value("ObjectOwnership", std::string());
}

bool bucket_blocks_public_acls(const BucketRecord& b) {
  const auto text = setting_text(b, kPublicAccessBlock);
  return !text.empty() && json::parse(text).value("BlockPublicAcls", false);
}

Response S3Service::get_setting(Call& c, const Setting& s) {
  auto b = require_bucket(c);
  const auto text = setting_text(b, s);
  if (text.empty()) {
    throw AwsError(std::string(s.missing_code), 404, std::string(s.missing_message)).with_field("BucketName", c.bucket);
  }
  return xml_response(encode_output_xml(s.get_op, json::parse(text), s.root));
}

Response S3Service::delete_setting(Call& c, const Setting& s) {
  return update_bucket(c, 204, [&](BucketRecord& b) { b.settings[std::string(s.subresource)] = ""; });
}

// ---- configurations by Id: ?inventory&id=..., ?analytics, ?metrics, ?intelligent-tiering

namespace {

struct IdConfigKind {
  std::string_view subresource;
  std::string_view put_op;
  std::string_view get_op;
  std::string_view list_op;
  std::string_view list_root;    ///< the List answer's root element
  std::string_view list_member;  ///< the List output's member holding the configurations
};

constexpr IdConfigKind kIdConfigs[] = {
    {"inventory", "PutBucketInventoryConfiguration", "GetBucketInventoryConfiguration",
     "ListBucketInventoryConfigurations", "ListInventoryConfigurationsResult", "InventoryConfigurationList"},
    {"analytics", "PutBucketAnalyticsConfiguration", "GetBucketAnalyticsConfiguration",
     "ListBucketAnalyticsConfigurations", "ListBucketAnalyticsConfigurationResult", "AnalyticsConfigurationList"},
    {"metrics", "PutBucketMetricsConfiguration", "GetBucketMetricsConfiguration",
     "ListBucketMetricsConfigurations", "ListMetricsConfigurationsResult", "MetricsConfigurationList"},
    {"intelligent-tiering", "PutBucketIntelligentTieringConfiguration", "GetBucketIntelligentTieringConfiguration",
     "ListBucketIntelligentTieringConfigurations", "ListBucketIntelligentTieringConfigurationsOutput",
     "IntelligentTieringConfigurationList"},
};
constexpr std::size_t kMaxIdConfigs = 1000;
constexpr std::size_t kIdConfigPage = 100;

const IdConfigKind& id_config_kind(const Call& c) {
  for (const auto& k : kIdConfigs) {
    if (c.has(k.subresource)) {
      return k;
    }
  }
  throw protocol::errors::internal_failure("no configuration subresource");
}

std::string id_config_key(const IdConfigKind& k, std::string_view id) {
  return std::string(k.subresource) + ":" + std::string(id);
}

const std::string& required_id(const Call& c) {
  const std::string* id = c.param("id");
  if (id == nullptr || id->empty()) {
    throw errors::invalid_argument("Missing required parameter id.", "id", "");
  }
  return *id;
}

AwsError no_such_configuration() {
  return AwsError("NoSuchConfiguration", 404, "The specified configuration does not exist.");
}

}  // namespace

Response S3Service::put_id_config(Call& c) {
  const auto& kind = id_config_kind(c);
  const auto& id = required_id(c);
  require_bucket(c);
  auto doc = decode_body_xml(kind.put_op, c.body);
  if (doc.value("Id", std::string()) != id) {
    throw errors::invalid_argument("Configuration Id in the request body does not match the id parameter.", "id", id);
  }
  return update_bucket(c, 200, [&](BucketRecord& b) {
    const auto prefix = id_config_key(kind, "");
    const auto count = std::count_if(b.settings.begin(), b.settings.end(),
                                     [&](const auto& e) { return e.first.starts_with(prefix) && !e.second.empty(); });
    auto& slot = b.settings[id_config_key(kind, id)];
    if (slot.empty() && static_cast<std::size_t>(count) >= kMaxIdConfigs) {
      throw AwsError("TooManyConfigurations", 400, "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.");
    }
    slot = doc.dump();
  });
}

Response S3Service::get_id_config(Call& c) {
  const auto& kind = id_config_kind(c);
  const auto& id = required_id(c);
  auto b = require_bucket(c);
  auto it = b.settings.find(id_config_key(kind, id));
  if (it == b.settings.end() || it->second.empty()) {
    throw no_such_configuration();
  }
  return xml_response(encode_output_xml(kind.get_op, json::parse(it->second)));
}

Response S3Service::delete_id_config(Call& c) {
  const auto& kind = id_config_kind(c);
  const auto& id = required_id(c);
  return update_bucket(c, 204, [&](BucketRecord& b) {
    if (b.settings.erase(id_config_key(kind, id)) == 0) {
      throw no_such_configuration();
    }
  });
}

Response S3Service::list_id_configs(Call& c) {
  const auto& kind = id_config_kind(c);
  auto b = require_bucket(c);
  const auto prefix = id_config_key(kind, "");
  std::string after;
  const std::string* token = c.param("continuation-token");
  if (token != nullptr) {
    auto decoded = protocol::base64_decode(*token);
    if (!decoded) {
      throw errors::invalid_argument("The continuation token provided is incorrect", "continuation-token", *token);
    }
    after = *decoded;
  }
  json list = json::array();
  bool truncated = false;
  std::string last;
  for (auto it = b.settings.lower_bound(prefix); it != b.settings.end() && it->first.starts_with(prefix); ++it) {
    const auto id = it->first.substr(prefix.size());
    if (it->second.empty() || (token != nullptr && id <= after)) {
      continue;
    }
    if (list.size() == kIdConfigPage) {
      truncated = true;
      break;
    }
    list.push_back(json::parse(it->second));
    last = id;
  }
  json out{{"IsTruncated", truncated}};
  if (token != nullptr) {
    out["ContinuationToken"] = *token;
  }
  if (truncated) {
    out["NextContinuationToken"] = protocol::base64_encode(last);
  }
  if (!list.empty()) {
    out[std::string(kind.list_member)] = std::move(list);
  }
  return xml_response(encode_output_xml(kind.list_op, out, kind.list_root));
}

Response S3Service::put_public_access_block(Call& c) { return put_setting(c, kPublicAccessBlock); }
Response S3Service::get_public_access_block(Call& c) { return get_setting(c, kPublicAccessBlock); }
Response S3Service::delete_public_access_block(Call& c) { return delete_setting(c, kPublicAccessBlock); }
Response S3Service::put_ownership_controls(Call& c) { return put_setting(c, kOwnershipControls); }
Response S3Service::get_ownership_controls(Call& c) { return get_setting(c, kOwnershipControls); }
Response S3Service::delete_ownership_controls(Call& c) { return delete_setting(c, kOwnershipControls); }
Response S3Service::put_request_payment(Call& c) { return put_setting(c, kRequestPayment); }
Response S3Service::get_request_payment(Call& c) { return get_setting(c, kRequestPayment); }
Response S3Service::put_accelerate(Call& c) { return put_setting(c, kAccelerate); }
Response S3Service::get_accelerate(Call& c) { return get_setting(c, kAccelerate); }
Response S3Service::put_replication(Call& c) { return put_setting(c, kReplication); }
Response S3Service::get_replication(Call& c) { return get_setting(c, kReplication); }
Response S3Service::delete_replication(Call& c) { return delete_setting(c, kReplication); }

}  // namespace fogbank::s3
