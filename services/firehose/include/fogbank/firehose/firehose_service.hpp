#pragma once
// Amazon Data Firehose (JSON 1.1, `Firehose_20150804.<Op>`): delivery streams that buffer records
// (PutRecord/PutRecordBatch) and write them to S3 as AWS names and compresses its objects.

#include <cstdint>
#include <memory>

#include "fogbank/protocol/platform.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/kinesis/stream_reader.hpp"
#include "fogbank/s3/object_writer.hpp"

namespace fogbank::firehose {

struct FirehoseOptions {
  /// How long a new delivery stream stays CREATING (and a deleted one DELETING), in platform-clock
  /// milliseconds; 0 makes the change at once.
  std::int64_t transition_delay_ms = 500;
  /// How often a KinesisStreamAsSource delivery stream reads its source (platform clock).
  std::int64_t source_poll_interval_ms = 1000;
};

/// Firehose over `platform`, writing objects through `s3` (null: S3 destinations record what
/// they would have written, as other destinations do) and reading KinesisStreamAsSource streams
/// through `kinesis` (null: such delivery streams receive nothing).
std::shared_ptr<protocol::Service> make_firehose_service(const protocol::Platform& platform,
                                                         std::shared_ptr<s3::ObjectWriter> s3,
                                                         std::shared_ptr<kinesis::StreamReader> kinesis,
                                                         FirehoseOptions options = {});

}  // namespace fogbank::firehose
