#include "direct.hpp"

#include <memory>

#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/json_text.hpp"
#include "persistence.hpp"

namespace fogbank::kinesis {

namespace {

using protocol::json_text::Scanner;

constexpr std::size_t kMaxRecords = 500;
constexpr std::size_t kMaxPartitionKey = 256;
constexpr std::size_t kMaxData = 10 * 1024 * 1024;  // the model's Data max; the engine checks the stream's own
constexpr std::size_t kMaxIterator = 512;
constexpr std::int64_t kMaxLimit = 10000;

/// StreamName's constraints: [a-zA-Z0-9_.-]+, 1 to 128 characters.
bool plain_stream_name(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return false;
  }
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                    ch == '.' || ch == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

/// The scanner passes bytes >= 0x80 through unchecked, where the codec would first check that
/// they are UTF-8: a direct path takes only ASCII strings, where bytes and characters also count
/// the same for the length constraints.
bool ascii(std::string_view text) {
  for (char ch : text) {
    if (static_cast<unsigned char>(ch) >= 0x80) {
      return false;
    }
  }
  return true;
}

/// PartitionKey: 1 to 256 characters.
bool plain_partition_key(std::string_view key) {
  return !key.empty() && key.size() <= kMaxPartitionKey && ascii(key);
}

}  // namespace

std::optional<std::string> put_records_json(KinesisEngine& engine, std::string_view body, const Caller& c) {
  Scanner in(body);
  // Every record's bytes are decoded into one buffer, which no blob text can outgrow.
  const std::size_t room = body.size() / 4 * 3;
  auto bytes = std::make_unique_for_overwrite<std::uint8_t[]>(room);
  std::size_t used = 0;
  std::vector<KinesisEngine::PutEntry> entries;
  std::string_view stream_name;
  bool have_name = false;
  bool have_records = false;
  std::string_view key;
  if (!in.open('{')) {
    return std::nullopt;
  }
  while (in.member(key)) {
    if (key == "StreamName" && !have_name) {
      have_name = in.string(stream_name);
    } else if (key == "Records" && !have_records && in.open('[')) {
      have_records = true;
      entries.reserve(kMaxRecords);
      while (in.element() && in.open('{')) {
        KinesisEngine::PutEntry e;
        bool have_data = false;
        bool have_key = false;
        std::string_view field;
        while (in.member(field)) {
          std::string_view text;
          if (field == "Data" && !have_data && in.string(text)) {
            auto size = protocol::json_text::decode_base64(text, bytes.get() + used);
            if (!size || *size > kMaxData) {
              return std::nullopt;
            }
            e.data = {reinterpret_cast<const char*>(bytes.get() + used), *size};
            used += *size;
            have_data = true;
          } else if (field == "PartitionKey" && !have_key && in.string(e.partition_key) &&
                     plain_partition_key(e.partition_key)) {
            have_key = true;
          } else {
            return std::nullopt;
          }
        }
        if (in.failed() || !have_data || !have_key) {
          return std::nullopt;
        }
        entries.push_back(e);
      }
    } else {
      return std::nullopt;
    }
  }
  if (!in.finished() || !have_name || !have_records || entries.empty() || entries.size() > kMaxRecords ||
      !plain_stream_name(stream_name)) {
    return std::nullopt;
  }

  auto outcome = engine.put_entries(std::string(stream_name), std::string(), entries, c);
  // PutRecordsOutput in model order: FailedRecordCount, Records, EncryptionType.
  std::string out;
  out.reserve(64 + outcome.records.size() * 112);
  out += "{\"FailedRecordCount\":";
  out += std::to_string(outcome.failed);
  out += ",\"Records\":[";
  bool first = true;
  for (const auto& r : outcome.records) {
    out += first ? "{" : ",{";
    first = false;
    if (r.error_code.empty()) {
      out += "\"SequenceNumber\":\"";
      out += r.sequence_number;
      out += "\",\"ShardId\":\"";
      out += shard_id_of(r.shard);
      out += "\"}";
    } else {
      out += "\"ErrorCode\":";
      protocol::json_text::append_string(out, r.error_code);
      out += ",\"ErrorMessage\":";
      protocol::json_text::append_string(out, r.error_message);
      out += '}';
    }
  }
  out += ']';
  if (outcome.encrypted) {
    out += ",\"EncryptionType\":\"KMS\"";
  }
  out += '}';
  return out;
}

std::optional<std::string> get_records_json(KinesisEngine& engine, std::string_view body, const Caller& c,
                                            const protocol::model::Shape* output) {
  Scanner in(body);
  std::string_view iterator;
  std::int64_t limit = kMaxLimit;
  bool have_iterator = false;
  bool have_limit = false;
  std::string_view key;
  if (!in.open('{')) {
    return std::nullopt;
  }
  while (in.member(key)) {
    if (key == "ShardIterator" && !have_iterator) {
      have_iterator = in.string(iterator);
    } else if (key == "Limit" && !have_limit) {
      have_limit = in.integer(limit);
    } else {
      return std::nullopt;
    }
  }
  if (!in.finished() || !have_iterator || iterator.empty() || iterator.size() > kMaxIterator || !ascii(iterator) ||
      limit < 1 || limit > kMaxLimit) {
    return std::nullopt;
  }

  std::string out;
  // Room for a full answer up front (10 MiB of data as base64 and each record's other members):
  // grown by doubling, the text was copied twice over into fresh pages.
  out.reserve(10 * 1024 * 1024 / 3 * 4 + static_cast<std::size_t>(limit) * 160);
  out += "{\"Records\":[";
  bool first = true;
  KinesisEngine::ShardPage page;
  auto next = engine.read_iterator(
      std::string(iterator), std::string(), static_cast<std::size_t>(limit), c,
      [&](const persist::StoredRecord& r, const std::string& seq) {
        // Record in model order: SequenceNumber, ApproximateArrivalTimestamp, Data, PartitionKey,
        // EncryptionType.
        out += first ? "{\"SequenceNumber\":\"" : ",{\"SequenceNumber\":\"";
        first = false;
        out += seq;
        out += "\",\"ApproximateArrivalTimestamp\":";
        protocol::json_text::append_epoch_seconds(out, to_timestamp(r.arrival_ms));
        out += ",\"Data\":\"";
        protocol::json_text::append_base64(out, reinterpret_cast<const std::uint8_t*>(r.data.data()), r.data.size());
        out += "\",\"PartitionKey\":";
        protocol::json_text::append_string(out, r.partition_key);
        out += r.encrypted ? ",\"EncryptionType\":\"KMS\"}" : "}";
      },
      page);
  out += ']';
  // The members after Records are few and small: the codec writes them, in model order.
  Value rest = {{"MillisBehindLatest", page.behind_ms}};
  if (next) {
    rest["NextShardIterator"] = std::move(*next);
  } else {
    rest["ChildShards"] = std::move(page.child_shards);
  }
  const std::string tail = protocol::codec::encode_json(output, rest);
  if (tail.size() > 2) {
    out += ',';
    out.append(tail, 1);
  } else {
    out += '}';
  }
  return out;
}

}  // namespace fogbank::kinesis
