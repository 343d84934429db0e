#pragma once
// The S3 service's internals shared by its handler files (buckets, listing, objects, multipart).
// Internal to fogbank_svc_s3.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/http.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/protocol/text.hpp"
#include "fogbank/protocol/uri.hpp"
#include "fogbank/protocol/xml_reader.hpp"
#include "fogbank/protocol/xml_writer.hpp"
#include "fogbank/s3/s3_service.hpp"
#include "s3_cors.hpp"
#include "s3_notifications.hpp"
#include "s3_store.hpp"

namespace fogbank::s3 {

using protocol::AwsError;
using protocol::RequestContext;
using protocol::Response;

inline constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";
inline constexpr std::uint64_t kMinPartSize = 5ull << 20;
inline constexpr std::uint32_t kMaxPartNumber = 10000;
inline constexpr std::size_t kMaxMetadataBytes = 2048;  ///< x-amz-meta-* names and values

/// One S3 request: where it points (bucket, key) and its decoded query parameters.
struct Call {
  std::shared_ptr<RequestContext> ctx_owner;  // keeps streaming requests' context alive
  RequestContext& ctx;
  std::string bucket;
  std::string key;
  protocol::QueryParams query;
  std::string body;
  protocol::Scheduler* scheduler = nullptr;  ///< the pool MD5 runs on; null: MD5 on the caller

  explicit Call(std::shared_ptr<RequestContext> c) : ctx_owner(std::move(c)), ctx(*ctx_owner) {}
  Call(RequestContext& c) : ctx(c) {}

  [[nodiscard]] const std::string* param(std::string_view name) const {
    return protocol::find_param(query, name);
  }
  [[nodiscard]] bool has(std::string_view name) const { return param(name) != nullptr; }
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const {
    return ctx.head.headers.get(name);
  }
  [[nodiscard]] std::int64_t now_ms() const { return ctx.now * 1000; }
};

// ---- formatting and parsing helpers (s3_util.cpp)
std::string iso8601_ms(std::int64_t ms);         ///< 2009-10-12T17:50:30.000Z
std::string http_date(std::int64_t ms);          ///< Wed, 21 Oct 2015 07:28:00 GMT
std::optional<std::int64_t> parse_http_date(std::string_view text);  ///< → unix seconds
std::string quote_etag(std::string_view etag);        ///< "etag"
std::string unquoted(std::string_view etag);
/// An XML answer. Its text passes through xml_1_0_text first, so no stored key or value can make
/// it malformed in a way AWS's answers are not.
Response xml_response(std::string body, int status = 200);
/// Length of the well-formed UTF-8 character at `at` (no overlongs, surrogates or values past
/// U+10FFFF), 0 when the bytes there start none.
std::size_t utf8_sequence_length(std::string_view text, std::size_t at);
bool valid_utf8(std::string_view text);
/// New object keys must be UTF-8, as on AWS (400 InvalidURI "Couldn't parse the specified URI.").
void check_key_encoding(std::string_view key);
/// Makes a response document's text what AWS sends for object keys XML 1.0 has no character
/// for. C0 controls other than tab, LF and CR become numeric character references in AWS's form
/// (&#x1;); bytes that are not UTF-8 (keys stored before keys were checked) become U+FFFD.
///
/// Why references that XML 1.0 forbids: there is no well-formed way to carry U+0001 (or NUL) in
/// XML 1.0, so AWS writes the reference and documents encoding-type=url for such keys; strict
/// parsers (expat, libxml2) refuse the reference as they refuse AWS's. Writing it the same way
/// keeps fogbank's answers byte-compatible, keeps each key distinct (no lossy substitution that
/// would merge two keys) and keeps the document readable by lenient parsers. botocore asks for
/// encoding-type=url on ListObjects, ListObjectsV2 and ListObjectVersions by itself, so boto3 sees
/// percent-encoded keys and parses them; NUL is no different from the other controls there.
std::string xml_1_0_text(std::string body);
/// Decodes an XML request body with the S3 model: `operation`'s input payload shape, rooted at
/// the payload's element name. MalformedXML when it is not well-formed or does not fit.
protocol::codec::Value decode_body_xml(std::string_view operation, std::string_view body);
/// Renders `operation`'s output (its payload member when it has one) as a document; `root` names
/// the element of outputs without a payload member (GetBucketTagging → "Tagging").
std::string encode_output_xml(std::string_view operation, const protocol::codec::Value& value,
                              std::string_view root = {});
/// Decodes `<Tagging><TagSet><Tag>` (body) with S3's tag rules; `max` tags allowed.
NameValues parse_tagging_xml(std::string_view body, std::size_t max);
/// Decodes the x-amz-tagging header (URL query form).
NameValues parse_tagging_header(std::string_view value);
void validate_tags(const NameValues& tags, std::size_t max);
/// A GetBucketTagging / GetObjectTagging answer (<Tagging><TagSet>...).
Response tagging_response(std::string_view operation, const NameValues& tags);
/// The object's x-amz-server-side-encryption value (AES256 unless it asked for KMS).
std::string sse_algorithm(const ObjectRecord& o);
/// Writes <Owner><ID/><DisplayName/></Owner> (or another element name) for an account.
void write_owner(protocol::XmlWriter& xml, std::string_view account, std::string_view element = "Owner");
/// Adds the checksum elements (<ChecksumCRC32>...) of a record or part to a result.
void write_checksum_elements(protocol::XmlWriter& xml, std::string_view algorithm, std::string_view value);

// ---- versions and Object Lock (s3_versions.cpp)
/// A new version id (32 characters of AWS's alphabet) that carries `seq`, the version's order.
std::string make_version_id(std::uint64_t seq);
/// The order a version id carries; nullopt when it is not one fogbank could have made.
std::optional<std::uint64_t> version_seq(std::string_view id);
/// The id a version is shown with: its own, or "null".
std::string shown_version_id(const ObjectRecord& o);
/// x-amz-version-id for responses about `o` (buckets that ever had versioning, and versions
/// that have an id).
void add_version_headers(Response& r, const BucketRecord& b, const ObjectRecord& o);
/// x-amz-server-side-encryption (with the KMS key id and bucket key) or the SSE-C customer
/// algorithm and key MD5 of an object (s3_encryption.cpp).
void add_encryption_headers(Response& r, const ObjectRecord& o);
/// x-amz-object-lock-* of a locked or held version.
void add_lock_headers(Response& r, const ObjectRecord& o);

namespace errors {
AwsError no_such_bucket(std::string_view bucket);
AwsError no_such_key(std::string_view key);
AwsError no_such_upload(std::string_view upload_id);
AwsError access_denied();
AwsError invalid_argument(std::string message, std::string_view name = {}, std::string_view value = {});
AwsError malformed_xml();
AwsError precondition_failed(std::string_view condition);
}  // namespace errors

/// Locks that serialise read-modify-write of one object record (striped by key hash).
class KeyLocks {
 public:
  std::mutex& of(std::string_view bucket, std::string_view key);

 private:
  std::array<std::mutex, 64> stripes_;
};

/// Digests computed while a body streams in: MD5 (the ETag, Content-MD5) and the request's
/// x-amz-checksum-* (from a header, or from an aws-chunked trailer), verified once it ends.
class PayloadDigests {
 public:
  /// Reads Content-MD5 and the checksum headers. `upload_algorithm` is a multipart upload's
  /// algorithm, which every part must use; with `default_crc64`, a body sent without any
  /// checksum gets a CRC-64/NVME one (what S3 stores for every new object).
  explicit PayloadDigests(const Call& c, std::string_view upload_algorithm = {},
                          bool default_crc64 = false);
  ~PayloadDigests();
  PayloadDigests(PayloadDigests&&) noexcept;
  void update(std::string_view data);
  /// Checks Content-MD5 and the checksum against what arrived (BadDigest, InvalidRequest).
  void verify(const Call& c);

  std::string md5_hex;             ///< after verify()
  std::string checksum_algorithm;  ///< "CRC32", ... or empty
  std::string checksum;            ///< base64, after verify()
  bool defaulted = false;          ///< the client sent no checksum; S3 picked CRC-64/NVME

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The ACL a request sets (s3_acl.cpp) with x-amz-acl or x-amz-grant-* headers, or with an
/// AccessControlPolicy body when `document_operation` names the operation whose input carries
/// one: the grants as stored (JSON text; "" for the default, the owner's full control), nullopt
/// when the request sets none. Checked against the bucket's Object Ownership
/// (AccessControlListNotSupported) and Block Public Access (AccessDenied) as AWS checks them.
std::optional<std::string> requested_acl(const Call& c, const BucketRecord& b, std::string_view owner_account,
                                         bool is_object, std::string_view document_operation = {});
/// A canned ACL from elsewhere than x-amz-acl (PostObject's `acl` field), checked the same way.
std::string canned_acl(std::string_view canned, const BucketRecord& b, std::string_view owner_account);
/// The bucket's ObjectOwnership (BucketOwnerEnforced unless its OwnershipControls say otherwise).
std::string bucket_object_ownership(const BucketRecord& b);
/// Whether the bucket's public access block has BlockPublicAcls (on by default, as on AWS).
bool bucket_blocks_public_acls(const BucketRecord& b);

/// x-amz-checksum-algorithm (CreateMultipartUpload, CopyObject): the algorithm's canonical name,
/// nullopt when absent; InvalidRequest for an algorithm S3 does not know.
std::optional<std::string> requested_checksum_algorithm(const Call& c);

/// The multipart object's checksum from its parts' (COMPOSITE or FULL_OBJECT), checked against
/// the one the client may have sent with CompleteMultipartUpload.
void finish_multipart_checksum(const Call& c, ObjectRecord& record);

/// The bucket named by a virtual-hosted Host header (<bucket>.s3.<host>, <bucket>.localhost).
std::optional<std::string> virtual_host_bucket(const protocol::RequestHead& head);
/// Whether the request carries a SigV2 query-string signature (AWSAccessKeyId, Signature, Expires).
bool is_sigv2_presigned(const protocol::RequestHead& head);

/// A request to a bucket's website endpoint (s3_website.cpp).
struct WebsiteTarget {
  std::string bucket;
  std::string key;   ///< decoded, without the leading '/'
  std::string base;  ///< the path the bucket's site starts at: "/" or "/_website/<bucket>/"
};
/// The website endpoint a request addresses, if any.
std::optional<WebsiteTarget> website_target(const protocol::RequestHead& head);

struct Setting;        // s3_bucket_settings.cpp
struct LifecycleRule;  // s3_lifecycle.hpp

/// Server access log records on their way to one target bucket (s3_access_log.cpp).
struct AccessLogBatch {
  std::string target_bucket;
  std::string account;  ///< the target bucket's owner
  std::string region;
  std::string prefix;   ///< TargetPrefix, and the source's partition for PartitionedPrefix
  bool date_partitions = false;  ///< PartitionedPrefix: YYYY/MM/DD/ after the prefix
  bool event_time = false;       ///< … of the records' time rather than the delivery's
  std::int64_t first_ms = 0;
  std::string lines;
};
/// How often buffered access log records are written out, in platform time (AWS: within hours).
inline constexpr std::int64_t kAccessLogDeliveryMs = 60'000;
struct AccessLogBuffer {
  std::mutex mu;
  std::map<std::string, AccessLogBatch> batches;  ///< by target bucket and key prefix
  std::size_t bytes = 0;
};

class S3Service;
using Handler = Response (S3Service::*)(Call&);
using StreamHandler = std::unique_ptr<protocol::BodySink> (S3Service::*)(std::shared_ptr<Call>);

class S3Service final : public protocol::Service {
 public:
  explicit S3Service(const protocol::Platform& platform, NotificationTargets targets = {}, S3Options options = {});
  ~S3Service() override;
  S3Service(const S3Service&) = delete;
  S3Service& operator=(const S3Service&) = delete;

  std::string_view name() const override { return "s3"; }
  protocol::WireProtocol protocol() const override { return protocol::WireProtocol::kRestXml; }
  std::string_view xml_namespace() const override { return kXmlns; }
  bool streams_body(const protocol::RequestHead& head) const override;
  protocol::Resolution resolve(const protocol::RequestHead& head, const protocol::QueryParams* params) const override;
  bool accepts_anonymous(const protocol::RequestHead& head) const override;
  Response handle(RequestContext& ctx, std::string body) override;
  std::unique_ptr<protocol::BodySink> begin_stream(std::shared_ptr<RequestContext> ctx) override;
  std::string state() const override;
  void reset() override;
  /// POST /_fogbank/s3/lifecycle: one lifecycle pass now (tests that moved a virtual clock);
  /// POST /_fogbank/s3/access-logs: delivers the buffered server access logs now.
  std::optional<Response> admin(const protocol::RequestHead& head, std::string_view body) override;

  // ---- service and buckets (s3_buckets.cpp)
  Response list_buckets(Call& c);
  Response create_bucket(Call& c);
  Response delete_bucket(Call& c);
  Response head_bucket(Call& c);
  Response get_bucket_location(Call& c);
  Response put_bucket_tagging(Call& c);
  Response get_bucket_tagging(Call& c);
  Response delete_bucket_tagging(Call& c);
  Response get_bucket_acl(Call& c);
  Response put_bucket_acl(Call& c);
  Response get_object_acl(Call& c);
  Response put_object_acl(Call& c);
  Response get_bucket_policy(Call& c);
  Response get_bucket_encryption(Call& c);
  Response put_public_access_block(Call& c);
  Response get_public_access_block(Call& c);
  Response delete_public_access_block(Call& c);
  Response put_ownership_controls(Call& c);
  Response get_ownership_controls(Call& c);
  Response delete_ownership_controls(Call& c);
  Response put_request_payment(Call& c);
  Response get_request_payment(Call& c);
  Response put_accelerate(Call& c);
  Response get_accelerate(Call& c);
  Response put_replication(Call& c);
  Response get_replication(Call& c);
  Response delete_replication(Call& c);
  /// Inventory, analytics, metrics and intelligent-tiering configurations, by Id (the
  /// subresource present in the request says which).
  Response put_id_config(Call& c);
  Response get_id_config(Call& c);
  Response delete_id_config(Call& c);
  Response list_id_configs(Call& c);
  Response put_setting(Call& c, const Setting& s);
  Response get_setting(Call& c, const Setting& s);
  Response delete_setting(Call& c, const Setting& s);
  Response put_bucket_website(Call& c);
  Response get_bucket_website(Call& c);
  Response delete_bucket_website(Call& c);
  /// An anonymous GET or HEAD at a bucket's website endpoint.
  Response serve_website(RequestContext& ctx, const WebsiteTarget& target);
  Response put_bucket_lifecycle(Call& c);
  Response get_bucket_lifecycle(Call& c);
  Response delete_bucket_lifecycle(Call& c);
  /// One pass of every bucket's lifecycle rules at the clock's now: expires current objects,
  /// moves them to their transition's storage class, aborts incomplete multipart uploads.
  /// Returns how many objects and uploads it changed. The worker runs it after every midnight UTC
  /// of the platform clock (s3_lifecycle.cpp has the rules).
  std::size_t sweep_lifecycle();
  /// x-amz-expiration for a current version: when the first lifecycle Expiration that selects it
  /// is due, and that rule's ID (nullopt when none does).
  std::optional<std::string> expiration_header(const BucketRecord& b, std::string_view key, const ObjectRecord& o) const;
  Response put_bucket_policy(Call& c);
  Response delete_bucket_policy(Call& c);
  Response put_bucket_encryption(Call& c);
  Response delete_bucket_encryption(Call& c);
  Response put_bucket_logging(Call& c);
  Response get_bucket_logging(Call& c);
  /// AccessDenied when the bucket's policy explicitly denies this request (owner's requests
  /// included, as on AWS); evaluated with the request's condition keys.
  void enforce_bucket_policy(const Call& c, std::string_view operation) const;
  /// The read-modify-write of a bucket configuration: `change` is applied to the caller's bucket
  /// record under the configuration lock and the record saved; answers `status` with no body.
  Response update_bucket(const Call& c, int status, const std::function<void(BucketRecord&)>& change);
  /// Deletes an incomplete multipart upload and its parts (AbortMultipartUpload, lifecycle).
  void discard_upload(std::string_view bucket, std::string_view key, std::string_view upload_id);
  /// Whether `b`'s policy explicitly denies `action` ("s3:GetObject") on `key` (empty: the bucket)
  /// to this request's caller, with its condition keys.
  [[nodiscard]] bool policy_denies(const Call& c, const BucketRecord& b, std::string_view action,
                                   std::string_view key) const;
  Response put_bucket_cors(Call& c);
  Response get_bucket_cors(Call& c);
  Response delete_bucket_cors(Call& c);
  /// A CORS preflight (OPTIONS on a bucket or object): unauthenticated, answered from the rules.
  Response preflight(Call& c);
  /// Adds the Access-Control-* headers an actual request with an Origin gets from its bucket's
  /// CORS rules (responses and errors alike).
  void add_cors(const Call& c, std::vector<std::pair<std::string, std::string>>& headers) const;
  Response put_bucket_notification_configuration(Call& c);
  Response get_bucket_notification_configuration(Call& c);
  Response post_object(Call& c);

  // ---- listing (s3_listing.cpp)
  Response list_objects(Call& c);
  Response list_objects_v2(Call& c);
  Response list_object_versions(Call& c);
  Response list_multipart_uploads(Call& c);
  Response list_parts(Call& c);

  // ---- objects (s3_objects.cpp)
  std::unique_ptr<protocol::BodySink> put_object(std::shared_ptr<Call> c);
  Response get_object(Call& c);
  Response head_object(Call& c);
  Response delete_object(Call& c);
  /// A conditional delete's If-Match (the header, or an ETag in DeleteObjects) against the
  /// version it names or the current one: NoSuchKey when there is none, else 412 on a mismatch.
  void check_delete_condition(std::string_view bucket, std::string_view key, const std::string* version_id,
                              std::string_view if_match);
  Response delete_objects(Call& c);
  Response copy_object(Call& c);
  /// Changes one version's record in place (tagging, ACL) under its key's lock, as
  /// require_version() finds it, and sends `kind`'s event.
  Response change_version(Call& c, int status, EventKind kind,
                          const std::function<void(const BucketRecord&, ObjectRecord&)>& change);
  Response put_object_tagging(Call& c);
  Response get_object_tagging(Call& c);
  Response delete_object_tagging(Call& c);
  Response get_object_attributes(Call& c);

  /// When the request's bucket logs its requests, arms the request's completion hook to add its
  /// record (`log_operation`: REST.GET.OBJECT, ...) to the target bucket's next log object.
  void arm_access_log(Call& c, const std::string& log_operation);
  /// Writes every buffered access log record into its target bucket now; the objects written.
  std::size_t deliver_access_logs();
  /// Another service's write of a whole object (ObjectWriter), with PutObject's checks and commit.
  WriteOutcome put_as_service(const ServiceObject& object);

  // ---- multipart (s3_multipart.cpp)
  Response create_multipart_upload(Call& c);
  std::unique_ptr<protocol::BodySink> upload_part(std::shared_ptr<Call> c);
  Response upload_part_copy(Call& c);
  Response complete_multipart_upload(Call& c);
  /// CompleteMultipartUpload's answer for the object it made (also for a repeated request).
  Response completion_response(const Call& c, const BucketRecord& bucket, const ObjectRecord& record);
  Response abort_multipart_upload(Call& c);

  // ---- event notifications (s3_buckets.cpp handlers, s3_service.cpp helpers)
  /// The event `kind` on `key` as the request `c` caused it, if `bucket` has a configuration that
  /// wants it (callers test `bucket.notifications` first: the one check writes pay without one).
  /// Called where the change commits, under the key's lock, so sequencers follow commit order.
  struct PendingEvent {
    std::shared_ptr<const NotificationConfig> config;
    ObjectEvent event;
  };
  std::optional<PendingEvent> object_event(const Call& c, const BucketRecord& bucket, EventKind kind,
                                           std::string_view key, const ObjectRecord* object,
                                           std::string_view version_id = {});
  /// Sends it (after the lock is released, before the response): acknowledged writes never lose
  /// their event; a destination that fails is skipped without failing the request.
  void emit(std::optional<PendingEvent> pending);
  /// One rule's actions on one key's versions at `now`; how many versions it changed. The
  /// s3:LifecycleExpiration events of what it removed go to `events`, emitted once the key's lock
  /// is released.
  std::size_t apply_lifecycle(const BucketRecord& b, const LifecycleRule& rule, const std::string& key,
                              std::int64_t now, std::vector<PendingEvent>& events);

  /// Verifies a SigV2 presigned request and makes its signer the caller (s3_sigv2.cpp).
  void authenticate_sigv2(Call& c);

  // ---- versions and Object Lock (s3_versions.cpp)
  Response put_bucket_versioning(Call& c);
  Response get_bucket_versioning(Call& c);
  Response put_object_lock_configuration(Call& c);
  Response get_object_lock_configuration(Call& c);
  Response put_object_retention(Call& c);
  Response get_object_retention(Call& c);
  Response put_object_legal_hold(Call& c);
  Response get_object_legal_hold(Call& c);

  /// One version of a key and where its record is stored (O or N).
  struct Version {
    ObjectRecord record;
    std::string store_key;
    bool current = false;
  };
  /// The version `version_id` ("null": the null version) of bucket/key, if it exists;
  /// InvalidArgument for an id that is not one.
  std::optional<Version> find_version(std::string_view bucket, std::string_view key, std::string_view version_id);
  /// The noncurrent null version of bucket/key, if it has one.
  std::optional<Version> null_noncurrent(std::string_view bucket, std::string_view key);
  /// What a read (GET, HEAD, tagging, attributes, retention) addresses: the current version or
  /// ?versionId's, with S3's errors (NoSuchKey with the delete-marker headers, NoSuchVersion,
  /// 405 for a delete marker by id).
  Version require_version(const Call& c, const BucketRecord& b);
  /// Gives a new current version its order, id and default retention (commit_object does it
  /// for a record that has none yet; a caller that needs the id before it commits calls it first).
  void stamp_version(const BucketRecord& b, ObjectRecord& record, const std::optional<ObjectRecord>& previous);
  /// The next version order for a key whose current version is `current`.
  std::uint64_t next_seq(const std::optional<ObjectRecord>& current);
  /// What DeleteObject (or one key of DeleteObjects) did.
  struct Removal {
    std::string version_id;     ///< as reported (x-amz-version-id, VersionId)
    bool delete_marker = false;  ///< the version created or removed is a delete marker
    bool created_marker = false;
    bool removed = false;       ///< something changed
  };
  /// DeleteObject's rules for the bucket's versioning state: without `version_id` the object
  /// goes (unversioned) or a delete marker is put on top; with one, that version goes (Object
  /// Lock permitting) and the newest noncurrent one becomes current. The caller holds the key's lock.
  Removal remove_object(const Call& c, const BucketRecord& b, std::string_view key, const std::string* version_id);
  /// AccessDenied when Object Lock protects `o` from deletion (legal hold, or retention that has
  /// not passed; GOVERNANCE yields to x-amz-bypass-governance-retention).
  void check_deletable(const Call& c, const ObjectRecord& o) const;
  static bool bypasses_governance(const Call& c);
  /// The bucket's default retention for a new version without its own; InvalidRequest for lock
  /// settings in a bucket without Object Lock.
  static void apply_default_retention(const BucketRecord& b, ObjectRecord& record);
  /// x-amz-object-lock-mode, -retain-until-date and -legal-hold of a write.
  static void read_lock_headers(const Call& c, ObjectRecord& record);
  /// The version a retention or legal-hold request addresses, in `b` (which must have Object Lock).
  Version lock_target(const Call& c, BucketRecord& b);
  /// Read-modify-write of the version a retention or legal-hold request addresses.
  Response update_version(Call& c, const std::function<void(const BucketRecord&, ObjectRecord&)>& change);
  std::atomic<std::uint64_t> last_seq_{0};

  // ---- encryption at rest (s3_encryption.cpp)
  /// The master key that seals data keys, made on first start.
  std::string load_master_key();
  /// Writes master_key_ where load_master_key() finds it (first start, and after a reset).
  void store_master_key();
  /// Decides how a new object's data is stored: SSE-C (the request's customer key), or a new
  /// sealed data key when the request, the bucket's default encryption or --encrypt-at-rest all
  /// asks for encryption (the bucket default's headers are added to `record`). Returns the key
  /// to encrypt with, empty for plain text.
  std::string choose_encryption(const Call& c, const BucketRecord& b, ObjectRecord& record);
  /// The key an object's data is read with: its sealed data key, or the customer key the request
  /// (or, with `copy_source`, its x-amz-copy-source-server-side-encryption-customer-* headers)
  /// must carry for an SSE-C object; empty for plain text.
  std::string data_key(const Call& c, const ObjectRecord& o, bool copy_source = false) const;
  std::string master_key_;
  bool encrypt_all_ = false;

  // ---- shared by the handler files
  /// The bucket, if it exists and the caller may use it (NoSuchBucket / AccessDenied otherwise).
  BucketRecord require_bucket(const Call& c);
  std::optional<ObjectRecord> load_object(std::string_view bucket, std::string_view key);
  UploadRecord require_upload(const Call& c);
  /// Writes `record` as the new current version of `key` in `b` with whatever else is in
  /// `batch`: gives it its version id and default retention, keeps `previous` (the current
  /// version, loaded under the key lock the caller holds) as noncurrent in a versioned bucket or
  /// retires its blobs where the new null version replaces it.
  void commit_object(const BucketRecord& b, std::string_view key, ObjectRecord& record,
                     const std::optional<ObjectRecord>& previous, storage::Batch& batch,
                     std::vector<std::string> retired = {});
  /// Object fields from request headers: Content-Type & co, x-amz-meta-*, storage class, tags.
  ObjectRecord object_from_headers(const Call& c);
  /// If-Match / If-None-Match on writes, against the current object (412 / 404).
  static void check_write_conditions(const Call& c, const std::optional<ObjectRecord>& current);
  /// Copies `length` bytes from `offset` of `source` into a new blob, hashing as it goes.
  struct CopiedBlob {
    Segment segment;
    std::string md5_hex;
    std::string checksum;  ///< base64, of `checksum_algorithm` when one was asked for
  };
  /// `source_key` reads the source's data, `dest_key` encrypts the copy (either empty: plain);
  /// `checksum_algorithm` ("CRC32", ...; empty: none) is computed over the copied bytes.
  CopiedBlob copy_bytes(const ObjectRecord& source, std::uint64_t offset, std::uint64_t length,
                        storage::Batch& batch, const std::string& source_key, const std::string& dest_key,
                        std::string_view checksum_algorithm = {});
  /// x-amz-copy-source parsed and loaded, its x-amz-copy-source-if-* conditions checked.
  struct CopySource {
    std::string bucket;
    std::string key;
    ObjectRecord object;
    std::string version_id;  ///< the source's, when its bucket is versioned (x-amz-copy-source-version-id)
  };
  CopySource copy_source(const Call& c);

  /// Runs `work` on the platform's pool and returns the placeholder the server waits on (see
  /// protocol/deferred.hpp): for work that would block an I/O thread. Errors it throws are rendered
  /// as S3's; request-id headers are added to whatever it answers. `work` runs while the request's
  /// context is alive, but must own (capture) everything else it uses.
  Response on_pool(const RequestContext& ctx, std::function<Response()> work);

  storage::Store& store_;
  protocol::Clock& clock_;
  protocol::Scheduler& scheduler_;
  BlobStore blobs_;
  KeyLocks locks_;
  std::shared_ptr<const protocol::sigv4::CredentialLookup> keys_;
  NotificationDelivery notifications_;
  Sequencer sequencer_;
  /// Serialises read-modify-write of bucket records (tagging, notification configuration).
  std::mutex bucket_config_mu_;

  // ---- the bucket table (all accounts; bucket names are global)
  [[nodiscard]] std::optional<BucketRecord> bucket(std::string_view name) const;
  void put_bucket_record(const BucketRecord& b);
  void drop_bucket_record(std::string_view name);
  [[nodiscard]] std::vector<BucketRecord> account_buckets(std::string_view account) const;

 private:
  void load_buckets();
  /// A background pass on the platform's scheduler (lifecycle, access log delivery); `stopped`
  /// (under `mu`, which each pass holds) ends it.
  struct PassTimer {
    std::mutex mu;
    bool stopped = false;
    std::atomic<protocol::Scheduler::TimerId> id{0};
  };
  /// Runs `pass` on the pool at `next(now)` of the platform clock, again and again until stopped.
  void schedule_pass(std::shared_ptr<PassTimer> timer, std::int64_t (*next)(std::int64_t now),
                     void (*pass)(S3Service&));
  static void stop_pass(protocol::Scheduler& scheduler, PassTimer& timer);

  mutable std::shared_mutex buckets_mu_;
  std::shared_ptr<PassTimer> lifecycle_timer_ = std::make_shared<PassTimer>();
  /// Server access logging (s3_access_log.cpp): records wait here for the delivery timer.
  std::shared_ptr<AccessLogBuffer> access_logs_ = std::make_shared<AccessLogBuffer>();
  std::shared_ptr<PassTimer> access_log_timer_ = std::make_shared<PassTimer>();
  std::map<std::string, BucketRecord, std::less<>> buckets_;
};

}  // namespace fogbank::s3
