#pragma once
// JSON text pieces shared by the model-driven JSON codec and the direct paths of hot operations
// (ModeledServiceSpec::json_direct): string escaping, base64 blobs, epoch-second timestamps, and
// a strict scanner for flat request documents. Both writers produce the same bytes for the same
// value, so a direct path's answer is byte-for-byte the codec's.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::protocol::json_text {

/// `s` as a quoted JSON string with the escapes JSON requires; invalid UTF-8 becomes U+FFFD so
/// that one bad byte in stored data cannot make a whole response unparseable.
void append_string(std::string& out, std::string_view s);
/// Standard padded base64 of `size` bytes.
void append_base64(std::string& out, const std::uint8_t* data, std::size_t size);
/// Whole seconds as an integer, else to the millisecond ("1.5", "1.25", "1.001").
void append_epoch_seconds(std::string& out, double seconds);

/// Strict padded base64 (length a multiple of 4, no stray characters, zero pad bits) decoded into
/// `out`, which must have room for text.size() / 4 * 3 bytes. The decoded size, or nullopt.
std::optional<std::size_t> decode_base64(std::string_view text, std::uint8_t* out);

/// Reads the common form of a flat request document without building a value: objects, arrays,
/// strings without escapes, integers. Anything else (an escape, a float, null, a nesting deeper
/// than kMaxDepth, trailing bytes) fails, and the caller hands the request to the general codec,
/// which reads everything and words the errors.
class Scanner {
 public:
  static constexpr int kMaxDepth = 8;

  explicit Scanner(std::string_view text) : text_(text) {}

  /// Consumes `{` or `[` (entering it) or any other expected character.
  bool open(char bracket);
  /// Inside an object: the next member's key, with its `:` consumed; false at the closing `}`
  /// (consumed) or on failure.
  bool member(std::string_view& key);
  /// Inside an array: true when another element follows; false at the closing `]` (consumed) or
  /// on failure.
  bool element();
  /// A string value without escapes or control characters.
  bool string(std::string_view& out);
  /// An integer value (no fraction or exponent) that fits in 64 bits.
  bool integer(std::int64_t& out);
  /// Only whitespace remains and every container was closed.
  [[nodiscard]] bool finished();
  [[nodiscard]] bool failed() const { return failed_; }

 private:
  void skip_space();
  bool fail() {
    failed_ = true;
    return false;
  }
  bool raw_string(std::string_view& out);
  /// True when another member or element follows `,` (or is the first); false at `close`
  /// (consumed, leaving the container) or on failure.
  bool next_in(char close);

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  bool first_[kMaxDepth + 1] = {};  ///< no member or element read yet at this depth
  bool failed_ = false;
};

}  // namespace fogbank::protocol::json_text
