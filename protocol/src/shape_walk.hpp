#pragma once
// Private to protocol/src: what the JSON and CBOR codecs (and the validator) share. Both wires
// parse into a generic nlohmann value first; conform_input() then brings that value into the
// neutral form of codec.hpp in place, so a decoded MessageBody is never copied after parsing.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/model.hpp"

namespace fogbank::protocol::codec::walk {

/// Deepest container nesting a request may have. Coral has a limit of its own; ours only has to
/// keep parsers, the walk and the destructor far from the stack's end.
inline constexpr int kMaxDepth = 64;

/// The wire a value was parsed from. It decides how a timestamp sent as a number is read (JSON:
/// epoch seconds; CBOR: epoch milliseconds, as the AWS SDKs for Java write tag 1) and whether a
/// blob may arrive as raw bytes.
enum class Wire { kJson, kCbor };

/// Throws AwsError SerializationException (400) with `message`.
[[noreturn]] void fail(std::string message);

/// Brings `value`, parsed from `wire`, into the neutral form of `input` (a structure), in place:
/// unknown and null members are erased, blobs become binary, timestamps numbers of seconds.
/// A null `input` leaves an empty object. Throws SerializationException on a type mismatch.
/// `value` must be at most kMaxDepth containers deep (the parsers guarantee it).
void conform_input(const model::Shape* input, Value& value, Wire wire);

// --- scalars shared by the encoders -------------------------------------------------------------

/// The format a timestamp member is written in: the member's trait, else the shape's, else
/// kDefault (the protocol's own).
model::TimestampFormat timestamp_format(const model::Member& member);

/// Timestamps at or beyond ±10000-01-01 are written as plain numbers: calendars and integral
/// milliseconds are only computed below it.
inline constexpr double kCalendarLimitSeconds = 253402300800.0;

/// Seconds since the epoch of a neutral timestamp value (a number, or ISO-8601 text a handler
/// may have put there); nullopt for anything else.
std::optional<double> timestamp_seconds(const Value& value);

/// "2015-01-25T08:00:00Z" / "...:00.250Z" and RFC 822 "Sun, 25 Jan 2015 08:00:00 GMT", to the ms.
std::string format_iso8601(double seconds);
std::string format_rfc822(double seconds);
/// ISO-8601 date-time with a zone designator (Z or ±hh:mm; none means UTC) → epoch seconds.
std::optional<double> parse_iso8601(std::string_view text);

/// Appends standard, padded base64 of `size` bytes at `data`.
void append_base64(std::string& out, const std::uint8_t* data, std::size_t size);

/// The bytes of a blob value: binary, or a string taken as its bytes. False for anything else.
bool blob_bytes(const Value& value, const std::uint8_t*& data, std::size_t& size);

/// "true" or "false", which the encoders accept for a boolean member.
inline bool boolean_text(std::string_view text) { return text == "true" || text == "false"; }

/// Numeric text ("12", "-3.5", "1e3") in full → number; nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

// --- UTF-8 ----------------------------------------------------------------------------------------

/// Decodes one code point at `p` (advancing it), rejecting overlong forms, surrogates and values
/// above U+10FFFF. False, with `p` unchanged, when the bytes there are not valid UTF-8.
inline bool next_code_point(const unsigned char*& p, const unsigned char* end, char32_t& cp) {
  const unsigned char b0 = *p;
  if (b0 < 0x80) {
    cp = b0;
    ++p;
    return true;
  }
  std::size_t extra = 0;
  char32_t lowest = 0;
  if ((b0 & 0xE0) == 0xC0) {
    extra = 1;
    cp = b0 & 0x1F;
    lowest = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    extra = 2;
    cp = b0 & 0x0F;
    lowest = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    extra = 3;
    cp = b0 & 0x07;
    lowest = 0x10000;
  } else {
    return false;
  }
  if (static_cast<std::size_t>(end - p) <= extra) {
    return false;
  }
  for (std::size_t i = 1; i <= extra; ++i) {
    const unsigned char b = p[i];
    if ((b & 0xC0) != 0x80) {
      return false;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < lowest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return false;
  }
  p += extra + 1;
  return true;
}

/// Whether `text` is entirely valid UTF-8 (ASCII runs are skipped a word at a time).
bool valid_utf8(std::string_view text);

}  // namespace fogbank::protocol::codec::walk
