// Query-string authentication of the original S3 signature (SigV2, HMAC-SHA1): what boto3's
// generate_presigned_url and older tools produce by default (?AWSAccessKeyId=&Signature=&Expires=).
// The dispatcher lets such requests through unsigned (accepts_anonymous); this checks them.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/sigv4.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

// Query parameters that are part of the signed resource (the SigV2 "sub-resources").
constexpr std::string_view kSignedSubresources[] = {
    "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
    "lifecycle", "location", "logging", "metrics", "notification", "object-lock", "partNumber",
    "policy", "replication", "requestPayment", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "restore", "select", "select-type",
    "storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
    "versions", "website"};

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return protocol::base64_encode(std::string_view(reinterpret_cast<const char*>(out), len));
}

}  // namespace

bool is_sigv2_presigned(const protocol::RequestHead& head) {
  auto q = protocol::parse_query_string(head.query);
  return q && protocol::find_param(*q, "AWSAccessKeyId") && protocol::find_param(*q, "Signature") &&
         protocol::find_param(*q, "Expires");
}

void S3Service::authenticate_sigv2(Call& c) {
  const auto& head = c.ctx.head;
  const std::string* key_id = c.param("AWSAccessKeyId");
  const std::string* signature = c.param("Signature");
  const std::string* expires = c.param("Expires");
  if (key_id == nullptr || signature == nullptr || expires == nullptr) {
    throw errors::access_denied();
  }
  std::int64_t expiry = 0;
  auto [end, ec] = std::from_chars(expires->data(), expires->data() + expires->size(), expiry);
  if (ec != std::errc() || end != expires->data() + expires->size()) {
    throw AwsError("AccessDenied", 403, "Invalid date (should be seconds since epoch): " + *expires);
  }
  auto cred = keys_->find(*key_id);
  if (!cred) {
    throw AwsError("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records.")
        .with_field("AWSAccessKeyId", *key_id);
  }
  auto query_or_header = [&](std::string_view name) -> std::string {
    if (const auto* v = c.param(name)) {
      return *v;
    }
    return std::string(head.headers.get(name).value_or(""));
  };
  // x-amz-* values signed as headers, whether they came as headers or in the query.
  std::vector<std::pair<std::string, std::string>> amz;
  for (const auto& [name, value] : c.query) {
    if (protocol::ascii_lower(name).starts_with("x-amz-")) {
      amz.emplace_back(protocol::ascii_lower(name), value);
    }
  }
  for (const auto& [name, value] : head.headers.items()) {
    auto n = protocol::ascii_lower(name);
    if (n.starts_with("x-amz-") &&
        std::none_of(amz.begin(), amz.end(), [&](const auto& p) { return p.first == n; })) {
      amz.emplace_back(n, value);
    }
  }
  std::sort(amz.begin(), amz.end());
  std::string to_sign = head.method + "\n" + query_or_header("content-md5") + "\n" +
                        query_or_header("content-type") + "\n" + *expires + "\n";
  for (const auto& [n, v] : amz) {
    to_sign += n + ":" + v + "\n";
  }
  // The resource always names the bucket, also for virtual-hosted requests.
  std::string resource = virtual_host_bucket(head) ? "/" + c.bucket + head.path : head.path;
  std::vector<std::pair<std::string, std::string>> sub;
  for (const auto& [name, value] : c.query) {
    if (std::find(std::begin(kSignedSubresources), std::end(kSignedSubresources), name) !=
        std::end(kSignedSubresources)) {
      sub.emplace_back(name, value);
    }
  }
  std::stable_sort(sub.begin(), sub.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < sub.size(); ++i) {
    resource += (i == 0 ? "?" : "&") + sub[i].first;
    if (!sub[i].second.empty()) {
      resource += "=" + sub[i].second;
    }
  }
  to_sign += resource;
  auto expected = hmac_sha1_base64(cred->secret_key, to_sign);
  if (expected != *signature) {
    throw AwsError("SignatureDoesNotMatch", 403,
                   "The request signature we calculated does not match the signature you provided. "
                   "Check your key and signing method.")
        .with_field("AWSAccessKeyId", *key_id)
        .with_field("StringToSign", to_sign)
        .with_field("SignatureProvided", *signature);
  }
  if (expiry < c.ctx.now) {
    throw AwsError("AccessDenied", 403, "Request has expired")
        .with_field("Expires", iso8601_ms(expiry * 1000))
        .with_field("ServerTime", iso8601_ms(c.ctx.now * 1000));
  }
  if (cred->temporary() && query_or_header("x-amz-security-token") != cred->session_token) {
    throw AwsError("InvalidToken", 400, "The provided token is malformed or otherwise invalid.");
  }
  if (cred->temporary() && cred->expires_at != 0 && cred->expires_at < c.ctx.now) {
    throw AwsError("ExpiredToken", 400, "The provided token has expired.");
  }
  c.ctx.caller = *cred;
  c.ctx.account_id = cred->account_id;
  c.ctx.authenticated = true;
}

}  // namespace fogbank::s3
