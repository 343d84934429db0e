// Access control lists: canned ACLs (x-amz-acl), grant headers (x-amz-grant-*) and
// AccessControlPolicy documents, on buckets and object versions. They are stored and returned as
// AWS does, and checked against the bucket's Object Ownership (ACLs are off under AWS's default,
// BucketOwnerEnforced) and Block Public Access; they grant nothing yet: authorization is
// evaluated from policies alone (a later issue).

#include <array>

#include "fogbank/protocol/text.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

using nlohmann::json;

namespace {

constexpr std::string_view kAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
constexpr std::string_view kAuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
constexpr std::string_view kLogDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery";
constexpr std::string_view kDisplayName = "webfile";

constexpr std::array<std::string_view, 5> kPermissions = {"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ", "READ_ACP"};

struct GrantHeader {
  std::string_view header;
  std::string_view permission;
};
constexpr GrantHeader kGrantHeaders[] = {{"x-amz-grant-full-control", "FULL_CONTROL"},
                                         {"x-amz-grant-read", "READ"},
                                         {"x-amz-grant-read-acp", "READ_ACP"},
                                         {"x-amz-grant-write", "WRITE"},
                                         {"x-amz-grant-write-acp", "WRITE_ACP"}};

json user_grantee(std::string_view canonical_id) {
  return json{{"Type", "CanonicalUser"}, {"ID", canonical_id}};
}
json group_grantee(std::string_view uri) { return json{{"Type", "Group"}, {"URI", uri}}; }
json grant(json grantee, std::string_view permission) {
  return json{{"Grantee", std::move(grantee)}, {"Permission", permission}};
}

AwsError malformed_acl() {
  return AwsError("MalformedACLError", 400,
                  "The XML you provided was not well-formed or did not validate against our published schema");
}

/// What a canned ACL grants (`owner`: the resource's owner, `bucket_owner`: its bucket's).
json canned_grants(std::string_view name, bool is_object, std::string_view owner, std::string_view bucket_owner) {
  json grants = json::array({grant(user_grantee(owner), "FULL_CONTROL")});
  const auto add = [&](json grantee, std::string_view permission) { grants.push_back(grant(std::move(grantee), permission)); };
  if (name == "private") {
  } else if (name == "public-read") {
    add(group_grantee(kAllUsers), "READ");
  } else if (name == "public-read-write") {
    add(group_grantee(kAllUsers), "READ");
    add(group_grantee(kAllUsers), "WRITE");
  } else if (name == "authenticated-read") {
    add(group_grantee(kAuthenticatedUsers), "READ");
  } else if (!is_object && name == "log-delivery-write") {
    add(group_grantee(kLogDelivery), "WRITE");
    add(group_grantee(kLogDelivery), "READ_ACP");
  } else if (is_object && (name == "bucket-owner-read" || name == "bucket-owner-full-control")) {
    if (bucket_owner != owner) {
      add(user_grantee(bucket_owner), name == "bucket-owner-read" ? "READ" : "FULL_CONTROL");
    }
  } else if (is_object && name == "aws-exec-read") {
    // AWS adds a READ grant to the account EC2 reads bundles with; fogbank has no such account.
  } else {
    throw errors::invalid_argument("", "x-amz-acl", std::string(name));
  }
  return grants;
}

/// One grantee of an x-amz-grant-* header: `id="…"`, `uri="…"` or `emailAddress="…"`.
json header_grantee(std::string_view item, std::string_view header) {
  item = protocol::trim_blanks(item);
  const auto eq = item.find('=');
  if (eq == std::string_view::npos) {
    throw errors::invalid_argument("Argument format not recognized", std::string(header), std::string(item));
  }
  const auto name = protocol::ascii_lower(protocol::trim_blanks(item.substr(0, eq)));
  auto value = protocol::trim_blanks(item.substr(eq + 1));
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (name == "id") {
    return user_grantee(value);
  }
  if (name == "uri") {
    return group_grantee(value);
  }
  if (name == "emailaddress") {
    return json{{"Type", "AmazonCustomerByEmail"}, {"EmailAddress", value}};
  }
  throw errors::invalid_argument("Argument format not recognized", std::string(header), std::string(item));
}

/// The grants of an AccessControlPolicy document, its Owner checked against the resource's.
json document_grants(std::string_view operation, std::string_view body, std::string_view owner) {
  json doc;
  try {
    doc = decode_body_xml(operation, body);
  } catch (const AwsError&) {
    throw malformed_acl();
  }
  auto doc_owner = doc.find("Owner");
  if (doc_owner == doc.end() || !doc_owner->is_object() || !doc_owner->contains("ID")) {
    throw malformed_acl();
  }
  if (doc_owner->value("ID", std::string()) != owner) {
    throw errors::access_denied();
  }
  json grants = json::array();
  if (auto list = doc.find("Grants"); list != doc.end() && list->is_array()) {
    grants = *list;
  }
  return grants;
}

/// AWS's checks of each grantee and permission; drops what AWS does not return (DisplayName).
void check_grants(json& grants) {
  if (grants.size() > 100) {
    throw malformed_acl();
  }
  for (auto& g : grants) {
    auto grantee = g.find("Grantee");
    const auto permission = g.value("Permission", std::string());
    if (grantee == g.end() || !grantee->is_object() ||
        std::find(kPermissions.begin(), kPermissions.end(), permission) == kPermissions.end()) {
      throw malformed_acl();
    }
    const auto type = grantee->value("Type", std::string());
    if (type == "CanonicalUser") {
      const auto id = grantee->value("ID", std::string());
      if (id.size() != 64 || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
        throw errors::invalid_argument("Invalid id", "CanonicalUser/ID", id);
      }
      *grantee = user_grantee(id);
    } else if (type == "Group") {
      const auto uri = grantee->value("URI", std::string());
      if (uri != kAllUsers && uri != kAuthenticatedUsers && uri != kLogDelivery) {
        throw errors::invalid_argument("Invalid group uri", "Group/URI", uri);
      }
      *grantee = group_grantee(uri);
    } else if (type == "AmazonCustomerByEmail") {
      // fogbank's accounts have no e-mail addresses, as most AWS accounts no longer resolve them.
      throw AwsError("UnresolvableGrantByEmailAddress", 400,
                     "The e-mail address you provided does not match any account on record.")
          .with_field("EmailAddress", grantee->value("EmailAddress", std::string()));
    } else {
      throw malformed_acl();
    }
  }
}

bool grants_public(const json& grants) {
  for (const auto& g : grants) {
    const auto uri = g.at("Grantee").value("URI", std::string());
    if (uri == kAllUsers || uri == kAuthenticatedUsers) {
      return true;
    }
  }
  return false;
}

/// Whether `grants` give full control to `canonical_id` and nothing else: the default ACL of
/// that owner, and all BucketOwnerEnforced still accepts when it is the bucket owner.
bool full_control_only(const json& grants, std::string_view canonical_id) {
  return grants.size() == 1 && grants[0].at("Permission") == "FULL_CONTROL" &&
         grants[0].at("Grantee").value("ID", std::string()) == canonical_id;
}

/// The grants as stored ("" for the owner's full control alone), once AWS's checks passed.
std::string checked_acl(json grants, const BucketRecord& b, std::string_view owner, std::string_view bucket_owner) {
  check_grants(grants);
  if (bucket_object_ownership(b) == "BucketOwnerEnforced") {
    if (!full_control_only(grants, bucket_owner)) {
      throw AwsError("AccessControlListNotSupported", 400, "The bucket does not allow ACLs");
    }
    return std::string();
  }
  if (grants_public(grants) && bucket_blocks_public_acls(b)) {
    throw errors::access_denied();
  }
  if (full_control_only(grants, owner)) {
    return std::string();  // the default: stored as nothing
  }
  return grants.dump();
}

}  // namespace

std::optional<std::string> requested_acl(const Call& c, const BucketRecord& b, std::string_view owner_account,
                                         bool is_object, std::string_view document_operation) {
  const auto canned = c.header("x-amz-acl");
  const bool has_grant_headers = std::any_of(std::begin(kGrantHeaders), std::end(kGrantHeaders),
                                             [&](const GrantHeader& g) { return c.header(g.header).has_value(); });
  const bool has_document = !document_operation.empty() && c.body.find_first_not_of(" \t\r\n") != std::string::npos;
  if (!canned && !has_grant_headers && !has_document) {
    return std::nullopt;  // most writes: no ACL, nothing to hash
  }
  const auto owner = canonical_user_id(owner_account);
  const auto bucket_owner = canonical_user_id(b.account);
  if (canned && has_grant_headers) {
    throw AwsError("InvalidRequest", 400, "Specifying both Canned ACLs and Header Grants is not allowed");
  }
  if (has_document && (canned || has_grant_headers)) {
    throw AwsError("UnexpectedContent", 400, "This request does not support content");
  }
  json grants;
  if (canned) {
    grants = canned_grants(*canned, is_object, owner, bucket_owner);
  } else if (has_grant_headers) {
    grants = json::array();
    for (const auto& g : kGrantHeaders) {
      if (auto value = c.header(g.header)) {
        for (auto item : protocol::split_list(*value)) {
          grants.push_back(grant(header_grantee(item, g.header), g.permission));
        }
      }
    }
  } else {
    grants = document_grants(document_operation, c.body, owner);
  }
  return checked_acl(std::move(grants), b, owner, bucket_owner);
}

std::string canned_acl(std::string_view canned, const BucketRecord& b, std::string_view owner_account) {
  const auto owner = canonical_user_id(owner_account);
  const auto bucket_owner = canonical_user_id(b.account);
  return checked_acl(canned_grants(canned, true, owner, bucket_owner), b, owner, bucket_owner);
}

namespace {

/// Put*Acl: the request must set an ACL one way or another.
std::string required_acl(const Call& c, const BucketRecord& b, std::string_view owner_account, bool is_object,
                         std::string_view document_operation) {
  auto acl = requested_acl(c, b, owner_account, is_object, document_operation);
  if (!acl) {
    throw AwsError("MissingSecurityHeader", 400, "Your request was missing a required header")
        .with_field("MissingHeaderName", "x-amz-acl");
  }
  return std::move(*acl);
}

std::string acl_document(std::string_view operation, std::string_view owner_account, const std::string& acl) {
  const auto owner = canonical_user_id(owner_account);
  json grants = acl.empty() ? json::array({grant(user_grantee(owner), "FULL_CONTROL")}) : json::parse(acl);
  for (auto& g : grants) {
    auto& grantee = g["Grantee"];
    if (grantee.value("ID", std::string()) == owner) {
      grantee["DisplayName"] = kDisplayName;
    }
  }
  json doc = {{"Owner", {{"DisplayName", kDisplayName}, {"ID", owner}}}, {"Grants", std::move(grants)}};
  return encode_output_xml(operation, doc, "AccessControlPolicy");
}

}  // namespace

Response S3Service::get_bucket_acl(Call& c) {
  auto b = require_bucket(c);
  auto it = b.settings.find("acl");
  return xml_response(acl_document("GetBucketAcl", b.account, it == b.settings.end() ? std::string() : it->second));
}

Response S3Service::put_bucket_acl(Call& c) {
  auto b = require_bucket(c);
  auto acl = required_acl(c, b, b.account, false, "PutBucketAcl");
  return update_bucket(c, 200, [&](BucketRecord& record) { record.settings["acl"] = acl; });
}

Response S3Service::get_object_acl(Call& c) {
  auto bucket = require_bucket(c);
  auto v = require_version(c, bucket);
  auto r = xml_response(acl_document("GetObjectAcl", v.record.owner, v.record.acl));
  add_version_headers(r, bucket, v.record);
  return r;
}

Response S3Service::put_object_acl(Call& c) {
  return change_version(c, 200, EventKind::kAclPut, [&](const BucketRecord& bucket, ObjectRecord& o) {
    o.acl = required_acl(c, bucket, o.owner, true, "PutObjectAcl");
  });
}

}  // namespace fogbank::s3
