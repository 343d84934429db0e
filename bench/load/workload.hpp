#pragma once
// Workloads of the fogbank-load tool and what they report.
//
// Every workload signs its requests with fogbank's own SigV4 signer (protocol/sigv4.hpp), so the
// server under test does full signature verification, exactly as it would for an SDK.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace fogbank::bench {

struct Config {
  std::string workload;
  std::string host = "127.0.0.1";
  std::uint16_t port = 4566;
  std::string access_key = "test";
  std::string secret_key = "test";
  std::string region = "us-east-1";
  int connections = 8;
  double duration_s = 10;  ///< timed phase
  double warmup_s = 1;     ///< run but not recorded, before the timed phase
  // S3
  std::string bucket = "bench";
  std::string prefix = "load";
  std::uint64_t object_size = 4096;  ///< s3-put/s3-get object size; s3-*-large: the one object
  int objects = 256;                 ///< s3-get: objects written in setup and read at random
  int repeat = 1;                    ///< s3-*-large: transfers of the large object
  // SQS
  std::string queue_url;
  std::size_t message_size = 256;
  std::uint64_t prefill = 0;  ///< sqs-recv-*: messages sent (untimed) before the timed phase
  int iterations = 30;        ///< sqs-longpoll-latency: send/receive rounds
  // Kinesis (records are --message-size bytes; --prefill records for kinesis-get-records)
  std::string stream = "bench-stream";
};

/// Runs `config.workload` and returns its results as JSON (see README "Benchmarks").
/// Throws std::invalid_argument for an unknown workload.
nlohmann::json run_workload(const Config& config);

}  // namespace fogbank::bench
