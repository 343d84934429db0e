#include "fogbank/storage/keys.hpp"

namespace fogbank::storage {

namespace {

template <typename T>
void append_big_endian(std::string& out, T v) {
  for (int shift = static_cast<int>(sizeof(T) * 8) - 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(v >> shift)));
  }
}

template <typename T>
std::optional<T> read_big_endian(std::string_view& rest) {
  if (rest.size() < sizeof(T)) {
    return std::nullopt;
  }
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<T>((v << 8) | static_cast<unsigned char>(rest[i]));
  }
  rest.remove_prefix(sizeof(T));
  return v;
}

}  // namespace

KeyBuilder& KeyBuilder::str(std::string_view part) {
  key_.reserve(key_.size() + part.size() + 2);
  for (char c : part) {
    key_.push_back(c);
    if (c == '\0') {
      key_.push_back('\xff');
    }
  }
  key_.push_back('\0');
  key_.push_back('\x01');
  return *this;
}

KeyBuilder& KeyBuilder::u32(std::uint32_t v) {
  append_big_endian(key_, v);
  return *this;
}

KeyBuilder& KeyBuilder::u64(std::uint64_t v) {
  append_big_endian(key_, v);
  return *this;
}

KeyBuilder& KeyBuilder::raw(std::string_view bytes) {
  key_.append(bytes);
  return *this;
}

std::optional<std::string> KeyReader::str() {
  std::string out;
  std::size_t i = 0;
  while (i < rest_.size()) {
    char c = rest_[i];
    if (c != '\0') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= rest_.size()) {
      return std::nullopt;
    }
    char escape = rest_[i + 1];
    if (escape == '\xff') {
      out.push_back('\0');
      i += 2;
    } else if (escape == '\x01') {
      rest_.remove_prefix(i + 2);
      return out;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> KeyReader::u32() { return read_big_endian<std::uint32_t>(rest_); }

std::optional<std::uint64_t> KeyReader::u64() { return read_big_endian<std::uint64_t>(rest_); }

std::string prefix_successor(std::string_view prefix) {
  std::string out(prefix);
  // Trailing 0xFF bytes cannot be incremented; any key extending them is still under the prefix,
  // so the successor is found by dropping them and bumping the byte before.
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xff) {
    out.pop_back();
  }
  if (!out.empty()) {
    out.back() = static_cast<char>(static_cast<unsigned char>(out.back()) + 1);
  }
  return out;
}

}  // namespace fogbank::storage
