#pragma once
// S3's domain records and their persistence in RocksDB (s3_meta for records, s3_data for object
// bytes). Internal to fogbank_svc_s3.
//
// Keys (s3_meta), all KeyBuilder-encoded so bytewise order is S3's listing order:
//   B|bucket                      bucket record
//   O|bucket|key                  the key's current version (points at its data blobs); in a
//                                 versioned bucket possibly a delete marker
//   N|bucket|key|~seq             noncurrent versions of a key, newest first (only while the key
//                                 has an O record, so listing versions is one walk over O)
//   U|bucket|key|upload-id        multipart upload in progress
//   P|upload-id|part-number       uploaded part (points at its blob)
//   X|bucket|upload-id            a completed upload's result (a repeated Complete answers it)
//   W|blob                        blob being written (chunks on disk, no record yet)
//   G|blob                        blob no longer referenced, to delete once no reader holds it
// Object bytes live in s3_data under D|blob|chunk. A blob becomes visible only through the batch
// that commits its record, and the batch that replaces a record marks the old blobs G, so a crash
// at any point leaves either the old object or the new one; W/G markers are swept at start.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/blob.hpp"
#include "fogbank/storage/store.hpp"

namespace fogbank::s3 {

using NameValues = std::vector<std::pair<std::string, std::string>>;

struct NotificationConfig;  // s3_notifications.hpp
struct CorsConfig;          // s3_cors.hpp

struct BucketRecord {
  std::string name;
  std::string account;
  std::string region;
  std::int64_t created_ms = 0;
  std::optional<NameValues> tags;  ///< nullopt: no tag set (NoSuchTagSet)
  /// Event notifications; null when the bucket has none (the common case: writes check only this
  /// pointer). Shared and immutable, so copying a record stays cheap.
  std::shared_ptr<const NotificationConfig> notifications;
  /// CORS rules (PutBucketCors); null when the bucket has none. Shared and immutable.
  std::shared_ptr<const CorsConfig> cors;
  std::string policy;  ///< the bucket policy's JSON text, as put; empty: none
  /// PutBucketEncryption's ServerSideEncryptionConfiguration value; unset: S3's default (SSE-S3).
  std::string encryption;
  /// PutBucketLogging's LoggingEnabled value (JSON text); empty: logging off.
  std::string logging;
  /// PutBucketLifecycleConfiguration's value (JSON text); empty: no rules.
  std::string lifecycle;
  /// PutBucketWebsite's WebsiteConfiguration value (JSON text); empty: no website.
  std::string website;
  /// PutBucketVersioning: "" (never enabled), "Enabled" or "Suspended"; and its MFADelete.
  std::string versioning;
  std::string mfa_delete;
  /// "Enabled" when the bucket was created with (or given) Object Lock; then `lock_rule` holds
  /// the ObjectLockConfiguration's Rule (JSON text) when it has a default retention.
  std::string object_lock;
  std::string lock_rule;
  /// Settings stored and returned as put (s3_bucket_settings.cpp), by subresource; "" once
  /// deleted (a missing entry means S3's default).
  std::map<std::string, std::string> settings;
};

/// A run of object bytes stored as one blob: the whole object of a single PUT, or one part of a
/// multipart object.
struct Segment {
  std::string blob;
  std::uint64_t size = 0;
  std::string etag;      ///< the part's ETag (hex MD5) for multipart objects
  std::string checksum;  ///< the part's checksum (base64) when the upload had an algorithm
};

struct ObjectRecord {
  std::uint64_t size = 0;
  std::string etag;  ///< without quotes: hex MD5, or "<hex>-<parts>"
  std::int64_t modified_ms = 0;
  std::string owner;       ///< account id
  NameValues headers;      ///< Content-Type, Content-Encoding, ... as stored with the object
  NameValues metadata;     ///< x-amz-meta-* (name without the prefix, lower case)
  std::string storage_class = "STANDARD";
  NameValues tags;
  std::string checksum_algorithm;  ///< "CRC32", ... or empty
  std::string checksum;            ///< base64 (composite ones end in -N)
  std::string checksum_type;       ///< FULL_OBJECT or COMPOSITE
  std::vector<Segment> segments;
  std::uint32_t parts_count = 0;   ///< > 0 for objects made by CompleteMultipartUpload
  /// Versioning: the version's id ("" is the null version), its order among the key's versions
  /// (larger is newer; 0 for records written before versioning existed), and whether it is a
  /// delete marker (no data, no headers).
  std::string version_id;
  std::uint64_t seq = 0;
  bool delete_marker = false;
  /// Object Lock: retention mode ("", GOVERNANCE, COMPLIANCE) and its end, and the legal hold
  /// ("ON", "OFF", or "" when never set).
  std::string lock_mode;
  std::int64_t lock_until_ms = 0;
  std::string legal_hold;
  /// Encryption at rest: the object's data key sealed with the service's master key (base64),
  /// or, for SSE-C, the base64 MD5 of the customer's key (the key itself is never stored).
  std::string wrapped_key;
  std::string customer_key_md5;
  /// The version's ACL grants (JSON text); "" is the default, the owner's full control.
  std::string acl;
};

struct UploadRecord {
  std::string bucket;
  std::string key;
  std::string upload_id;
  std::int64_t initiated_ms = 0;
  ObjectRecord object;  ///< headers, metadata, storage class, tags, checksum settings to apply
};

struct PartRecord {
  std::uint32_t number = 0;
  std::uint64_t size = 0;
  std::string etag;  ///< hex MD5
  std::int64_t modified_ms = 0;
  std::string blob;
  std::string checksum;  ///< base64, when the upload has a checksum algorithm
  std::string checksum_algorithm;  ///< the checksum's algorithm ("CRC64NVME" by default)
};

std::string encode(const BucketRecord& r);
std::string encode(const ObjectRecord& r);
std::string encode(const UploadRecord& r);
std::string encode(const PartRecord& r);
bool decode(std::string_view data, BucketRecord& r);
bool decode(std::string_view data, ObjectRecord& r);
bool decode(std::string_view data, UploadRecord& r);
bool decode(std::string_view data, PartRecord& r);

std::string bucket_key(std::string_view bucket);
std::string object_key(std::string_view bucket, std::string_view key);
/// Prefix of every object key of `bucket` whose name starts with `name_prefix`.
std::string object_prefix(std::string_view bucket, std::string_view name_prefix = {});
/// The object name of an O| key (nullopt if malformed).
std::optional<std::string> object_name_of(std::string_view store_key);
/// A noncurrent version of bucket/key (`seq` is the version's order; newer sorts first).
std::string noncurrent_key(std::string_view bucket, std::string_view key, std::uint64_t seq);
/// Prefix of every noncurrent version of bucket/key.
std::string noncurrent_prefix(std::string_view bucket, std::string_view key);
std::string upload_key(std::string_view bucket, std::string_view key, std::string_view upload_id);
/// What a completed multipart upload became (X|bucket|upload-id), kept for a repeated Complete.
std::string completed_upload_key(std::string_view bucket, std::string_view upload_id);
std::string completed_upload_prefix(std::string_view bucket);
std::string upload_prefix(std::string_view bucket, std::string_view name_prefix = {});
std::string part_key(std::string_view upload_id, std::uint32_t number);
std::string part_prefix(std::string_view upload_id);

/// Blobs: writing, reading under a lease, and deferred deletion.
class BlobStore {
 public:
  /// `clock` stamps new blob ids; `read_ahead` (the platform's pool) reads long ranges ahead,
  /// without it every chunk is read when it is needed.
  BlobStore(storage::Store& store, const protocol::Clock& clock, storage::Executor read_ahead = {})
      : store_(store), clock_(clock), read_ahead_(std::move(read_ahead)) {}

  /// Deletes blobs left by a crash (W markers) or retired before one (G markers).
  void sweep();

  /// A writer for a new blob. Call `mark_writing` before its first full chunk is flushed.
  class Writer {
   public:
    Writer(BlobStore& owner, std::string blob);
    ~Writer();
    void append(std::string_view data);
    /// Encrypts what is appended from now on with `key` (AES-256-CTR, the blob's IV); call it
    /// before the first append.
    void encrypt_with(std::string_view key);
    /// Adds the trailing chunk and clears the W marker in `batch`.
    void finish(storage::Batch& batch);
    void abort() noexcept;
    [[nodiscard]] const std::string& blob() const { return blob_; }
    [[nodiscard]] std::uint64_t size() const { return writer_.size(); }

   private:
    BlobStore& owner_;
    std::string blob_;
    storage::BlobWriter writer_;
    bool marked_ = false;
    bool done_ = false;
    std::unique_ptr<protocol::AesCtr> cipher_;
    std::string scratch_;
  };
  std::unique_ptr<Writer> new_writer();

  /// Reads a range of several segments in order; holds a lease on each blob so a concurrent
  /// overwrite cannot delete the bytes being read.
  class Reader {
   public:
    /// `key`: the object's data key when its blobs are encrypted (empty: stored in plain text).
    Reader(BlobStore& owner, std::vector<Segment> segments, std::uint64_t offset, std::uint64_t length,
           std::string key = {});
    ~Reader();
    std::size_t read(char* buf, std::size_t n);

   private:
    BlobStore& owner_;
    std::vector<Segment> segments_;
    std::size_t index_ = 0;
    std::uint64_t skip_;  // bytes to skip before the range starts
    std::uint64_t left_;
    std::unique_ptr<storage::BlobReader> current_;
    std::string key_;
    std::unique_ptr<protocol::AesCtr> cipher_;
  };

  /// Marks blobs unreferenced inside the batch that drops their last reference.
  void retire(storage::Batch& batch, const std::vector<Segment>& segments);
  void retire(storage::Batch& batch, std::string_view blob);
  /// The same, adding the blobs to `retired` (what collect() takes once the batch is written).
  void retire(storage::Batch& batch, const std::vector<Segment>& segments, std::vector<std::string>& retired);
  /// After that batch is written: deletes the retired blobs nobody is reading.
  void collect(const std::vector<std::string>& blobs);
  void collect(const std::vector<Segment>& segments);

  static std::string data_prefix(std::string_view blob);
  /// The CTR IV of a blob's bytes: unique per blob, so one data key (an SSE-C customer's, used
  /// for many objects) never encrypts two blobs with the same counter stream.
  static std::string blob_iv(std::string_view blob);

 private:
  void lease(const std::string& blob);
  void release(const std::string& blob);
  void destroy(const std::string& blob);
  std::uint64_t next_id_micros();

  storage::Store& store_;
  const protocol::Clock& clock_;
  storage::Executor read_ahead_;
  std::atomic<std::uint64_t> last_id_micros_{0};
  std::mutex mu_;
  std::map<std::string, int, std::less<>> readers_;  // blob → active readers
  std::map<std::string, bool, std::less<>> doomed_;  // retired while being read
};

}  // namespace fogbank::s3
