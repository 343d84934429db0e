#pragma once
// Every credential fogbank accepts: the long-term keys from configuration and the temporary
// credentials STS (and the IMDS role) issue, persisted in storage until they expire.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "fogbank/protocol/sigv4.hpp"
#include "fogbank/storage/store.hpp"

namespace fogbank::sts {

/// A configured long-term key. `user` empty means the account's root user.
struct StaticKey {
  std::string access_key;
  std::string secret_key;
  std::string account_id;
  std::string user;
};

/// Parses "key:secret:account[:user]" entries separated by ',' or newlines (the --credentials
/// flag or file). Throws std::invalid_argument naming the bad entry.
std::vector<StaticKey> parse_static_keys(std::string_view text);

/// A stable IAM-style unique id: `prefix` (AIDA, AROA, AIPA, ...) + 17 upper-case characters
/// derived from `seed`, 21 characters in all, as IAM's ids are.
std::string iam_unique_id(std::string_view prefix, std::string_view seed);

/// Identity of a long-term key (root: arn:aws:iam::<acct>:root, UserId = account).
protocol::sigv4::Credential identity_of(const StaticKey& key);

/// Thread-safe. Static keys live in memory; temporary ones in storage Space::kSts, so they survive
/// restarts, and are looked up there on every request (a RocksDB point read).
class CredentialStore final : public protocol::sigv4::CredentialLookup {
 public:
  CredentialStore(storage::Store& store, std::vector<StaticKey> keys);

  [[nodiscard]] std::optional<protocol::sigv4::Credential> find(std::string_view access_key) const override;

  /// Issues new temporary credentials for an identity (account, arn, user id) valid for
  /// `duration` seconds from `now`, and persists them before returning.
  [[nodiscard]] protocol::sigv4::Credential issue(const std::string& account_id, const std::string& arn,
                                                  const std::string& user_id, std::int64_t now,
                                                  std::int64_t duration);

  /// Drops temporary credentials that expired more than a day before `now`.
  void purge_expired(std::int64_t now);

  [[nodiscard]] const std::vector<StaticKey>& static_keys() const { return keys_; }

 private:
  storage::Store& store_;
  std::vector<StaticKey> keys_;
  std::unordered_map<std::string, protocol::sigv4::Credential> by_key_;
};

}  // namespace fogbank::sts
