#pragma once
// Kinesis hash keys: 128-bit unsigned integers written in decimal on the wire. A record's hash
// key is MD5(partition key) read as a big-endian integer (or its ExplicitHashKey); it belongs to
// the shard whose [StartingHashKey, EndingHashKey] range holds it.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fogbank::kinesis {

// __extension__: -Wpedantic would reject the GCC/Clang built-in type otherwise.
__extension__ typedef unsigned __int128 HashKey;

inline constexpr HashKey kMaxHashKey = ~static_cast<HashKey>(0);

std::string to_decimal(HashKey value);
/// Decimal digits only, no sign, at most 2^128-1; nullopt otherwise.
std::optional<HashKey> parse_decimal(std::string_view text);
HashKey partition_key_hash(std::string_view partition_key);

struct HashRange {
  HashKey start = 0;
  HashKey end = 0;
  bool operator==(const HashRange&) const = default;
};

/// `count` adjacent ranges covering 0..2^128-1: each is floor(2^128 / count) wide and the last
/// takes the remainder, as AWS lays out a new stream's shards.
std::vector<HashRange> split_evenly(int count);

}  // namespace fogbank::kinesis
