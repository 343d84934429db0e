#pragma once
// How Kinesis state is laid out in the `kinesis` column family (keys from storage::KeyBuilder):
//   s / account / region / name        → stream (JSON: settings, shards, consumers, tags, policies)
//   n / stream id / shard (u32)        → the shard's next record counter (u64, big-endian)
//   r / stream id / shard (u32) / counter (u64) → one record (binary, see encode_record)
//   a / account / region               → account settings (JSON)
//   k                                  → the shard-iterator HMAC key
// A shard's records are one contiguous key range, so GetRecords is one bounded scan from the
// iterator's counter; deleting a stream is one range delete over its id.

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
std::string encode_record(std::int64_t arrival_ms, bool encrypted, std::string_view partition_key,
                          std::string_view data);
/// A stored record's fields, in place: the views point into the key and value decoded (a scan
/// reads thousands per call, so nothing is copied that the caller does not keep).
struct StoredRecord {
  std::uint64_t counter = 0;
  std::int64_t arrival_ms = 0;
  bool encrypted = false;
  std::string_view partition_key;
  std::string_view data;
};
bool decode_record(std::string_view key, std::string_view data, StoredRecord& r);
/// The counter at the end of a record key.
std::optional<std::uint64_t> record_counter(std::string_view key);

}  // namespace fogbank::kinesis::persist
