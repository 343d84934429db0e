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
#include "fogbank/protocol/utf8.hpp"
#include "timestamps.hpp"

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
inline constexpr double kCalendarLimitSeconds = static_cast<double>(timestamps::kYear10000Seconds);

/// Seconds since the epoch of a neutral timestamp value (a number, or ISO-8601 text a handler
/// may have put there); nullopt for anything else.
std::optional<double> timestamp_seconds(const Value& value);

/// The bytes of a blob value: binary, or a string taken as its bytes. False for anything else.
bool blob_bytes(const Value& value, const std::uint8_t*& data, std::size_t& size);

/// "true" or "false", which the encoders accept for a boolean member.
inline bool boolean_text(std::string_view text) { return text == "true" || text == "false"; }

/// Numeric text ("12", "-3.5", "1e3") in full → number; nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

// UTF-8 decoding is shared with the XML reader and the services (fogbank/protocol/utf8.hpp).
using utf8::next_code_point;
using utf8::valid_utf8;

}  // namespace fogbank::protocol::codec::walk
