#pragma once
// The in-memory shape of Kinesis state. Streams are owned by the engine's index and written
// through to the store (persistence.hpp) on every change.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hash_key.hpp"
#include "sequence_number.hpp"

namespace fogbank::kinesis {

std::string shard_id_of(std::uint32_t index);  // "shardId-000000000007"
std::optional<std::uint32_t> shard_index_of(std::string_view shard_id);

struct Shard {
  std::uint32_t index = 0;
  std::optional<std::uint32_t> parent;
  std::optional<std::uint32_t> adjacent_parent;
  HashRange range;
  std::int64_t created_ms = 0;
  std::int64_t closed_ms = 0;     ///< 0 while open
  std::uint64_t next_counter = 1; ///< the counter the next record gets (records start at 1)
  std::vector<std::uint32_t> children;

  [[nodiscard]] bool open() const { return closed_ms == 0; }
  /// False once a closed shard's last record is past `retention_ms`: AWS then stops listing it.
  [[nodiscard]] bool retained(std::int64_t now_ms, std::int64_t retention_ms) const {
    return open() || closed_ms > now_ms - retention_ms;
  }
  [[nodiscard]] SequenceNumber starting_sequence() const { return {created_ms, index, 0, created_ms}; }
  /// Greater than every record of the closed shard.
  [[nodiscard]] SequenceNumber ending_sequence() const { return {created_ms, index, next_counter, closed_ms}; }
};

struct Consumer {
  std::string name;
  std::string arn;
  std::string status;  ///< CREATING, ACTIVE, DELETING
  std::int64_t created_ms = 0;
  std::map<std::string, std::string> tags;
};

struct Stream {
  std::string account;
  std::string region;
  std::string name;
  std::string id;              ///< StreamId and the prefix of its records' keys
  std::int64_t created_ms = 0;
  std::string status;          ///< CREATING, ACTIVE, UPDATING, DELETING
  std::int64_t transition_due_ms = 0;  ///< when the current CREATING/UPDATING/DELETING ends
  std::string mode = "PROVISIONED";
  int retention_hours = 24;
  std::string encryption = "NONE";
  std::string key_id;
  std::vector<std::string> metrics;  ///< enhanced monitoring, shard-level
  std::map<std::string, std::string> tags;
  std::vector<Shard> shards;   ///< by index
  std::vector<Consumer> consumers;
  std::map<std::string, std::string> policies;  ///< resource ARN (stream or consumer) → policy
  std::int64_t warm_throughput_mibps = 0;
  std::int64_t max_record_kib = 1024;

  [[nodiscard]] std::string arn() const { return "arn:aws:kinesis:" + region + ":" + account + ":stream/" + name; }
  [[nodiscard]] int open_shard_count() const {
    int n = 0;
    for (const auto& s : shards) {
      n += s.open() ? 1 : 0;
    }
    return n;
  }
};

}  // namespace fogbank::kinesis
