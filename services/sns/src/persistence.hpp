#pragma once
// How SNS state is laid out in the store's `sns` column family (keys from storage::KeyBuilder,
// values JSON):
//   t / account / region / name   → topic (attributes, tags, data protection policy, counters)
//   s / subscription ARN          → subscription (attributes, confirmation state and token)
//   d / topic ARN / dedup id      → a FIFO topic's recent deduplication id (five minutes)
//   m / account / region          → SMS attributes
//   o / account / phone number    → an opted-out phone number (empty value)
//   p / account / region / phone  → an SMS sandbox destination number (status and pending code)
//   k                             → the signing key and certificate (PEM)
//   q / id (u64)                  → an HTTP/HTTPS delivery waiting in the outbox (outbox.cpp)

#include <optional>
#include <string>
#include <string_view>

#include "model.hpp"

namespace fogbank::sns::persist {

std::string topic_key(std::string_view account, std::string_view region, std::string_view name);
std::string subscription_key(std::string_view arn);
std::string dedup_key(std::string_view topic_arn, std::string_view id);
std::string dedup_prefix(std::string_view topic_arn);
std::string sms_key(std::string_view account, std::string_view region);
std::string opt_out_key(std::string_view account, std::string_view phone);
std::string sandbox_key(const SandboxKey& k);
std::string signer_key();
/// Prefix of every key of one kind ('t', 's', 'd', 'm', 'o', 'p').
std::string kind_prefix(char kind);

std::string encode_topic(const Topic& t);
bool decode_topic(std::string_view data, Topic& t);
std::string encode_subscription(const Subscription& s);
bool decode_subscription(std::string_view data, Subscription& s);
std::string encode_dedup(const DedupEntry& e);
bool decode_dedup(std::string_view data, DedupEntry& e);
std::string encode_sandbox_number(const SandboxNumber& n);
bool decode_sandbox_number(std::string_view data, SandboxNumber& n);

}  // namespace fogbank::sns::persist
