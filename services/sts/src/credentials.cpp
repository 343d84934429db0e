#include "fogbank/sts/credentials.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "fogbank/storage/keys.hpp"

namespace fogbank::sts {

namespace sigv4 = protocol::sigv4;

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

bool is_account_id(std::string_view s) {
  return s.size() == 12 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string cred_key(std::string_view access_key) {
  return storage::KeyBuilder("cred").str(access_key).key();
}

// Secrets are 40 characters of base64, like AWS's.
std::string new_secret() {
  auto s = protocol::base64_encode(protocol::random_bytes(30));
  return s.substr(0, 40);
}

}  // namespace

std::vector<StaticKey> parse_static_keys(std::string_view text) {
  // Whole lines starting with '#' are comments (commas inside them included); the rest of the
  // text is split on ',' and newlines.
  std::string entries;
  for (std::size_t pos = 0; pos <= text.size();) {
    auto end = text.find('\n', pos);
    auto line = trim(text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    pos = end == std::string_view::npos ? text.size() + 1 : end + 1;
    if (!line.empty() && line.front() != '#') {
      entries += line;
      entries += ',';
    }
  }
  std::vector<StaticKey> keys;
  std::string_view all = entries;
  std::size_t pos = 0;
  while (pos < all.size()) {
    auto end = all.find(',', pos);
    auto entry = trim(all.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    pos = end == std::string_view::npos ? all.size() : end + 1;
    if (entry.empty()) {
      continue;
    }
    std::vector<std::string> parts;
    std::size_t p = 0;
    while (true) {
      auto colon = entry.find(':', p);
      parts.push_back(entry.substr(p, colon == std::string::npos ? std::string::npos : colon - p));
      if (colon == std::string::npos) {
        break;
      }
      p = colon + 1;
    }
    if (parts.size() < 3 || parts.size() > 4 || parts[0].empty() || parts[1].empty() ||
        !is_account_id(parts[2])) {
      throw std::invalid_argument("bad credential entry '" + entry +
                                  "' (want access-key:secret-key:12-digit-account[:user-name])");
    }
    keys.push_back({parts[0], parts[1], parts[2], parts.size() == 4 ? parts[3] : std::string()});
  }
  return keys;
}

std::string iam_unique_id(std::string_view prefix, std::string_view seed) {
  auto digest = protocol::hex(protocol::sha256(seed));
  std::string id(prefix);
  for (std::size_t i = 0; id.size() < 21; ++i) {
    id += static_cast<char>(std::toupper(static_cast<unsigned char>(digest[i])));
  }
  return id;
}

sigv4::Credential identity_of(const StaticKey& key) {
  sigv4::Credential c;
  c.access_key = key.access_key;
  c.secret_key = key.secret_key;
  c.account_id = key.account_id;
  if (key.user.empty()) {
    c.arn = "arn:aws:iam::" + key.account_id + ":root";
    c.user_id = key.account_id;
  } else {
    c.arn = "arn:aws:iam::" + key.account_id + ":user/" + key.user;
    c.user_id = iam_unique_id("AIDA", c.arn);
  }
  return c;
}

CredentialStore::CredentialStore(storage::Store& store, std::vector<StaticKey> keys)
    : store_(store), keys_(std::move(keys)) {
  for (const auto& k : keys_) {
    by_key_.emplace(k.access_key, identity_of(k));
  }
}

std::optional<sigv4::Credential> CredentialStore::find(std::string_view access_key) const {
  if (auto it = by_key_.find(std::string(access_key)); it != by_key_.end()) {
    return it->second;
  }
  auto raw = store_.get(storage::Space::kSts, cred_key(access_key));
  if (!raw) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (j.is_discarded()) {
    return std::nullopt;
  }
  sigv4::Credential c;
  c.access_key = std::string(access_key);
  c.secret_key = j.value("secret", "");
  c.session_token = j.value("token", "");
  c.account_id = j.value("account", "");
  c.arn = j.value("arn", "");
  c.user_id = j.value("user_id", "");
  c.expires_at = j.value("expires", std::int64_t{0});
  return c;
}

sigv4::Credential CredentialStore::issue(const std::string& account_id, const std::string& arn,
                                         const std::string& user_id, std::int64_t now,
                                         std::int64_t duration) {
  sigv4::Credential c;
  c.access_key = "ASIA" + protocol::random_upper_alnum(16);
  c.secret_key = new_secret();
  // Opaque to clients; long like AWS's so that SDKs' and proxies' header handling is exercised.
  c.session_token = "FQoGZXIvYXdzEFogbank" + protocol::base64_encode(protocol::random_bytes(150));
  c.account_id = account_id;
  c.arn = arn;
  c.user_id = user_id;
  c.expires_at = now + duration;
  nlohmann::json j = {{"secret", c.secret_key}, {"token", c.session_token}, {"account", account_id},
                      {"arn", arn},           {"user_id", user_id},       {"expires", c.expires_at}};
  auto st = store_.put(storage::Space::kSts, cred_key(c.access_key), j.dump());
  if (!st.is_ok()) {
    throw std::runtime_error("storing temporary credentials failed: " + st.message());
  }
  return c;
}

void CredentialStore::purge_expired(std::int64_t now) {
  storage::Batch batch;
  auto prefix = storage::KeyBuilder("cred").key();
  for (auto cur = store_.scan_prefix(storage::Space::kSts, prefix); cur.valid(); cur.next()) {
    auto j = nlohmann::json::parse(cur.value(), nullptr, false);
    if (j.is_discarded() || j.value("expires", std::int64_t{0}) + 86400 < now) {
      batch.del(storage::Space::kSts, cur.key());
    }
  }
  if (batch.count() > 0) {
    (void)store_.write(batch);
  }
}

}  // namespace fogbank::sts
