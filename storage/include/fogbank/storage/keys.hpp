#pragma once
// Order-preserving key encodings, all in one place.
//
// A composite key is a sequence of parts; comparing encoded keys bytewise gives the same order
// as comparing the parts one by one:
//  - strings: every 0x00 byte becomes 0x00 0xFF, and the part ends with 0x00 0x01, so "a" < "ab"
//    and a part can never run into the next one;
//  - unsigned integers: fixed-width big-endian.
// A prefix made of whole parts (KeyBuilder output) selects exactly the keys under it.

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::storage {

class KeyBuilder {
 public:
  KeyBuilder() = default;
  explicit KeyBuilder(std::string_view tag) { str(tag); }
  KeyBuilder& str(std::string_view part);
  KeyBuilder& u32(std::uint32_t v);
  KeyBuilder& u64(std::uint64_t v);
  /// Appends bytes with no framing (only as the last part).
  KeyBuilder& raw(std::string_view bytes);
  [[nodiscard]] const std::string& key() const& noexcept { return key_; }
  [[nodiscard]] std::string key() && noexcept { return std::move(key_); }

 private:
  std::string key_;
};

/// Reads parts back in the order KeyBuilder wrote them; each read returns nullopt on a malformed
/// key.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}
  /// A reader only views its key: reading a temporary string (e.g. `KeyBuilder(...).key()`)
  /// would dangle, so that is a compile error.
  template <typename T>
    requires std::same_as<T, std::string>
  explicit KeyReader(T&& temporary) = delete;
  std::optional<std::string> str();
  std::optional<std::uint32_t> u32();
  std::optional<std::uint64_t> u64();
  [[nodiscard]] std::string_view rest() const noexcept { return rest_; }
  [[nodiscard]] bool done() const noexcept { return rest_.empty(); }

 private:
  std::string_view rest_;
};

/// The smallest key greater than every key with this prefix ("" if none exists).
std::string prefix_successor(std::string_view prefix);

}  // namespace fogbank::storage
