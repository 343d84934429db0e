#include "shard_iterator.hpp"

#include <cstring>

#include "fogbank/protocol/crypto.hpp"

namespace fogbank::kinesis {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMacBytes = 16;  // truncated HMAC: keeps tokens well under 512 characters

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

void put_text(std::string& out, std::string_view text) {
  out.push_back(static_cast<char>(text.size() & 0xff));
  out.append(text.substr(0, 255));
}

struct Reader {
  std::string_view rest;
  bool ok = true;

  std::uint64_t u64() {
    if (rest.size() < 8) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
      v = (v << 8) | static_cast<std::uint8_t>(rest[static_cast<std::size_t>(i)]);
    }
    rest.remove_prefix(8);
    return v;
  }
  std::string text() {
    if (rest.empty()) {
      ok = false;
      return {};
    }
    const auto n = static_cast<std::uint8_t>(rest[0]);
    if (rest.size() < 1u + n) {
      ok = false;
      return {};
    }
    std::string s(rest.substr(1, n));
    rest.remove_prefix(1u + n);
    return s;
  }
};

}  // namespace

std::string encode_iterator(const IteratorPosition& p, std::string_view key) {
  std::string payload;
  payload.push_back(static_cast<char>(kVersion));
  put_u64(payload, static_cast<std::uint64_t>(p.issued_ms));
  put_u64(payload, static_cast<std::uint64_t>(p.stream_created_ms));
  put_u64(payload, p.shard_index);
  put_u64(payload, p.next_counter);
  put_text(payload, p.account);
  put_text(payload, p.region);
  put_text(payload, p.stream);
  const auto mac = protocol::hmac_sha256(key, payload);
  payload.append(reinterpret_cast<const char*>(mac.data()), kMacBytes);
  return protocol::base64_encode(payload);
}

std::optional<IteratorPosition> decode_iterator(std::string_view token, std::string_view key) {
  auto raw = protocol::base64_decode(token);
  if (!raw || raw->size() < 1 + kMacBytes || static_cast<std::uint8_t>((*raw)[0]) != kVersion) {
    return std::nullopt;
  }
  const std::string_view payload(raw->data(), raw->size() - kMacBytes);
  const auto mac = protocol::hmac_sha256(key, payload);
  // Constant-time compare: the MAC is the only thing keeping a client from forging positions.
  unsigned char diff = 0;
  for (std::size_t i = 0; i < kMacBytes; ++i) {
    diff |= static_cast<unsigned char>(mac[i] ^ static_cast<std::uint8_t>((*raw)[payload.size() + i]));
  }
  if (diff != 0) {
    return std::nullopt;
  }
  Reader r{payload.substr(1)};
  IteratorPosition p;
  p.issued_ms = static_cast<std::int64_t>(r.u64());
  p.stream_created_ms = static_cast<std::int64_t>(r.u64());
  p.shard_index = static_cast<std::uint32_t>(r.u64());
  p.next_counter = r.u64();
  p.account = r.text();
  p.region = r.text();
  p.stream = r.text();
  if (!r.ok || !r.rest.empty()) {
    return std::nullopt;
  }
  return p;
}

}  // namespace fogbank::kinesis
