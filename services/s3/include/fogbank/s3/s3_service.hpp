#pragma once
// Amazon S3 (REST-XML): buckets, objects, listings, multipart uploads, checksums, presigned and
// browser-form uploads. Object bytes stream into and out of RocksDB in chunks.

#include <memory>
#include <string>
#include <string_view>

#include "fogbank/protocol/platform.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/s3/object_writer.hpp"
#include "fogbank/sns/topic_publisher.hpp"
#include "fogbank/sqs/message_sink.hpp"

namespace fogbank::s3 {

/// S3 over `platform`, which must outlive it: records and bytes in platform.store, every time it
/// records or checks on platform.clock, blocking work (large commits and copies, MD5 of large
/// bodies, read-ahead of long reads) on platform.scheduler's pool, and platform.keys to verify
/// the policy signatures of browser POST uploads.
std::shared_ptr<protocol::Service> make_s3_service(const protocol::Platform& platform);

/// Where S3 event notifications go: SQS queues and SNS topics, through those services' public
/// interfaces. Either may be null; a configuration naming a destination of a missing service fails
/// validation as one naming a queue or topic that does not exist.
struct NotificationTargets {
  std::shared_ptr<sqs::MessageSink> queues;
  std::shared_ptr<sns::TopicPublisher> topics;
};

/// S3 whose bucket notifications deliver to `targets` (the registry's S3).
std::shared_ptr<protocol::Service> make_s3_service(const protocol::Platform& platform, NotificationTargets targets);

/// What the server's configuration sets in S3.
struct S3Options {
  /// Encrypt every object's data at rest, not only where a request or bucket asks for it.
  bool encrypt_all = false;
};

/// The registry's S3 with what other services use of it.
struct S3Parts {
  std::shared_ptr<protocol::Service> service;
  std::shared_ptr<ObjectWriter> writer;
};
S3Parts make_s3(const protocol::Platform& platform, NotificationTargets targets, S3Options options = {});

/// The 64-hex-digit canonical user id S3 shows as Owner/ID for an account.
std::string canonical_user_id(std::string_view account_id);

}  // namespace fogbank::s3
