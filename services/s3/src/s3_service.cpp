// S3's operation table, request routing and the helpers the handler files share.
//
// An operation is selected by HTTP method, the level the path points at (service, bucket or
// object), an optional subresource query parameter (?tagging, ?uploads, ...) and an optional
// header (x-amz-copy-source). The first matching row wins, so specific rows come first. Adding an
// operation is one row here plus its handler.

#include "fogbank/s3/s3_service.hpp"

#include <algorithm>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/deferred.hpp"
#include "fogbank/protocol/dispatcher.hpp"
#include "fogbank/protocol/error_render.hpp"
#include "fogbank/protocol/resource_policy.hpp"
#include "fogbank/s3/checksum.hpp"
#include "fogbank/storage/keys.hpp"
#include "s3_internal.hpp"
#include "s3_lifecycle.hpp"

namespace fogbank::s3 {

namespace {

enum class Level { kService, kBucket, kObject };

/// Where a buffered operation's handler runs. Blocking work must not hold an I/O thread, whose
/// other connections would stall behind it; a pool hop costs a small request more than it saves.
enum class Runs {
  kInline,      ///< on the I/O thread
  kOnPool,      ///< always on the pool: copies read and write object bytes, then flush them
  kPoolIfLarge  ///< on the pool when the body has at least one blob chunk (written, then flushed)
};

struct Operation {
  std::string_view name;
  std::string_view method;
  Level level;
  std::string_view subresource;  ///< query parameter that selects the row ("" = none may be present)
  std::string_view header;       ///< request header that selects the row ("" = not required)
  Handler handle = nullptr;
  StreamHandler stream = nullptr;
  Runs runs = Runs::kInline;
  std::string_view param = {};  ///< query parameter the row also needs ("" = none)
};

using S = S3Service;
constexpr Level kSvc = Level::kService;
constexpr Level kBkt = Level::kBucket;
constexpr Level kObj = Level::kObject;

const Operation kOperations[] = {
    {"ListBuckets", "GET", kSvc, "", "", &S::list_buckets},

    {"PutBucketTagging", "PUT", kBkt, "tagging", "", &S::put_bucket_tagging},
    {"PutBucketNotificationConfiguration", "PUT", kBkt, "notification", "", &S::put_bucket_notification_configuration},
    {"CreateBucket", "PUT", kBkt, "", "", &S::create_bucket},
    {"GetBucketLocation", "GET", kBkt, "location", "", &S::get_bucket_location},
    {"GetBucketTagging", "GET", kBkt, "tagging", "", &S::get_bucket_tagging},
    {"GetBucketVersioning", "GET", kBkt, "versioning", "", &S::get_bucket_versioning},
    {"PutBucketVersioning", "PUT", kBkt, "versioning", "", &S::put_bucket_versioning},
    {"PutObjectLockConfiguration", "PUT", kBkt, "object-lock", "", &S::put_object_lock_configuration},
    {"GetObjectLockConfiguration", "GET", kBkt, "object-lock", "", &S::get_object_lock_configuration},
    {"GetBucketAcl", "GET", kBkt, "acl", "", &S::get_bucket_acl},
    {"PutBucketAcl", "PUT", kBkt, "acl", "", &S::put_bucket_acl},
    {"GetBucketPolicy", "GET", kBkt, "policy", "", &S::get_bucket_policy},
    {"GetBucketEncryption", "GET", kBkt, "encryption", "", &S::get_bucket_encryption},
    {"PutBucketCors", "PUT", kBkt, "cors", "", &S::put_bucket_cors},
    {"PutBucketPolicy", "PUT", kBkt, "policy", "", &S::put_bucket_policy},
    {"PutBucketLifecycleConfiguration", "PUT", kBkt, "lifecycle", "", &S::put_bucket_lifecycle},
    {"PutBucketWebsite", "PUT", kBkt, "website", "", &S::put_bucket_website},
    {"PutPublicAccessBlock", "PUT", kBkt, "publicAccessBlock", "", &S::put_public_access_block},
    {"GetPublicAccessBlock", "GET", kBkt, "publicAccessBlock", "", &S::get_public_access_block},
    {"DeletePublicAccessBlock", "DELETE", kBkt, "publicAccessBlock", "", &S::delete_public_access_block},
    {"PutBucketOwnershipControls", "PUT", kBkt, "ownershipControls", "", &S::put_ownership_controls},
    {"GetBucketOwnershipControls", "GET", kBkt, "ownershipControls", "", &S::get_ownership_controls},
    {"DeleteBucketOwnershipControls", "DELETE", kBkt, "ownershipControls", "", &S::delete_ownership_controls},
    {"PutBucketRequestPayment", "PUT", kBkt, "requestPayment", "", &S::put_request_payment},
    {"GetBucketRequestPayment", "GET", kBkt, "requestPayment", "", &S::get_request_payment},
    {"PutBucketAccelerateConfiguration", "PUT", kBkt, "accelerate", "", &S::put_accelerate},
    {"GetBucketAccelerateConfiguration", "GET", kBkt, "accelerate", "", &S::get_accelerate},
    {"PutBucketReplication", "PUT", kBkt, "replication", "", &S::put_replication},
    {"GetBucketReplication", "GET", kBkt, "replication", "", &S::get_replication},
    {"DeleteBucketReplication", "DELETE", kBkt, "replication", "", &S::delete_replication},
    {"PutBucketInventoryConfiguration", "PUT", kBkt, "inventory", "", &S::put_id_config},
    {"GetBucketInventoryConfiguration", "GET", kBkt, "inventory", "", &S::get_id_config, nullptr, Runs::kInline, "id"},
    {"ListBucketInventoryConfigurations", "GET", kBkt, "inventory", "", &S::list_id_configs},
    {"DeleteBucketInventoryConfiguration", "DELETE", kBkt, "inventory", "", &S::delete_id_config},
    {"PutBucketAnalyticsConfiguration", "PUT", kBkt, "analytics", "", &S::put_id_config},
    {"GetBucketAnalyticsConfiguration", "GET", kBkt, "analytics", "", &S::get_id_config, nullptr, Runs::kInline, "id"},
    {"ListBucketAnalyticsConfigurations", "GET", kBkt, "analytics", "", &S::list_id_configs},
    {"DeleteBucketAnalyticsConfiguration", "DELETE", kBkt, "analytics", "", &S::delete_id_config},
    {"PutBucketMetricsConfiguration", "PUT", kBkt, "metrics", "", &S::put_id_config},
    {"GetBucketMetricsConfiguration", "GET", kBkt, "metrics", "", &S::get_id_config, nullptr, Runs::kInline, "id"},
    {"ListBucketMetricsConfigurations", "GET", kBkt, "metrics", "", &S::list_id_configs},
    {"DeleteBucketMetricsConfiguration", "DELETE", kBkt, "metrics", "", &S::delete_id_config},
    {"PutBucketIntelligentTieringConfiguration", "PUT", kBkt, "intelligent-tiering", "", &S::put_id_config},
    {"GetBucketIntelligentTieringConfiguration", "GET", kBkt, "intelligent-tiering", "", &S::get_id_config, nullptr, Runs::kInline, "id"},
    {"ListBucketIntelligentTieringConfigurations", "GET", kBkt, "intelligent-tiering", "", &S::list_id_configs},
    {"DeleteBucketIntelligentTieringConfiguration", "DELETE", kBkt, "intelligent-tiering", "", &S::delete_id_config},
    {"GetBucketWebsite", "GET", kBkt, "website", "", &S::get_bucket_website},
    {"DeleteBucketWebsite", "DELETE", kBkt, "website", "", &S::delete_bucket_website},
    {"GetBucketLifecycleConfiguration", "GET", kBkt, "lifecycle", "", &S::get_bucket_lifecycle},
    {"DeleteBucketLifecycle", "DELETE", kBkt, "lifecycle", "", &S::delete_bucket_lifecycle},
    {"DeleteBucketPolicy", "DELETE", kBkt, "policy", "", &S::delete_bucket_policy},
    {"PutBucketEncryption", "PUT", kBkt, "encryption", "", &S::put_bucket_encryption},
    {"DeleteBucketEncryption", "DELETE", kBkt, "encryption", "", &S::delete_bucket_encryption},
    {"PutBucketLogging", "PUT", kBkt, "logging", "", &S::put_bucket_logging},
    {"GetBucketLogging", "GET", kBkt, "logging", "", &S::get_bucket_logging},
    {"GetBucketCors", "GET", kBkt, "cors", "", &S::get_bucket_cors},
    {"DeleteBucketCors", "DELETE", kBkt, "cors", "", &S::delete_bucket_cors},
    {"PreflightRequest", "OPTIONS", kBkt, "", "", &S::preflight},
    {"GetBucketNotificationConfiguration", "GET", kBkt, "notification", "", &S::get_bucket_notification_configuration},
    {"ListMultipartUploads", "GET", kBkt, "uploads", "", &S::list_multipart_uploads},
    {"ListObjectVersions", "GET", kBkt, "versions", "", &S::list_object_versions},
    {"ListObjectsV2", "GET", kBkt, "list-type", "", &S::list_objects_v2},
    {"ListObjects", "GET", kBkt, "", "", &S::list_objects},
    {"HeadBucket", "HEAD", kBkt, "", "", &S::head_bucket},
    {"DeleteBucketTagging", "DELETE", kBkt, "tagging", "", &S::delete_bucket_tagging},
    {"DeleteBucket", "DELETE", kBkt, "", "", &S::delete_bucket},
    {"DeleteObjects", "POST", kBkt, "delete", "", &S::delete_objects},
    {"PostObject", "POST", kBkt, "", "", &S::post_object, nullptr, Runs::kPoolIfLarge},

    {"PutObjectTagging", "PUT", kObj, "tagging", "", &S::put_object_tagging},
    {"UploadPartCopy", "PUT", kObj, "uploadId", "x-amz-copy-source", &S::upload_part_copy, nullptr, Runs::kOnPool},
    {"UploadPart", "PUT", kObj, "uploadId", "", nullptr, &S::upload_part},
    {"CopyObject", "PUT", kObj, "", "x-amz-copy-source", &S::copy_object, nullptr, Runs::kOnPool},
    {"PutObject", "PUT", kObj, "", "", nullptr, &S::put_object},
    {"GetObjectTagging", "GET", kObj, "tagging", "", &S::get_object_tagging},
    {"GetObjectAcl", "GET", kObj, "acl", "", &S::get_object_acl},
    {"PutObjectAcl", "PUT", kObj, "acl", "", &S::put_object_acl},
    {"PutObjectRetention", "PUT", kObj, "retention", "", &S::put_object_retention},
    {"GetObjectRetention", "GET", kObj, "retention", "", &S::get_object_retention},
    {"PutObjectLegalHold", "PUT", kObj, "legal-hold", "", &S::put_object_legal_hold},
    {"GetObjectLegalHold", "GET", kObj, "legal-hold", "", &S::get_object_legal_hold},
    {"GetObjectAttributes", "GET", kObj, "attributes", "", &S::get_object_attributes},
    {"ListParts", "GET", kObj, "uploadId", "", &S::list_parts},
    {"GetObject", "GET", kObj, "", "", &S::get_object},
    {"HeadObject", "HEAD", kObj, "", "", &S::head_object},
    {"DeleteObjectTagging", "DELETE", kObj, "tagging", "", &S::delete_object_tagging},
    {"AbortMultipartUpload", "DELETE", kObj, "uploadId", "", &S::abort_multipart_upload},
    {"DeleteObject", "DELETE", kObj, "", "", &S::delete_object},
    {"CreateMultipartUpload", "POST", kObj, "uploads", "", &S::create_multipart_upload},
    {"PreflightRequest", "OPTIONS", kObj, "", "", &S::preflight},
    {"CompleteMultipartUpload", "POST", kObj, "uploadId", "", &S::complete_multipart_upload},
};

// Query parameters that name a subresource: a row without one never matches a request that
// has one (PUT ?versioning is not CreateBucket).
constexpr std::string_view kSubresources[] = {
    "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
    "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging",
    "metrics", "notification", "object-lock", "ownershipControls", "policy", "policyStatus",
    "publicAccessBlock", "replication", "requestPayment", "restore", "retention", "select",
    "tagging", "torrent", "uploadId", "uploads", "versioning", "versions", "website", "session",
    "list-type", "metadataTable", "renameObject"};

struct Target {
  std::string bucket;
  std::string key;
  Level level = Level::kService;
};

/// Bodies of at least one blob chunk are large: their blob has chunks to flush before the commit,
/// and their MD5 is finished on the pool (PayloadDigests hands it over after the first MiB).
constexpr std::uint64_t kLargeBodyBytes = storage::kDefaultChunkSize;

/// A streaming upload's finish() -- wait for the last MD5 blocks, flush the blob's chunks, commit
/// the record -- runs on the pool once the body is large; small bodies finish inline, which is
/// cheaper than the hop. The wrapped sink stays owned here, and the server keeps this sink until
/// the deferred response is delivered or cancelled, so the pool work may use it.
class PoolFinishSink final : public protocol::BodySink {
 public:
  PoolFinishSink(S3Service& s3, std::shared_ptr<Call> call, std::unique_ptr<protocol::BodySink> inner)
      : s3_(s3), call_(std::move(call)), inner_(std::move(inner)) {}

  void write(std::string_view data) override {
    received_ += data.size();
    inner_->write(data);
  }
  Response finish() override {
    if (received_ < kLargeBodyBytes) {
      return with_cors(*inner_);
    }
    return s3_.on_pool(call_->ctx, [this] { return with_cors(*inner_); });
  }
  void abort() noexcept override { inner_->abort(); }
  [[nodiscard]] bool failed() const noexcept override { return inner_->failed(); }

 private:
  Response with_cors(protocol::BodySink& sink) {
    std::vector<std::pair<std::string, std::string>> cors;
    try {
      Response r = sink.finish();
      s3_.add_cors(*call_, cors);
      for (auto& [name, value] : cors) {
        r.headers.add(std::move(name), std::move(value));
      }
      return r;
    } catch (AwsError& e) {
      s3_.add_cors(*call_, e.headers);
      throw;
    }
  }

  S3Service& s3_;
  std::shared_ptr<Call> call_;
  std::unique_ptr<protocol::BodySink> inner_;
  std::uint64_t received_ = 0;
};

}  // namespace

std::optional<std::string> virtual_host_bucket(const protocol::RequestHead& head) {
  auto host = head.host_name();
  if (auto at = host.find(".s3."); at != std::string_view::npos && at > 0) {
    return std::string(host.substr(0, at));
  }
  if (auto at = host.find(".s3-"); at != std::string_view::npos && at > 0) {
    return std::string(host.substr(0, at));  // legacy dash-region endpoints
  }
  constexpr std::string_view kLocal = ".localhost";
  if (host.size() > kLocal.size() && host.ends_with(kLocal)) {
    auto bucket = host.substr(0, host.size() - kLocal.size());
    if (bucket != "s3" && !bucket.starts_with("s3.")) {
      return std::string(bucket);
    }
  }
  return std::nullopt;
}

namespace {

Target parse_target(const protocol::RequestHead& head) {
  Target t;
  std::string_view path = head.path;
  if (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  auto decode = [](std::string_view raw) {
    auto d = protocol::percent_decode(raw, false);
    if (!d) {
      throw AwsError("InvalidURI", 400, "Couldn't parse the specified URI.");
    }
    return std::move(*d);
  };
  if (auto vb = virtual_host_bucket(head)) {
    t.bucket = *vb;
    t.key = decode(path);
  } else {
    auto slash = path.find('/');
    t.bucket = decode(path.substr(0, slash));
    if (slash != std::string_view::npos) {
      t.key = decode(path.substr(slash + 1));
    }
  }
  t.level = t.bucket.empty() ? Level::kService : t.key.empty() ? Level::kBucket : Level::kObject;
  return t;
}

const Operation* find_operation(const protocol::RequestHead& head, const Target& t,
                                const protocol::QueryParams& query) {
  auto has_param = [&](std::string_view n) { return protocol::find_param(query, n) != nullptr; };
  bool any_subresource = std::any_of(std::begin(kSubresources), std::end(kSubresources), has_param);
  for (const auto& op : kOperations) {
    if (op.method != head.method || op.level != t.level) {
      continue;
    }
    if (op.subresource.empty() ? any_subresource : !has_param(op.subresource)) {
      continue;
    }
    if (!op.header.empty() && !head.headers.has(op.header)) {
      continue;
    }
    if (!op.param.empty() && !has_param(op.param)) {
      continue;
    }
    return &op;
  }
  return nullptr;
}

/// The operation as server access logs name it: REST.<METHOD>.<resource>.
std::string make_log_operation_name(const Operation& op) {
  static constexpr std::pair<std::string_view, std::string_view> kResources[] = {
      {"ListObjectVersions", "BUCKETVERSIONS"}, {"DeleteObjects", "MULTI_OBJECT_DELETE"},
      {"UploadPart", "PART"},                   {"UploadPartCopy", "PART"},
      {"CreateMultipartUpload", "UPLOADS"},     {"ListMultipartUploads", "UPLOADS"},
      {"CompleteMultipartUpload", "UPLOAD"},    {"AbortMultipartUpload", "UPLOAD"},
      {"ListParts", "UPLOAD"},                  {"GetBucketPolicy", "BUCKETPOLICY"},
      {"PutBucketPolicy", "BUCKETPOLICY"},      {"DeleteBucketPolicy", "BUCKETPOLICY"},
      {"GetBucketLogging", "LOGGING_STATUS"},   {"PutBucketLogging", "LOGGING_STATUS"},
      {"GetObjectTagging", "OBJECT_TAGGING"},   {"PutObjectTagging", "OBJECT_TAGGING"},
      {"DeleteObjectTagging", "OBJECT_TAGGING"}, {"PreflightRequest", "PREFLIGHT"},
      {"ListObjectsV2", "BUCKET"}};
  std::string out = "REST.";
  out += op.name == "CopyObject" || op.name == "UploadPartCopy" ? std::string_view("COPY") : op.method;
  out += '.';
  for (const auto& [name, resource] : kResources) {
    if (name == op.name) {
      return out + std::string(resource);
    }
  }
  if (op.subresource.empty()) {
    return out + (op.level == Level::kObject ? "OBJECT" : "BUCKET");
  }
  for (char ch : op.subresource) {  // objectLock / object-lock → OBJECT_LOCK
    if (std::isupper(static_cast<unsigned char>(ch)) || ch == '-') {
      out += '_';
    }
    if (ch != '-') {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
  }
  return out;
}

/// Every row's log name, made once (every request of a logging bucket needs its row's).
const std::string& log_operation_name(const Operation& op) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& row : kOperations) {
      out.push_back(make_log_operation_name(row));
    }
    return out;
  }();
  return names[static_cast<std::size_t>(&op - kOperations)];
}

struct Resolved {
  Target target;
  protocol::QueryParams query;
  const Operation* op = nullptr;
};

Resolved resolve_request(const protocol::RequestHead& head) {
  Resolved r;
  r.target = parse_target(head);
  auto q = protocol::parse_query_string(head.query);
  if (!q) {
    throw AwsError("InvalidURI", 400, "Couldn't parse the specified URI.");
  }
  r.query = std::move(*q);
  r.op = find_operation(head, r.target, r.query);
  if (r.op == nullptr) {
    static constexpr std::string_view kMethods[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
    if (std::find(std::begin(kMethods), std::end(kMethods), head.method) == std::end(kMethods)) {
      throw AwsError("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
          .with_field("Method", head.method)
          .with_field("ResourceType", r.target.level == Level::kObject ? "OBJECT" : "BUCKET");
    }
    throw AwsError("NotImplemented", 501,
                   "A header you provided implies functionality that is not implemented");
  }
  return r;
}

/// The IAM action that authorizes an operation: "s3:" + its name, except where S3's action names
/// differ (reads of metadata are GetObject, listings ListBucket, multipart steps PutObject, ...).
std::string iam_action_of(std::string_view operation) {
  static constexpr std::pair<std::string_view, std::string_view> kDiffering[] = {
      {"ListBuckets", "ListAllMyBuckets"},
      {"HeadBucket", "ListBucket"},
      {"ListObjects", "ListBucket"},
      {"ListObjectsV2", "ListBucket"},
      {"ListObjectVersions", "ListBucketVersions"},
      {"ListMultipartUploads", "ListBucketMultipartUploads"},
      {"ListParts", "ListMultipartUploadParts"},
      {"HeadObject", "GetObject"},
      {"CopyObject", "PutObject"},
      {"PostObject", "PutObject"},
      {"CreateMultipartUpload", "PutObject"},
      {"UploadPart", "PutObject"},
      {"UploadPartCopy", "PutObject"},
      {"CompleteMultipartUpload", "PutObject"},
      {"DeleteObjects", "DeleteObject"},
      {"DeleteBucketTagging", "PutBucketTagging"},
      {"PutObjectLockConfiguration", "PutBucketObjectLockConfiguration"},
      {"PutBucketInventoryConfiguration", "PutInventoryConfiguration"},
      {"GetBucketInventoryConfiguration", "GetInventoryConfiguration"},
      {"ListBucketInventoryConfigurations", "GetInventoryConfiguration"},
      {"DeleteBucketInventoryConfiguration", "PutInventoryConfiguration"},
      {"PutBucketAnalyticsConfiguration", "PutAnalyticsConfiguration"},
      {"GetBucketAnalyticsConfiguration", "GetAnalyticsConfiguration"},
      {"ListBucketAnalyticsConfigurations", "GetAnalyticsConfiguration"},
      {"DeleteBucketAnalyticsConfiguration", "PutAnalyticsConfiguration"},
      {"PutBucketMetricsConfiguration", "PutMetricsConfiguration"},
      {"GetBucketMetricsConfiguration", "GetMetricsConfiguration"},
      {"ListBucketMetricsConfigurations", "GetMetricsConfiguration"},
      {"DeleteBucketMetricsConfiguration", "PutMetricsConfiguration"},
      {"PutBucketIntelligentTieringConfiguration", "PutIntelligentTieringConfiguration"},
      {"GetBucketIntelligentTieringConfiguration", "GetIntelligentTieringConfiguration"},
      {"ListBucketIntelligentTieringConfigurations", "GetIntelligentTieringConfiguration"},
      {"DeleteBucketIntelligentTieringConfiguration", "PutIntelligentTieringConfiguration"},
      {"GetObjectLockConfiguration", "GetBucketObjectLockConfiguration"},
      {"GetBucketEncryption", "GetEncryptionConfiguration"},
      {"PutBucketEncryption", "PutEncryptionConfiguration"},
      {"DeleteBucketEncryption", "PutEncryptionConfiguration"},
      {"GetBucketCors", "GetBucketCORS"},
      {"PutBucketLifecycleConfiguration", "PutLifecycleConfiguration"},
      {"GetBucketLifecycleConfiguration", "GetLifecycleConfiguration"},
      {"DeleteBucketLifecycle", "PutLifecycleConfiguration"},
      {"PutBucketCors", "PutBucketCORS"},
      {"DeleteBucketCors", "PutBucketCORS"},
      {"GetBucketNotificationConfiguration", "GetBucketNotification"},
      {"PutBucketNotificationConfiguration", "PutBucketNotification"},
  };
  for (const auto& [op, action] : kDiffering) {
    if (op == operation) {
      return "s3:" + std::string(action);
    }
  }
  return "s3:" + std::string(operation);
}

}  // namespace

S3Service::S3Service(const protocol::Platform& platform, NotificationTargets targets, S3Options options)
    : store_(platform.store),
      clock_(platform.clock),
      scheduler_(platform.scheduler),
      blobs_(platform.store, platform.clock,
             [&pool = platform.scheduler](std::function<void()> task) { pool.post(std::move(task)); }),
      keys_(platform.keys),
      notifications_(std::move(targets.queues), std::move(targets.topics)) {
  master_key_ = load_master_key();
  encrypt_all_ = options.encrypt_all;
  blobs_.sweep();
  load_buckets();
  // Lifecycle rules apply at every midnight UTC of the platform clock.
  schedule_pass(lifecycle_timer_, next_midnight_ms, [](S3Service& s3) { s3.sweep_lifecycle(); });
  schedule_pass(access_log_timer_, [](std::int64_t now) { return now + kAccessLogDeliveryMs; },
                [](S3Service& s3) { s3.deliver_access_logs(); });
}

S3Service::~S3Service() {
  stop_pass(scheduler_, *lifecycle_timer_);
  stop_pass(scheduler_, *access_log_timer_);
}

void S3Service::stop_pass(protocol::Scheduler& scheduler, PassTimer& timer) {
  {
    std::lock_guard lock(timer.mu);  // waits for a pass in progress, which re-arms
    timer.stopped = true;
  }
  scheduler.cancel(timer.id.load());
}

void S3Service::schedule_pass(std::shared_ptr<PassTimer> timer, std::int64_t (*next)(std::int64_t now),
                              void (*pass)(S3Service&)) {
  // A virtual clock moved past several fires fires once; the pass then does everything due by
  // its now. The pass runs on the pool, not the timer thread.
  timer->id = scheduler_.at(next(clock_.now_ms()), [this, timer, next, pass] {
    scheduler_.post([this, timer, next, pass] {
      std::lock_guard lock(timer->mu);
      if (timer->stopped) {
        return;
      }
      try {
        pass(*this);
      } catch (const std::exception&) {
        // A failed pass (a storage error) is retried at the next fire.
      }
      schedule_pass(timer, next, pass);
    });
  });
}

bool S3Service::streams_body(const protocol::RequestHead& head) const { return resolve(head, nullptr).streams_body; }

protocol::Resolution S3Service::resolve(const protocol::RequestHead& head, const protocol::QueryParams*) const {
  protocol::Resolution resolution;
  if (website_target(head)) {
    resolution.operation = "WebsiteRequest";
    resolution.iam_action = "s3:GetObject";
    return resolution;  // anonymous and bodiless: handle() serves it
  }
  try {
    auto r = resolve_request(head);
    resolution.operation = std::string(r.op->name);
    resolution.iam_action = iam_action_of(r.op->name);
    resolution.streams_body = r.op->stream != nullptr;
  } catch (const AwsError&) {
    // Unroutable: handle() resolves again and reports the error through the error boundary.
  }
  return resolution;
}

bool S3Service::accepts_anonymous(const protocol::RequestHead& head) const {
  // SigV2 presigned URLs and browser form uploads (a policy signature in the body) are signed in
  // ways the SigV4 verifier does not know; the handlers check them.
  if (is_sigv2_presigned(head) || head.method == "OPTIONS" || website_target(head)) {
    return true;  // OPTIONS: a browser's CORS preflight carries no credentials; websites are public
  }
  try {
    // S3 tells an anonymous caller that a bucket does not exist (404 NoSuchBucket) before it
    // refuses the request; handle() answers that.
    if (auto t = parse_target(head); !t.bucket.empty() && !bucket(t.bucket)) {
      return true;
    }
  } catch (const AwsError&) {
    // An unparsable target is refused as unauthenticated.
  }
  if (head.method != "POST") {
    return false;
  }
  auto ct = head.headers.get("content-type").value_or("");
  return ct.starts_with("multipart/form-data") && parse_target(head).level == Level::kBucket;
}

Response S3Service::handle(RequestContext& ctx, std::string body) {
  if (auto site = website_target(ctx.head)) {
    return serve_website(ctx, *site);
  }
  auto r = resolve_request(ctx.head);
  ctx.operation = std::string(r.op->name);
  if (r.op->handle == nullptr) {
    throw errors::invalid_argument("streaming operation reached the buffered path");
  }
  Call call(ctx);
  call.bucket = std::move(r.target.bucket);
  call.key = std::move(r.target.key);
  call.query = std::move(r.query);
  call.body = std::move(body);
  call.scheduler = &scheduler_;
  const auto& log_operation = log_operation_name(*r.op);
  arm_access_log(call, log_operation);
  if (r.op->handle == &S3Service::preflight) {
    return preflight(call);
  }
  // Whatever is answered to a cross-origin request a CORS rule admits carries its headers, errors
  // included, so the page can read them.
  auto with_cors = [this](Call& call, Handler handler) {
    try {
      Response response = (this->*handler)(call);
      std::vector<std::pair<std::string, std::string>> cors;
      add_cors(call, cors);
      for (auto& [name, value] : cors) {
        response.headers.add(std::move(name), std::move(value));
      }
      return response;
    } catch (AwsError& e) {
      add_cors(call, e.headers);
      throw;
    }
  };
  try {
    if (ctx.account_id.empty() && !call.bucket.empty() && r.op->handle != &S3Service::create_bucket &&
        !bucket(call.bucket)) {
      throw errors::no_such_bucket(call.bucket);
    }
    if (ctx.account_id.empty() && r.op->handle != &S3Service::post_object) {
      authenticate_sigv2(call);  // let through unsigned by accepts_anonymous()
      if (ctx.on_complete) {
        arm_access_log(call, log_operation);  // again: the record names the requester SigV2 found
      }
    }
    if (auto owner = ctx.head.headers.get("x-amz-expected-bucket-owner"); owner && !call.bucket.empty()) {
      if (auto b = bucket(call.bucket); b && b->account != *owner) {
        throw errors::access_denied();
      }
    }
    enforce_bucket_policy(call, r.op->name);
  } catch (AwsError& e) {
    add_cors(call, e.headers);
    throw;
  }
  const bool pooled = r.op->runs == Runs::kOnPool ||
                      (r.op->runs == Runs::kPoolIfLarge && call.body.size() >= kLargeBodyBytes);
  if (!pooled) {
    return with_cors(call, r.op->handle);
  }
  return on_pool(ctx, [with_cors, handler = r.op->handle, owned = std::make_shared<Call>(std::move(call))] {
    return with_cors(*owned, handler);
  });
}

Response S3Service::on_pool(const RequestContext& ctx, std::function<Response()> work) {
  return protocol::run_on_pool(
      scheduler_,
      [&ctx, work = std::move(work)] {
        Response r;
        try {
          r = work();
        } catch (const AwsError&) {
          throw;
        } catch (const std::exception&) {
          // What the dispatcher's boundary answers S3 for anything but an AwsError.
          throw AwsError("InternalError", 500, "We encountered an internal error. Please try again.", false);
        }
        // The server sends this in place of the placeholder the dispatcher decorated.
        protocol::add_request_id_headers(r, ctx.protocol, ctx.request_id);
        return r;
      },
      [this, &ctx](const AwsError& e) {
        return protocol::render_service_error(this, e, ctx.protocol, ctx.request_id, ctx.head.method);
      });
}

std::unique_ptr<protocol::BodySink> S3Service::begin_stream(std::shared_ptr<RequestContext> ctx) {
  auto r = resolve_request(ctx->head);
  ctx->operation = std::string(r.op->name);
  auto call = std::make_shared<Call>(ctx);
  call->bucket = std::move(r.target.bucket);
  call->key = std::move(r.target.key);
  call->query = std::move(r.query);
  call->scheduler = &scheduler_;
  const auto& log_operation = log_operation_name(*r.op);
  arm_access_log(*call, log_operation);
  if (ctx->account_id.empty()) {
    if (!call->bucket.empty() && !bucket(call->bucket)) {
      throw errors::no_such_bucket(call->bucket);
    }
    authenticate_sigv2(*call);
    if (ctx->on_complete) {
      arm_access_log(*call, log_operation);  // again: the record names the requester SigV2 found
    }
  }
  enforce_bucket_policy(*call, r.op->name);
  auto sink = (this->*(r.op->stream))(call);
  return std::make_unique<PoolFinishSink>(*this, std::move(call), std::move(sink));
}

std::string S3Service::state() const {
  std::shared_lock lock(buckets_mu_);
  return "running (" + std::to_string(buckets_.size()) + " buckets)";
}

void S3Service::reset() {
  std::unique_lock lock(buckets_mu_);
  buckets_.clear();
  // The reset wiped the stored master key too; objects written from now on are sealed with the
  // one in memory, so it must be stored again or a restart could not open them.
  store_master_key();
}

// ---- bucket table

void S3Service::load_buckets() {
  std::unique_lock lock(buckets_mu_);
  buckets_.clear();
  for (auto c = store_.scan_prefix(storage::Space::kS3Meta, storage::KeyBuilder("B").key());
       c.valid(); c.next()) {
    BucketRecord b;
    if (decode(c.value(), b)) {
      buckets_.emplace(b.name, std::move(b));
    }
  }
}

std::optional<BucketRecord> S3Service::bucket(std::string_view name) const {
  std::shared_lock lock(buckets_mu_);
  auto it = buckets_.find(name);
  if (it == buckets_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void S3Service::put_bucket_record(const BucketRecord& b) {
  if (auto st = store_.put(storage::Space::kS3Meta, bucket_key(b.name), encode(b)); !st) {
    throw protocol::errors::internal_failure(st.message());
  }
  std::unique_lock lock(buckets_mu_);
  buckets_[b.name] = b;
}

void S3Service::drop_bucket_record(std::string_view name) {
  std::unique_lock lock(buckets_mu_);
  if (auto it = buckets_.find(name); it != buckets_.end()) {
    buckets_.erase(it);
  }
}

std::vector<BucketRecord> S3Service::account_buckets(std::string_view account) const {
  std::shared_lock lock(buckets_mu_);
  std::vector<BucketRecord> out;
  for (const auto& [name, b] : buckets_) {
    if (b.account == account) {
      out.push_back(b);
    }
  }
  return out;
}

// ---- event notifications

std::optional<S3Service::PendingEvent> S3Service::object_event(const Call& c, const BucketRecord& bucket,
                                                               EventKind kind, std::string_view key,
                                                               const ObjectRecord* object,
                                                               std::string_view version_id) {
  if (!bucket.notifications || !NotificationDelivery::wants(*bucket.notifications, kind, key)) {
    return std::nullopt;
  }
  PendingEvent p;
  p.config = bucket.notifications;
  auto& e = p.event;
  e.kind = kind;
  e.time_ms = clock_.now_ms();
  e.region = bucket.region;
  e.bucket = bucket.name;
  e.bucket_owner = bucket.account;
  const auto& caller = c.ctx.caller;
  if (by_s3(kind)) {
    e.principal_id = "s3.amazonaws.com";  // S3 itself did it, from no client address
  } else if (caller.user_id.empty() && c.ctx.account_id.empty()) {
    e.principal_id = "Anonymous";
  } else if (caller.user_id.empty() || caller.user_id == c.ctx.account_id) {
    e.principal_id = customer_principal_id(c.ctx.account_id);  // the account's root user
  } else {
    e.principal_id = "AWS:" + caller.user_id;
  }
  e.source_ip = by_s3(kind) ? "s3.amazonaws.com" : c.ctx.head.remote_address;
  if (e.source_ip.starts_with("::ffff:")) {
    e.source_ip.erase(0, 7);  // IPv4-mapped: the IPv4 address
  }
  e.request_id = c.ctx.request_id;
  e.host_id = protocol::base64_encode(c.ctx.request_id + c.ctx.request_id);  // as the response's x-amz-id-2
  e.key = std::string(key);
  if (object != nullptr) {
    e.size = object->size;
    e.etag = object->etag;
  }
  if (!bucket.versioning.empty()) {
    e.version_id = object != nullptr ? shown_version_id(*object) : std::string(version_id);
  }
  if (!changes_object_in_place(kind)) {
    e.sequencer = sequencer_.next(e.time_ms);
  }
  return p;
}

void S3Service::emit(std::optional<PendingEvent> pending) {
  if (!pending) {
    return;
  }
  try {
    notifications_.deliver(*pending->config, pending->event);
  } catch (const std::exception&) {
    // A destination's failure never fails the S3 request, which has already committed.
  }
}

// ---- shared helpers

void S3Service::enforce_bucket_policy(const Call& c, std::string_view operation) const {
  if (c.bucket.empty()) {
    return;
  }
  auto b = bucket(c.bucket);
  if (!b || b->policy.empty()) {
    return;
  }
  if (b->account == c.ctx.account_id &&
      (operation == "GetBucketPolicy" || operation == "PutBucketPolicy" || operation == "DeleteBucketPolicy")) {
    return;  // as for AWS's root user: a policy that denies everything can still be replaced
  }
  // DeleteObjects is judged key by key (s3:DeleteObject on each), in its handler.
  if (operation != "DeleteObjects" && policy_denies(c, *b, iam_action_of(operation), c.key)) {
    throw errors::access_denied();
  }
}

bool S3Service::policy_denies(const Call& c, const BucketRecord& b, std::string_view action,
                              std::string_view key) const {
  if (b.policy.empty()) {
    return false;
  }
  // The condition keys S3 puts in its request context that fogbank knows.
  protocol::PolicyContext context;
  const auto& h = c.ctx.head.headers;
  for (std::string_view header : {"x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                                  "x-amz-acl", "x-amz-storage-class", "x-amz-copy-source",
                                  "x-amz-metadata-directive", "x-amz-content-sha256"}) {
    if (auto v = h.get(header)) {
      context["s3:" + std::string(header)] = {std::string(*v)};
    }
  }
  for (std::string_view param : {"prefix", "delimiter", "max-keys"}) {
    if (const std::string* v = c.param(param)) {
      context["s3:" + std::string(param)] = {*v};
    }
  }
  context["aws:SecureTransport"] = {c.ctx.head.tls ? "true" : "false"};
  if (!c.ctx.account_id.empty()) {
    context["aws:PrincipalAccount"] = {c.ctx.account_id};
  }
  if (!c.ctx.caller.arn.empty()) {
    context["aws:PrincipalArn"] = {c.ctx.caller.arn};
  }
  if (!c.ctx.head.remote_address.empty()) {
    context["aws:SourceIp"] = {c.ctx.head.remote_address};
  }
  const std::string resource = "arn:aws:s3:::" + b.name + (key.empty() ? "" : "/" + std::string(key));
  const protocol::PolicyCaller caller{c.ctx.account_id, c.ctx.caller.arn};
  return protocol::evaluate_resource_policy(b.policy, resource, caller, action, context) ==
         protocol::PolicyDecision::kDeny;
}

BucketRecord S3Service::require_bucket(const Call& c) {
  auto b = bucket(c.bucket);
  if (!b) {
    throw errors::no_such_bucket(c.bucket);
  }
  if (b->account != c.ctx.account_id) {
    throw errors::access_denied();
  }
  return std::move(*b);
}

std::optional<ObjectRecord> S3Service::load_object(std::string_view bucket, std::string_view key) {
  storage::Status st;
  auto raw = store_.get(storage::Space::kS3Meta, object_key(bucket, key), st);
  if (!st) {
    throw protocol::errors::internal_failure(st.message());
  }
  if (!raw) {
    return std::nullopt;
  }
  ObjectRecord r;
  if (!decode(*raw, r)) {
    throw protocol::errors::internal_failure("corrupt object record");
  }
  return r;
}


UploadRecord S3Service::require_upload(const Call& c) {
  require_bucket(c);
  const std::string* id = c.param("uploadId");
  auto raw = id ? store_.get(storage::Space::kS3Meta, upload_key(c.bucket, c.key, *id)) : std::nullopt;
  UploadRecord u;
  if (!raw || !decode(*raw, u)) {
    throw errors::no_such_upload(id ? *id : "");
  }
  return u;
}

ObjectRecord S3Service::object_from_headers(const Call& c) {
  ObjectRecord r;
  r.owner = c.ctx.account_id;
  r.modified_ms = c.now_ms();
  const auto& h = c.ctx.head.headers;
  r.headers.emplace_back("Content-Type",
                         std::string(h.get("content-type").value_or("binary/octet-stream")));
  if (auto ce = h.get("content-encoding")) {
    // aws-chunked is the transfer framing, not the object's encoding.
    std::string kept;
    for (auto item : protocol::split_list(*ce)) {
      if (item != "aws-chunked") {
        kept += kept.empty() ? "" : ",";
        kept += item;
      }
    }
    if (!kept.empty()) {
      r.headers.emplace_back("Content-Encoding", kept);
    }
  }
  for (std::string_view name : {"Content-Disposition", "Content-Language", "Cache-Control",
                                "Expires", "x-amz-website-redirect-location"}) {
    if (auto v = h.get(name)) {
      r.headers.emplace_back(std::string(name), std::string(*v));
    }
  }
  for (const auto& [name, value] : h.items()) {
    if (name.size() > 11 && protocol::iequals(std::string_view(name).substr(0, 11), "x-amz-meta-")) {
      r.metadata.emplace_back(protocol::ascii_lower(std::string_view(name).substr(11)), value);
    }
  }
  std::size_t metadata_bytes = 0;
  for (const auto& [name, value] : r.metadata) {
    metadata_bytes += name.size() + value.size();
  }
  if (metadata_bytes > kMaxMetadataBytes) {
    throw AwsError("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size")
        .with_field("Size", std::to_string(metadata_bytes))
        .with_field("MaxSizeAllowed", std::to_string(kMaxMetadataBytes));
  }
  if (auto sse = h.get("x-amz-server-side-encryption")) {
    if (*sse != "AES256" && *sse != "aws:kms" && *sse != "aws:kms:dsse") {
      throw errors::invalid_argument("The encryption method specified is not supported",
                                     "x-amz-server-side-encryption", *sse);
    }
    r.headers.emplace_back("x-amz-server-side-encryption", std::string(*sse));
    if (auto kms = h.get("x-amz-server-side-encryption-aws-kms-key-id")) {
      r.headers.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", std::string(*kms));
    }
    if (auto bucket_key = h.get("x-amz-server-side-encryption-bucket-key-enabled");
        bucket_key && protocol::iequals(*bucket_key, "true")) {
      r.headers.emplace_back("x-amz-server-side-encryption-bucket-key-enabled", "true");
    }
  }
  if (auto sc = h.get("x-amz-storage-class")) {
    static constexpr std::string_view kClasses[] = {
        "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
        "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE"};
    if (std::find(std::begin(kClasses), std::end(kClasses), *sc) == std::end(kClasses)) {
      throw AwsError("InvalidStorageClass", 400, "The storage class you specified is not valid")
          .with_field("StorageClassRequested", std::string(*sc));
    }
    r.storage_class = std::string(*sc);
  }
  if (auto t = h.get("x-amz-tagging")) {
    r.tags = parse_tagging_header(*t);
  }
  read_lock_headers(c, r);
  return r;
}

void S3Service::check_write_conditions(const Call& c, const std::optional<ObjectRecord>& current) {
  if (auto inm = c.header("if-none-match")) {
    if (unquoted(*inm) != "*") {
      throw AwsError("NotImplemented", 501,
                     "A header you provided implies functionality that is not implemented")
          .with_field("Header", "If-None-Match");
    }
    if (current && !current->delete_marker) {
      throw errors::precondition_failed("If-None-Match");
    }
  }
  if (auto im = c.header("if-match")) {
    if (!current || current->delete_marker) {
      throw errors::no_such_key(c.key);
    }
    if (unquoted(*im) != "*" && unquoted(*im) != current->etag) {
      throw errors::precondition_failed("If-Match");
    }
  }
}

S3Service::CopiedBlob S3Service::copy_bytes(const ObjectRecord& source, std::uint64_t offset,
                                            std::uint64_t length, storage::Batch& batch,
                                            const std::string& source_key, const std::string& dest_key,
                                            std::string_view checksum_algorithm) {
  auto writer = blobs_.new_writer();
  std::optional<Checksum> checksum;
  if (auto a = parse_checksum_algorithm(checksum_algorithm)) {
    checksum.emplace(*a);
  }
  if (!dest_key.empty()) {
    writer->encrypt_with(dest_key);
  }
  BlobStore::Reader reader(blobs_, source.segments, offset, length, source_key);
  protocol::Md5 md5;
  std::string buf(256 * 1024, '\0');
  for (;;) {
    auto n = reader.read(buf.data(), buf.size());
    if (n == 0) {
      break;
    }
    std::string_view piece(buf.data(), n);
    md5.update(piece);
    if (checksum) {
      checksum->update(piece);
    }
    writer->append(piece);
  }
  writer->finish(batch);
  CopiedBlob out;
  if (checksum) {
    out.checksum = checksum->base64();
  }
  out.segment.blob = writer->blob();
  out.segment.size = writer->size();
  out.md5_hex = protocol::hex(md5.finish());
  out.segment.etag = out.md5_hex;
  return out;
}

S3Service::CopySource S3Service::copy_source(const Call& c) {
  std::string_view raw = *c.header("x-amz-copy-source");
  std::optional<std::string> version;
  if (auto q = raw.find('?'); q != std::string_view::npos) {
    auto query = raw.substr(q + 1);
    if (query.starts_with("versionId=")) {
      version = std::string(query.substr(10));
      if (version->empty() || (*version != "null" && !version_seq(*version))) {
        throw errors::invalid_argument("Invalid version id specified", "x-amz-copy-source",
                                       *c.header("x-amz-copy-source"));
      }
    }
    raw = raw.substr(0, q);
  }
  auto decoded = protocol::percent_decode(raw, false);
  std::string_view src = decoded ? std::string_view(*decoded) : std::string_view{};
  if (!src.empty() && src.front() == '/') {
    src.remove_prefix(1);
  }
  auto slash = src.find('/');
  if (!decoded || slash == std::string_view::npos || slash == 0 || slash + 1 == src.size()) {
    throw errors::invalid_argument("Invalid copy source object key", "x-amz-copy-source",
                                   *c.header("x-amz-copy-source"));
  }
  std::string bucket(src.substr(0, slash));
  std::string key(src.substr(slash + 1));
  auto b = this->bucket(bucket);
  if (!b) {
    throw errors::no_such_bucket(bucket);
  }
  if (b->account != c.ctx.account_id || policy_denies(c, *b, "s3:GetObject", key)) {
    throw errors::access_denied();  // reading the source is a GetObject of it
  }
  std::optional<ObjectRecord> o;
  if (version) {
    auto v = find_version(bucket, key, *version);
    if (!v) {
      throw AwsError("NoSuchVersion", 404, "The specified version does not exist.")
          .with_field("Key", key)
          .with_field("VersionId", *version);
    }
    if (v->record.delete_marker) {
      throw errors::invalid_argument("The source of a copy request may not specifically refer to a delete marker by version id.",
                                     "x-amz-copy-source", *c.header("x-amz-copy-source"));
    }
    o = std::move(v->record);
  } else {
    o = load_object(bucket, key);
    if (!o || o->delete_marker) {
      throw errors::no_such_key(key);
    }
  }
  // Copy-source conditions: If-Match beats If-Unmodified-Since, If-None-Match beats
  // If-Modified-Since, and every failure is a 412.
  std::int64_t modified = o->modified_ms / 1000;
  auto im = c.header("x-amz-copy-source-if-match");
  auto inm = c.header("x-amz-copy-source-if-none-match");
  if (im && unquoted(*im) != o->etag && unquoted(*im) != "*") {
    throw errors::precondition_failed("x-amz-copy-source-If-Match");
  }
  if (!im) {
    if (auto ius = c.header("x-amz-copy-source-if-unmodified-since")) {
      if (auto t = parse_http_date(*ius); t && modified > *t) {
        throw errors::precondition_failed("x-amz-copy-source-If-Unmodified-Since");
      }
    }
  }
  if (inm && (unquoted(*inm) == o->etag || unquoted(*inm) == "*")) {
    throw errors::precondition_failed("x-amz-copy-source-If-None-Match");
  }
  if (!inm) {
    if (auto ims = c.header("x-amz-copy-source-if-modified-since")) {
      if (auto t = parse_http_date(*ims); t && modified <= *t) {
        throw errors::precondition_failed("x-amz-copy-source-If-Modified-Since");
      }
    }
  }
  std::string version_id = b->versioning.empty() && o->version_id.empty() ? std::string() : shown_version_id(*o);
  return CopySource{std::move(bucket), std::move(key), std::move(*o), std::move(version_id)};
}

std::string canonical_user_id(std::string_view account_id) {
  return protocol::hex(protocol::sha256("fogbank-canonical-user:" + std::string(account_id)));
}

std::shared_ptr<protocol::Service> make_s3_service(const protocol::Platform& platform) {
  return std::make_shared<S3Service>(platform);
}

std::shared_ptr<protocol::Service> make_s3_service(const protocol::Platform& platform, NotificationTargets targets) {
  return std::make_shared<S3Service>(platform, std::move(targets));
}

namespace {

class ServiceObjectWriter final : public ObjectWriter {
 public:
  explicit ServiceObjectWriter(std::shared_ptr<S3Service> s3) : s3_(std::move(s3)) {}
  WriteOutcome put(const ServiceObject& object) override { return s3_->put_as_service(object); }

 private:
  std::shared_ptr<S3Service> s3_;
};

}  // namespace

S3Parts make_s3(const protocol::Platform& platform, NotificationTargets targets, S3Options options) {
  auto s3 = std::make_shared<S3Service>(platform, std::move(targets), options);
  return {s3, std::make_shared<ServiceObjectWriter>(s3)};
}

}  // namespace fogbank::s3
