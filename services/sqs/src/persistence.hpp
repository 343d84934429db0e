#pragma once
// How SQS state is laid out in the store's `sqs` column family. Keys (storage::KeyBuilder):
//   q / account / name        → queue record (JSON: configuration, tags, move tasks)
//   m / queue uid / seq       → message, immutable part (compact binary)
//   s / queue uid / seq       → message delivery state (visibility, receive count, token)
//   d / queue uid / dedup key → FIFO deduplication entry
// A message is "sent" once its `m` key is written; a missing `s` key means "never received,
// visible at sent + delay". Deleting a message deletes both keys in one batch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model.hpp"

namespace fogbank::sqs::persist {

std::string queue_key(std::string_view account, std::string_view name);
std::string queue_prefix();
std::string message_key(std::string_view uid, std::uint64_t seq);
std::string state_key(std::string_view uid, std::uint64_t seq);
std::string dedup_key(std::string_view uid, std::string_view key);
/// Prefixes of one queue's keys of a kind ('m', 's' or 'd').
std::string queue_keys_prefix(char kind, std::string_view uid);
/// Prefix of every key of a kind.
std::string kind_prefix(char kind);

std::string encode_queue(const Queue& q);
/// Fills the configuration part of `q`; false on a corrupt record.
bool decode_queue(std::string_view data, Queue& q);

std::string encode_message(const Message& m);
bool decode_message(std::string_view data, Message& m);
std::string encode_state(const Message& m);
bool decode_state(std::string_view data, Message& m);
std::string encode_dedup(const DedupEntry& e);
bool decode_dedup(std::string_view data, DedupEntry& e);

/// The uid and seq (and kind-specific last part) of an `m`, `s` or `d` key.
struct ParsedKey {
  char kind = 0;
  std::string uid;
  std::uint64_t seq = 0;    ///< m and s keys
  std::string dedup;        ///< d keys
};
std::optional<ParsedKey> parse_key(std::string_view key);

}  // namespace fogbank::sqs::persist
