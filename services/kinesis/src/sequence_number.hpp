#pragma once
// Sequence numbers: 56 decimal digits, like AWS's. The layout is ours (fixed-width decimal
// fields), chosen so that plain numeric (and, at equal length, string) comparison orders them
// the way AWS's compare:
//
//   "49" | shard creation ms (13) | shard index (6) | per-shard counter (22) | arrival ms (13)
//
// Within a shard the counter grows with every record; across shards the shard's creation time
// comes first, so every record of a child shard sorts after every record of its parents, which
// were closed when the child was created. A shard's StartingSequenceNumber is counter 0 at its
// creation time; records start at counter 1.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::kinesis {

struct SequenceNumber {
  std::int64_t shard_created_ms = 0;
  std::uint32_t shard_index = 0;
  std::uint64_t counter = 0;
  std::int64_t arrival_ms = 0;
  bool operator==(const SequenceNumber&) const = default;
};

inline constexpr std::size_t kSequenceNumberDigits = 56;

std::string format_sequence_number(const SequenceNumber& seq);
/// Appends `value` in decimal, zero-padded to `width` digits (wider if it needs more), without
/// snprintf's format parsing: every record put and read formats four of these.
void append_zero_padded(std::string& out, std::uint64_t value, std::size_t width);
/// Formats the sequence numbers of one shard's records: the shard's fields once, the arrival
/// time again only when it changes (a read formats one per record, 10,000 per GetRecords).
class SequenceFormatter {
 public:
  SequenceFormatter(std::int64_t shard_created_ms, std::uint32_t shard_index);
  /// Valid until the next call.
  const std::string& format(std::uint64_t counter, std::int64_t arrival_ms);

 private:
  std::string text_;
  std::size_t shard_part_ = 0;
  std::int64_t arrival_ms_ = -1;
  std::string arrival_;
};

/// nullopt unless `text` is exactly our 56-digit layout.
std::optional<SequenceNumber> parse_sequence_number(std::string_view text);

}  // namespace fogbank::kinesis
