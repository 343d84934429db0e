#pragma once
// AWS's event-stream framing (`application/vnd.amazon.eventstream`), the body of streaming
// operations such as Kinesis SubscribeToShard. A message is
//   total length (u32) | headers length (u32) | CRC32 of those 8 bytes (u32)
//   | headers | payload | CRC32 of everything before (u32)
// all big-endian, each header a 1-byte name length, the name, a type byte and a typed value.
// Pure wire code: encoding for responses, a strict incremental decoder for tests and fuzzing.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fogbank::protocol::eventstream {

enum class HeaderType : std::uint8_t {
  kTrue = 0,
  kFalse = 1,
  kByte = 2,
  kShort = 3,
  kInteger = 4,
  kLong = 5,
  kBytes = 6,
  kString = 7,
  kTimestamp = 8,  ///< milliseconds since the epoch
  kUuid = 9,
};

struct HeaderValue {
  HeaderType type = HeaderType::kString;
  std::string bytes;        ///< kBytes, kString, kUuid (16 bytes)
  std::int64_t number = 0;  ///< kByte, kShort, kInteger, kLong, kTimestamp

  static HeaderValue string(std::string s) { return {HeaderType::kString, std::move(s), 0}; }
};

struct Header {
  std::string name;
  HeaderValue value;
};

struct Message {
  std::vector<Header> headers;
  std::string payload;

  /// The value of a string header, or nullopt.
  [[nodiscard]] std::optional<std::string> string_header(std::string_view name) const;
};

/// Limits AWS documents for one message: 16 MiB in all, 128 KiB of headers.
constexpr std::uint32_t kMaxMessageBytes = 16u << 20;
constexpr std::uint32_t kMaxHeaderBytes = 128u << 10;

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The framed message. Throws std::length_error past the limits (a header name over 255 bytes, a
/// string or bytes value over 65,535, a message over kMaxMessageBytes).
std::string encode(const Message& message);

/// An `:message-type: event` message of `event_type` with a payload in `content_type`.
std::string event(std::string_view event_type, std::string_view content_type, std::string payload);
/// An `:message-type: exception` message, as a stream reports a modeled error after its start.
std::string exception(std::string_view exception_type, std::string_view content_type, std::string payload);

/// Splits a byte stream into messages as it arrives. Malformed input (a CRC mismatch, lengths that
/// do not add up, an unknown header type, a message over the limits) throws DecodeError, after
/// which the decoder stays failed.
class Decoder {
 public:
  void feed(std::string_view bytes);
  /// The next complete message, or nullopt until more bytes arrive.
  std::optional<Message> next();
  /// Bytes fed but not yet returned as a message.
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
  bool failed_ = false;
};

/// CRC-32 (IEEE 802.3, as zlib and the event-stream framing compute it), continuing from `crc`.
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);

}  // namespace fogbank::protocol::eventstream
