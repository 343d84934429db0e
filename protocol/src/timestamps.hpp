#pragma once
// Private to protocol/src: the one reading and writing of timestamp text the codecs share.
//
// The codecs do not all accept the same text (each was matched to a different AWS parser, and
// tests pin those differences), so the parsers take Rules naming the variations; the calendar,
// the zone grammar and the writers have no variations and are the same code for every wire.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fogbank/protocol/codec.hpp"

namespace fogbank::protocol::timestamps {

using codec::Value;

/// Epoch seconds, split so that whole seconds stay exact integers.
struct Instant {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;  ///< [0, 1e9); finer digits are dropped, as no AWS timestamp has them

  /// The fraction as a double, correctly rounded (nanos / 1e9 is one IEEE division).
  [[nodiscard]] double fraction() const { return static_cast<double>(nanos) / 1e9; }
};

/// The neutral form of codec.hpp: an integer unless there is a fraction.
Value neutral_value(const Instant& t);

// --- calendar -------------------------------------------------------------------------------------

/// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the span four-digit years can write.
inline constexpr std::int64_t kYear0Seconds = -62167219200;
inline constexpr std::int64_t kYear10000Seconds = 253402300800;

/// UTC civil time → epoch seconds; nullopt for an impossible date or time. Second 60 is a leap
/// second (it lands on the next minute's first) and is only accepted when `leap_second`.
std::optional<std::int64_t> epoch_seconds(int year, int month, int day, int hour, int minute, int second,
                                          bool leap_second);

struct Civil {
  int year;
  int month;    ///< 1-12
  int day;      ///< 1-31
  int hour;
  int minute;
  int second;
  int weekday;  ///< 0 = Sunday
};

/// Epoch seconds → UTC civil time, for years -9999 to 9999 (see format_iso8601).
Civil civil_time(std::int64_t seconds);

// --- text → instant -------------------------------------------------------------------------------

/// What a codec reads beyond the strict "YYYY-MM-DDThh:mm:ss[.f][Z|±hh[:]mm]" and
/// "[Www, ]D[D] Mon YYYY hh:mm:ss GMT". A missing zone is UTC in every ISO-8601 form.
struct Rules {
  bool leap_second = false;        ///< ":60", in either format
  bool space_separator = false;    ///< "2024-01-02 03:04:05"
  bool comma_fraction = false;     ///< "03:04:05,25"
  bool reduced_precision = false;  ///< a date alone (midnight UTC), or no seconds ("03:04Z")
  bool bare_offset_colon = false;  ///< "+05:" read as "+05:00"
  /// RFC 822: any case of the month, any spacing before the zone, "UT", any offset, or no zone.
  /// Without it: the exact month name, one space, then GMT, UTC, +0000 or Z.
  bool loose_rfc822 = false;
};

std::optional<Instant> parse_iso8601(std::string_view text, const Rules& rules);
/// The weekday, when there is one, is skipped unchecked.
std::optional<Instant> parse_rfc822(std::string_view text, const Rules& rules);

/// Epoch seconds as text ("1422172800", "-1.5", "1e3"), without a sign of '+'. An integer when
/// the text is one, else a finite double; nullopt for anything else, "inf" and "nan" included.
std::optional<Value> parse_epoch_seconds(std::string_view text);

// --- instant → text -------------------------------------------------------------------------------

/// Room the writers need at `out`.
inline constexpr std::size_t kTextCapacity = 32;

/// A timestamp rounded to the millisecond, whole seconds floored (-0.25 is -1 s + 750 ms). NaN is
/// taken as 0, and values are clamped to within a second of ±kYear10000Seconds so that the
/// millisecond count cannot overflow.
struct Split {
  std::int64_t seconds;
  int millis;
};
Split round_to_millis(double seconds);

enum class Millis {
  kIfAny,   ///< "…:00Z" / "…:00.250Z" (JSON, Query)
  kAlways,  ///< "…:00.000Z" (REST-XML, as S3 writes)
};

/// "2015-01-25T08:00:00.250Z" into `out` (kTextCapacity bytes). Years below 0 are written as
/// printf's %04d writes them ("-001", "-6000"); outside years ±9999 nothing is written.
std::string_view format_iso8601(char* out, std::int64_t seconds, int millis, Millis mode);

/// "Sun, 25 Jan 2015 08:00:00 GMT" into `out` (kTextCapacity bytes); whole seconds, as RFC 822
/// has no fraction. Same year range as format_iso8601.
std::string_view format_rfc822(char* out, std::int64_t seconds);

}  // namespace fogbank::protocol::timestamps
