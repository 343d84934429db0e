#pragma once
// JSON documents that clients send inside other values (SQS's Policy and RedrivePolicy
// attributes, S3's browser-POST policy) are parsed here, never with a bare nlohmann::json::parse.
//
// nlohmann's parser itself keeps its own stack, but everything done with the value afterwards
// (dump() for an error message, copies, comparisons) recurses once per level, so a document of
// 100,000 nested brackets overflows the thread's stack. The nesting is therefore checked on the
// text first, before a value exists.

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace fogbank::protocol {

/// Deeper than any policy AWS documents (a Condition block is 3-4 levels), far below a stack's reach.
inline constexpr std::size_t kMaxClientJsonDepth = 64;

/// Whether no array or object in `text` lies more than `max_depth` levels deep. Brackets inside
/// strings do not count. Reads the text once and stops at the first level too deep.
[[nodiscard]] bool json_depth_within(std::string_view text, std::size_t max_depth);

/// Parses client-supplied JSON. Returns a discarded value (`is_discarded()`) when the text is not
/// JSON or nests deeper than `max_depth`; never throws for bad input.
[[nodiscard]] nlohmann::json parse_json_limited(std::string_view text,
                                                std::size_t max_depth = kMaxClientJsonDepth);

}  // namespace fogbank::protocol
