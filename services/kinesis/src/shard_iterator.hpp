#pragma once
// Shard iterators: opaque, tamper-evident tokens. The payload names the stream (account, region,
// name and creation time, so a re-created stream does not accept its predecessor's iterators),
// the shard, the next record counter to read and the issue time; an HMAC-SHA256 under a key the
// service keeps in its store seals it. Iterators expire five minutes after issue.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::kinesis {

struct IteratorPosition {
  std::string account;
  std::string region;
  std::string stream;
  std::int64_t stream_created_ms = 0;
  std::uint32_t shard_index = 0;
  std::uint64_t next_counter = 0;  ///< the first record counter this iterator reads
  std::int64_t issued_ms = 0;
  bool operator==(const IteratorPosition&) const = default;
};

inline constexpr std::int64_t kIteratorLifetimeMs = 300'000;

std::string encode_iterator(const IteratorPosition& position, std::string_view key);
/// nullopt for anything that is not an intact iterator sealed with `key`.
std::optional<IteratorPosition> decode_iterator(std::string_view token, std::string_view key);

}  // namespace fogbank::kinesis
