#pragma once
// What other services write into buckets (Firehose's deliveries): a whole object at once, as the
// named principal of the bucket's account, through the same commit (and event notifications) as
// a client's PutObject.

#include <optional>
#include <string>

namespace fogbank::s3 {

struct ServiceObject {
  std::string account;    ///< whose bucket; a bucket of another account answers AccessDenied
  std::string region;
  std::string principal;  ///< the caller events and logs show (a role ARN)
  std::string bucket;
  std::string key;
  std::string body;
  std::string content_type = "application/octet-stream";
  std::string content_encoding;  ///< empty for none
};

struct WriteOutcome {
  bool written = false;
  std::string etag;        ///< when written
  std::string error_code;  ///< S3's code otherwise ("NoSuchBucket", "AccessDenied", ...)
  std::string message;
};

class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  /// Blocks while the object is written (RocksDB, MD5): call it from the platform's pool.
  virtual WriteOutcome put(const ServiceObject& object) = 0;
};

}  // namespace fogbank::s3
