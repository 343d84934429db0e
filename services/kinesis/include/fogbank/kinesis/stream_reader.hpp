#pragma once
// What other services read from Kinesis streams (Firehose's KinesisStreamAsSource): records in
// order per shard after a position the reader keeps, as a consumer with iterators would see them,
// without iterators or throughput limits.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace fogbank::kinesis {

struct SourceRecord {
  std::string shard_id;
  std::string sequence_number;
  std::string partition_key;
  std::string data;
  std::int64_t arrival_ms = 0;
};

struct SourceBatch {
  bool found = false;  ///< false: no such stream (or it is being deleted)
  std::vector<SourceRecord> records;
  /// shard id → sequence number of the last record read, to pass to the next read.
  std::map<std::string, std::string> positions;
};

class StreamReader {
 public:
  virtual ~StreamReader() = default;
  /// Up to `limit` records of the stream `stream_arn` that come after `positions` (shard id →
  /// last sequence number read; shards missing from it are read from their oldest record, so
  /// children of a reshard are read once their parents are).
  virtual SourceBatch read(std::string_view stream_arn, const std::map<std::string, std::string>& positions,
                           std::size_t limit) = 0;
};

}  // namespace fogbank::kinesis
