#include "hash_key.hpp"

#include <algorithm>

#include "fogbank/protocol/crypto.hpp"

namespace fogbank::kinesis {

std::string to_decimal(HashKey value) {
  if (value == 0) {
    return "0";
  }
  std::string digits;
  while (value != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::optional<HashKey> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 39) {
    return std::nullopt;
  }
  HashKey value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    const auto digit = static_cast<HashKey>(c - '0');
    if (value > (kMaxHashKey - digit) / 10) {
      return std::nullopt;  // beyond 2^128-1
    }
    value = value * 10 + digit;
  }
  return value;
}

HashKey partition_key_hash(std::string_view partition_key) {
  const auto digest = protocol::md5(partition_key);
  HashKey value = 0;
  for (auto byte : digest) {
    value = (value << 8) | byte;
  }
  return value;
}

std::vector<HashRange> split_evenly(int count) {
  std::vector<HashRange> ranges;
  if (count <= 0) {
    return ranges;
  }
  // floor(2^128 / n) without a 129-bit numerator: (2^128 - 1) / n is the same unless n divides
  // 2^128 (a power of two), where it is one less.
  const auto n = static_cast<HashKey>(count);
  HashKey width = kMaxHashKey / n;
  if ((kMaxHashKey % n) == n - 1) {
    width += 1;
  }
  ranges.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const HashKey start = width * static_cast<HashKey>(i);
    const HashKey end = i == count - 1 ? kMaxHashKey : start + width - 1;
    ranges.push_back({start, end});
  }
  return ranges;
}

}  // namespace fogbank::kinesis
