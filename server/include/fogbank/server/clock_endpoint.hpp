#pragma once
// /_fogbank/clock: reads the server's Clock and moves a virtual one. Beast-free and separate from
// app.cpp so its parsing is unit-tested without a running server.
//
//   GET                             → {"mode":"virtual"|"system","now":"2024-05-01T12:00:00.250Z","now_ms":N}
//   POST {"advance_seconds": 1.5}   → moves a virtual clock forward (fractions: milliseconds), answers like GET
//   POST {"set": "<ISO-8601>"}      → sets it (backwards too)
//
// POST on the system clock: 409. Malformed JSON, wrong types, negative or out-of-range values: 400.
// Other methods: 405. Every error is {"error": "..."}.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/http.hpp"

namespace fogbank::server {

/// The latest instant the endpoint accepts: 9999-12-31T23:59:59.999Z (four-digit years only).
inline constexpr std::int64_t kMaxClockMs = 253'402'300'799'999;

/// "2024-05-01T12:00:00.250Z": UTC, always with milliseconds.
[[nodiscard]] std::string format_iso8601_ms(std::int64_t unix_ms);

/// Parses an ISO-8601 date and time into unix milliseconds: extended ("2024-05-01T12:00:00.25Z")
/// or basic ("20240501T120000Z", as X-Amz-Date) format; 'T', 't' or a space between date and
/// time; seconds and a fraction (',' or '.', digits past milliseconds are truncated) optional;
/// zone "Z", "+hh:mm", "+hhmm" or "+hh" (or '-'), and none means UTC. nullopt if malformed or
/// not a real date (2023-02-29, 24:00, leap seconds).
[[nodiscard]] std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

/// Answers one /_fogbank/clock request. `movable` is the same clock as `clock` when it is virtual,
/// null for the system clock.
[[nodiscard]] protocol::Response clock_endpoint(std::string_view method, std::string_view body,
                                                const protocol::Clock& clock,
                                                protocol::VirtualClock* movable);

}  // namespace fogbank::server
