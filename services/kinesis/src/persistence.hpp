#pragma once
// How Kinesis state is laid out in the `kinesis` column family (keys from storage::KeyBuilder):
//   s / account / region / name        → stream (JSON: settings, shards, consumers, tags, policies)
//   n / stream id / shard (u32)        → the shard's next record counter (u64, big-endian)
//   r / stream id / shard (u32) / counter (u64) → a chunk: the records one call put into one
//                                       shard, keyed by the counter of its last record (binary,
//                                       see ChunkWriter)
//   a / account / region               → account settings (JSON)
//   k                                  → the shard-iterator HMAC key
// A shard's records are one contiguous key range, so GetRecords is one bounded scan from the
// iterator's counter (a seek to counter N lands on the chunk holding N, because chunks are keyed
// by their last counter); deleting a stream is one range delete over its id. One value per call
// and shard, not per record: a 500-record PutRecords is a handful of memtable inserts, and a
// drain reads each blob file extent once instead of once per record.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model.hpp"

namespace fogbank::kinesis::persist {

std::string stream_key(std::string_view account, std::string_view region, std::string_view name);
std::string stream_prefix();
std::string counter_key(std::string_view stream_id, std::uint32_t shard);
std::string record_key(std::string_view stream_id, std::uint32_t shard, std::uint64_t counter);
std::string shard_records_prefix(std::string_view stream_id, std::uint32_t shard);
/// Prefix of every record and counter of one stream (two ranges: 'n' and 'r').
std::string stream_records_prefix(std::string_view stream_id);
std::string stream_counters_prefix(std::string_view stream_id);
std::string account_settings_key(std::string_view account, std::string_view region);
std::string iterator_key_key();

std::string encode_stream(const Stream& s);
bool decode_stream(std::string_view data, Stream& s);
std::string encode_counter(std::uint64_t counter);
std::optional<std::uint64_t> decode_counter(std::string_view data);
/// A stored record's fields, in place: the views point into the value decoded (a scan reads
/// thousands per call, so nothing is copied that the caller does not keep).
struct StoredRecord {
  std::uint64_t counter = 0;
  std::int64_t arrival_ms = 0;
  bool encrypted = false;
  std::string_view partition_key;
  std::string_view data;
};

/// Builds one chunk: records of consecutive counters that arrived together (one call, one shard).
class ChunkWriter {
 public:
  ChunkWriter(std::int64_t arrival_ms, bool encrypted);
  /// `counter` must follow the previous record's.
  void add(std::uint64_t counter, std::string_view partition_key, std::string_view data);
  [[nodiscard]] std::size_t count() const { return count_; }
  [[nodiscard]] std::uint64_t last_counter() const { return last_; }
  /// The stored value (the writer is spent).
  std::string take();

 private:
  std::string bytes_;
  std::uint32_t count_ = 0;
  std::uint64_t last_ = 0;
};

/// Reads a chunk's records in counter order. Values written before chunks existed (one record
/// per key) read as chunks of one.
class ChunkReader {
 public:
  /// False when the key or value is malformed (the caller skips the whole chunk).
  bool open(std::string_view key, std::string_view value);
  [[nodiscard]] std::uint64_t first_counter() const { return last_ + 1 - count_; }
  [[nodiscard]] std::uint64_t last_counter() const { return last_; }
  [[nodiscard]] std::int64_t arrival_ms() const { return arrival_ms_; }
  /// The next record; false at the end (or at a malformed record: the rest is unreadable).
  bool next(StoredRecord& r);

 private:
  std::string_view rest_;
  std::uint64_t last_ = 0;
  std::uint64_t count_ = 0;
  std::uint64_t read_ = 0;
  std::int64_t arrival_ms_ = 0;
  bool encrypted_ = false;
  bool single_ = false;  ///< the one-record form: data runs to the end of the value
};

/// The counter at the end of a record key.
std::optional<std::uint64_t> record_counter(std::string_view key);

}  // namespace fogbank::kinesis::persist
