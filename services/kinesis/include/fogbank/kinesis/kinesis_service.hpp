#pragma once
// Amazon Kinesis Data Streams (kinesis/2013-12-02, AWS JSON 1.1 and CBOR): streams and their
// lifecycle, shards with MD5 hash-key routing, resharding with lineage, records with AWS-shaped
// sequence numbers, HMAC-signed shard iterators, consumers, tags and resource policies. Every
// piece of state lives in the `kinesis` column family and survives restarts.

#include <cstdint>
#include <memory>

#include "fogbank/protocol/platform.hpp"
#include "fogbank/kinesis/stream_reader.hpp"
#include "fogbank/protocol/service.hpp"

namespace fogbank::kinesis {

struct KinesisOptions {
  /// How long a stream stays CREATING, UPDATING or DELETING (and a consumer CREATING) before the
  /// change completes, in clock milliseconds; 0 completes it within the request.
  std::int64_t lifecycle_delay_ms = 500;
  /// Open shards per account and region. 200 was AWS's long-standing default outside us-east-1,
  /// us-west-2 and eu-west-1 (500 there); AWS's current quotas page says 20,000 there and 1,000
  /// or 6,000 elsewhere. A small default keeps runaway tests visible; raise it as needed.
  int shard_limit = 200;
  /// On-demand streams per account and region (AWS's default quota).
  int on_demand_stream_limit = 50;
  /// Enhanced fan-out consumers per stream.
  int consumer_limit = 20;
  /// How often retention trimming runs (clock milliseconds) and how many records one pass deletes
  /// at most before it yields to the next pass.
  std::int64_t retention_sweep_interval_ms = 60'000;
  int retention_sweep_batch = 1000;
  /// AWS's per-shard throughput limits (1 MiB/s and 1000 records/s in; 5 GetRecords calls/s and
  /// 2 MiB/s out), answered with ProvisionedThroughputExceededException; off by default.
  bool enforce_throughput = false;
};

/// Kinesis over the platform's store, clock and scheduler. Loads its state from the store and
/// resumes pending lifecycle transitions.
std::shared_ptr<protocol::Service> make_kinesis_service(const protocol::Platform& platform,
                                                        KinesisOptions options = {});

/// The registry's Kinesis with what other services use of it (Firehose reads streams).
struct KinesisParts {
  std::shared_ptr<protocol::Service> service;
  std::shared_ptr<StreamReader> reader;
};
KinesisParts make_kinesis(const protocol::Platform& platform, KinesisOptions options = {});

}  // namespace fogbank::kinesis
