// Server-side encryption: which object data is encrypted at rest and with what key, the SSE-C
// checks S3 makes, and the headers that report it.
//
// SSE-S3 and SSE-KMS objects (and every object under --encrypt-at-rest all) get a random 256-bit
// data key, stored in the object record sealed (AES-256-GCM) with the service's master key, which
// is made once and kept in s3_meta. SSE-C objects are encrypted with the customer's key itself;
// only its MD5 is stored, to tell a wrong key from the right one. The bytes are AES-256-CTR with a
// per-blob IV (BlobStore::blob_iv), so ranged reads decrypt from the middle of a blob.

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

using storage::Space;

constexpr std::string_view kSealContext = "fogbank-s3-data-key";

std::string master_key_location() { return storage::KeyBuilder("K").str("master").key(); }

struct CustomerKey {
  std::string key;  ///< 32 bytes
  std::string md5;  ///< base64
};

/// The SSE-C headers under `prefix` ("x-amz-server-side-encryption-customer-" or the copy
/// source's), checked as S3 checks them; nullopt when none is present.
std::optional<CustomerKey> customer_key(const Call& c, std::string_view prefix) {
  const std::string p(prefix);
  auto algorithm = c.header(p + "algorithm");
  auto key = c.header(p + "key");
  auto md5 = c.header(p + "key-MD5");
  if (!algorithm && !key && !md5) {
    return std::nullopt;
  }
  if (!algorithm) {
    throw errors::invalid_argument(
        "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
        p + "algorithm", "null");
  }
  if (*algorithm != "AES256") {
    throw errors::invalid_argument("The encryption algorithm specified is not valid.", p + "algorithm", *algorithm);
  }
  if (!key) {
    throw errors::invalid_argument(
        "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
        p + "key", "null");
  }
  auto raw = protocol::base64_decode(*key);
  if (!raw || raw->size() != 32) {
    throw errors::invalid_argument("The secret key was invalid for the specified algorithm.", p + "key", "null");
  }
  const auto digest = protocol::md5(*raw);
  auto computed = protocol::base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  if (!md5) {
    throw errors::invalid_argument(
        "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
        p + "key-MD5", "null");
  }
  if (*md5 != computed) {
    throw errors::invalid_argument("The calculated MD5 hash of the key did not match the hash that was provided.",
                                   p + "key-MD5", *md5);
  }
  return CustomerKey{std::move(*raw), std::move(computed)};
}

AwsError needs_customer_key() {
  return AwsError("InvalidRequest", 400,
                  "The object was stored using a form of Server Side Encryption. The correct parameters must be "
                  "provided to retrieve the object.");
}

std::string header_of(const NameValues& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (protocol::iequals(n, name)) {
      return v;
    }
  }
  return {};
}

}  // namespace

std::string S3Service::load_master_key() {
  const auto where = master_key_location();
  if (auto existing = store_.get(Space::kS3Meta, where)) {
    if (existing->size() != 32) {
      // Replacing it would make every encrypted object unreadable: refuse to start instead.
      throw std::runtime_error("the stored S3 master key is damaged (" + std::to_string(existing->size()) + " bytes)");
    }
    return *existing;
  }
  master_key_ = protocol::random_bytes(32);
  store_master_key();
  return master_key_;
}

void S3Service::store_master_key() {
  if (auto st = store_.put(Space::kS3Meta, master_key_location(), master_key_); !st) {
    throw std::runtime_error("cannot store the S3 master key: " + st.message());
  }
}

std::string S3Service::choose_encryption(const Call& c, const BucketRecord& b, ObjectRecord& record) {
  auto customer = customer_key(c, "x-amz-server-side-encryption-customer-");
  const bool requested = !header_of(record.headers, "x-amz-server-side-encryption").empty();
  if (customer) {
    if (requested) {
      throw errors::invalid_argument(
          "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
          "x-amz-server-side-encryption", header_of(record.headers, "x-amz-server-side-encryption"));
    }
    record.customer_key_md5 = customer->md5;
    record.wrapped_key.clear();
    return std::move(customer->key);
  }
  record.customer_key_md5.clear();
  if (!requested && !b.encryption.empty()) {
    // The bucket's default encryption applies to an object that asked for none.
    try {
      const auto config = nlohmann::json::parse(b.encryption);
      const auto& rule = config.at("Rules").at(0);
      const auto& by_default = rule.at("ApplyServerSideEncryptionByDefault");
      record.headers.emplace_back("x-amz-server-side-encryption", by_default.at("SSEAlgorithm").get<std::string>());
      if (auto kms = by_default.find("KMSMasterKeyID"); kms != by_default.end()) {
        record.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", kms->get<std::string>());
      }
      if (rule.value("BucketKeyEnabled", false)) {
        record.headers.emplace_back("x-amz-server-side-encryption-bucket-key-enabled", "true");
      }
    } catch (const nlohmann::json::exception&) {
      // A stored configuration passed validation when it was put.
    }
  }
  const auto algorithm = header_of(record.headers, "x-amz-server-side-encryption");
  if (algorithm.starts_with("aws:kms") && header_of(record.headers, "x-amz-server-side-encryption-aws-kms-key-id").empty()) {
    // No key named: the account's AWS managed key for S3, as AWS reports it.
    const auto id = protocol::hex(protocol::sha256("fogbank-aws-s3-key:" + b.account)).substr(0, 32);
    record.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id",
                                "arn:aws:kms:" + b.region + ":" + b.account + ":key/" + id.substr(0, 8) + "-" +
                                    id.substr(8, 4) + "-" + id.substr(12, 4) + "-" + id.substr(16, 4) + "-" + id.substr(20, 12));
  }
  if (!encrypt_all_ && algorithm.empty()) {
    record.wrapped_key.clear();
    return {};
  }
  auto data_key = protocol::random_bytes(32);
  record.wrapped_key = protocol::base64_encode(protocol::aes_gcm_seal(master_key_, data_key, kSealContext));
  return data_key;
}

std::string S3Service::data_key(const Call& c, const ObjectRecord& o, bool copy_source) const {
  const auto prefix = copy_source ? "x-amz-copy-source-server-side-encryption-customer-"
                                  : "x-amz-server-side-encryption-customer-";
  auto customer = customer_key(c, prefix);
  if (!o.customer_key_md5.empty()) {
    if (!customer) {
      throw needs_customer_key();
    }
    if (customer->md5 != o.customer_key_md5) {
      throw AwsError("AccessDenied", 403, "Access Denied");
    }
    return std::move(customer->key);
  }
  if (customer) {
    throw errors::invalid_argument("The encryption parameters are not applicable to this object.", prefix + std::string("algorithm"),
                                   "AES256");
  }
  if (o.wrapped_key.empty()) {
    return {};
  }
  auto sealed = protocol::base64_decode(o.wrapped_key);
  auto key = sealed ? protocol::aes_gcm_open(master_key_, *sealed, kSealContext) : std::nullopt;
  if (!key) {
    throw protocol::errors::internal_failure("an object's data key does not open with this data directory's master key");
  }
  return std::move(*key);
}

void add_encryption_headers(Response& r, const ObjectRecord& o) {
  if (!o.customer_key_md5.empty()) {
    r.headers.set("x-amz-server-side-encryption-customer-algorithm", "AES256");
    r.headers.set("x-amz-server-side-encryption-customer-key-MD5", o.customer_key_md5);
    return;
  }
  r.headers.set("x-amz-server-side-encryption", sse_algorithm(o));
  for (std::string_view name : {"x-amz-server-side-encryption-aws-kms-key-id",
                                "x-amz-server-side-encryption-bucket-key-enabled"}) {
    if (auto v = header_of(o.headers, name); !v.empty()) {
      r.headers.set(std::string(name), v);
    }
  }
}

}  // namespace fogbank::s3
