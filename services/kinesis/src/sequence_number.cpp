#include "sequence_number.hpp"

namespace fogbank::kinesis {

void append_zero_padded(std::string& out, std::uint64_t value, std::size_t width) {
  char digits[20];  // 2^64 has 20 decimal digits
  std::size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  if (n < width) {
    out.append(width - n, '0');
  }
  while (n > 0) {
    out.push_back(digits[--n]);
  }
}

namespace {

constexpr std::string_view kPrefix = "49";

std::optional<std::uint64_t> read_field(std::string_view text, std::size_t& pos, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    // 22-digit counters stay below 2^64 in practice; anything larger is not one we issued.
    if (value > (UINT64_MAX - static_cast<std::uint64_t>(c - '0')) / 10) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  pos += width;
  return value;
}

}  // namespace

namespace {

void append_shard_part(std::string& out, std::int64_t shard_created_ms, std::uint32_t shard_index) {
  out += kPrefix;
  append_zero_padded(out, static_cast<std::uint64_t>(shard_created_ms), 13);
  append_zero_padded(out, shard_index, 6);
}

}  // namespace

std::string format_sequence_number(const SequenceNumber& seq) {
  std::string out;
  out.reserve(kSequenceNumberDigits);
  append_shard_part(out, seq.shard_created_ms, seq.shard_index);
  append_zero_padded(out, seq.counter, 22);
  append_zero_padded(out, static_cast<std::uint64_t>(seq.arrival_ms), 13);
  return out;
}

SequenceFormatter::SequenceFormatter(std::int64_t shard_created_ms, std::uint32_t shard_index) {
  text_.reserve(kSequenceNumberDigits);
  append_shard_part(text_, shard_created_ms, shard_index);
  shard_part_ = text_.size();
}

const std::string& SequenceFormatter::format(std::uint64_t counter, std::int64_t arrival_ms) {
  if (arrival_ms != arrival_ms_) {
    arrival_ms_ = arrival_ms;
    arrival_.clear();
    append_zero_padded(arrival_, static_cast<std::uint64_t>(arrival_ms), 13);
  }
  text_.resize(shard_part_);
  append_zero_padded(text_, counter, 22);
  text_ += arrival_;
  return text_;
}

std::optional<SequenceNumber> parse_sequence_number(std::string_view text) {
  if (text.size() != kSequenceNumberDigits || !text.starts_with(kPrefix)) {
    return std::nullopt;
  }
  std::size_t pos = kPrefix.size();
  auto created = read_field(text, pos, 13);
  auto index = read_field(text, pos, 6);
  auto counter = read_field(text, pos, 22);
  auto arrival = read_field(text, pos, 13);
  if (!created || !index || !counter || !arrival) {
    return std::nullopt;
  }
  return SequenceNumber{static_cast<std::int64_t>(*created), static_cast<std::uint32_t>(*index), *counter,
                        static_cast<std::int64_t>(*arrival)};
}

}  // namespace fogbank::kinesis
