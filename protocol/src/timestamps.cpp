#include "timestamps.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace fogbank::protocol::timestamps {

namespace {

constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::string_view kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

// -9999-01-01T00:00:00Z: the writers' lower bound (see format_iso8601).
constexpr std::int64_t kYearMinus9999Seconds =
    std::chrono::sys_days{std::chrono::year{-9999} / 1 / 1}.time_since_epoch().count() * 86400LL;

// Reads the text front to back; every take_* leaves it unchanged when it fails.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  [[nodiscard]] bool done() const { return text_.empty(); }
  [[nodiscard]] char peek() const { return text_.empty() ? '\0' : text_.front(); }
  [[nodiscard]] std::string_view rest() const { return text_; }

  bool take(char c) {
    if (text_.empty() || text_.front() != c) {
      return false;
    }
    text_.remove_prefix(1);
    return true;
  }

  void skip_spaces() {
    while (take(' ')) {
    }
  }

  // Exactly `n` digits.
  bool take_digits(std::size_t n, int& out) {
    if (text_.size() < n) {
      return false;
    }
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = text_[i];
      if (c < '0' || c > '9') {
        return false;
      }
      v = v * 10 + (c - '0');
    }
    text_.remove_prefix(n);
    out = v;
    return true;
  }

  // One or more digits of a fraction of a second; digits past the ninth are read but dropped.
  bool take_nanos(std::int32_t& nanos) {
    std::int32_t value = 0;
    std::int32_t scale = 1'000'000'000;
    std::size_t count = 0;
    while (count < text_.size() && text_[count] >= '0' && text_[count] <= '9') {
      if (scale > 1) {
        scale /= 10;
        value += (text_[count] - '0') * scale;
      }
      ++count;
    }
    if (count == 0) {
      return false;
    }
    text_.remove_prefix(count);
    nanos = value;
    return true;
  }

  bool take_month(bool any_case, int& month) {
    if (text_.size() < 3) {
      return false;
    }
    for (int i = 0; i < 12; ++i) {
      if (any_case ? equal_ignoring_case(text_.substr(0, 3), kMonths[i]) : text_.substr(0, 3) == kMonths[i]) {
        text_.remove_prefix(3);
        month = i + 1;
        return true;
      }
    }
    return false;
  }

  // What is left, when it is one of `words`.
  bool take_rest_if(std::initializer_list<std::string_view> words) {
    if (std::find(words.begin(), words.end(), text_) == words.end()) {
      return false;
    }
    text_ = {};
    return true;
  }

 private:
  static bool equal_ignoring_case(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [&](char x, char y) { return lower(x) == lower(y); });
  }

  std::string_view text_;
};

// The zone that ends an ISO-8601 date-time, as seconds east of UTC: nothing (UTC), "Z", or
// "±hh", "±hhmm", "±hh:mm". Anything after it is the caller's to reject.
bool take_zone(Cursor& in, bool bare_offset_colon, int& offset) {
  offset = 0;
  if (in.done()) {
    return true;
  }
  if (in.rest() == "Z" || in.rest() == "z") {
    in.take(in.peek());
    return true;
  }
  const int sign = in.take('+') ? 1 : in.take('-') ? -1 : 0;
  if (sign == 0) {
    return false;
  }
  int hh = 0;
  int mm = 0;
  if (!in.take_digits(2, hh)) {
    return false;
  }
  const bool colon = in.take(':');
  const bool minutes_follow = colon ? !(bare_offset_colon && in.done()) : !in.done();
  if (minutes_follow && !in.take_digits(2, mm)) {
    return false;
  }
  if (hh > 23 || mm > 59) {
    return false;
  }
  offset = sign * (hh * 3600 + mm * 60);
  return true;
}

}  // namespace

Value neutral_value(const Instant& t) {
  if (t.nanos == 0) {
    return Value(t.seconds);
  }
  return Value(static_cast<double>(t.seconds) + t.fraction());
}

std::optional<std::int64_t> epoch_seconds(int year, int month, int day, int hour, int minute, int second,
                                          bool leap_second) {
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > (leap_second ? 60 : 59)) {
    return std::nullopt;
  }
  return sys_days{date}.time_since_epoch().count() * 86400LL + hour * 3600LL + minute * 60LL + second;
}

Civil civil_time(std::int64_t seconds) {
  using namespace std::chrono;
  std::int64_t day_index = seconds / 86400;
  std::int64_t in_day = seconds % 86400;
  if (in_day < 0) {
    in_day += 86400;
    --day_index;
  }
  const sys_days day{days{day_index}};
  const year_month_day date{day};
  return Civil{static_cast<int>(date.year()),
               static_cast<int>(static_cast<unsigned>(date.month())),
               static_cast<int>(static_cast<unsigned>(date.day())),
               static_cast<int>(in_day / 3600),
               static_cast<int>(in_day / 60 % 60),
               static_cast<int>(in_day % 60),
               static_cast<int>(weekday{day}.c_encoding())};
}

std::optional<Instant> parse_iso8601(std::string_view text, const Rules& rules) {
  Cursor in(text);
  int year = 0;
  int month = 0;
  int day = 0;
  if (!in.take_digits(4, year) || !in.take('-') || !in.take_digits(2, month) || !in.take('-') ||
      !in.take_digits(2, day)) {
    return std::nullopt;
  }
  int hour = 0;
  int minute = 0;
  int second = 0;
  Instant t;
  int offset = 0;
  if (!in.done() || !rules.reduced_precision) {
    if (!(in.take('T') || in.take('t') || (rules.space_separator && in.take(' ')))) {
      return std::nullopt;
    }
    if (!in.take_digits(2, hour) || !in.take(':') || !in.take_digits(2, minute)) {
      return std::nullopt;
    }
    if (in.take(':')) {
      if (!in.take_digits(2, second)) {
        return std::nullopt;
      }
      if ((in.take('.') || (rules.comma_fraction && in.take(','))) && !in.take_nanos(t.nanos)) {
        return std::nullopt;
      }
    } else if (!rules.reduced_precision) {
      return std::nullopt;
    }
    if (!take_zone(in, rules.bare_offset_colon, offset) || !in.done()) {
      return std::nullopt;
    }
  }
  auto whole = epoch_seconds(year, month, day, hour, minute, second, rules.leap_second);
  if (!whole) {
    return std::nullopt;
  }
  t.seconds = *whole - offset;
  return t;
}

std::optional<Instant> parse_rfc822(std::string_view text, const Rules& rules) {
  if (auto comma = text.find(','); comma != std::string_view::npos) {
    text.remove_prefix(comma + 1);
  }
  Cursor in(text);
  in.skip_spaces();
  int day = 0;
  int month = 0;
  int year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!in.take_digits(2, day) && !in.take_digits(1, day)) {
    return std::nullopt;
  }
  if (!in.take(' ') || !in.take_month(rules.loose_rfc822, month) || !in.take(' ') || !in.take_digits(4, year) ||
      !in.take(' ') || !in.take_digits(2, hour) || !in.take(':') || !in.take_digits(2, minute) || !in.take(':') ||
      !in.take_digits(2, second)) {
    return std::nullopt;
  }
  int offset = 0;
  if (rules.loose_rfc822) {
    in.skip_spaces();
    if (!in.take_rest_if({"GMT", "UTC", "UT"}) && !take_zone(in, false, offset)) {
      return std::nullopt;
    }
  } else if (!in.take(' ') || !in.take_rest_if({"GMT", "UTC", "+0000", "Z"})) {
    return std::nullopt;
  }
  if (!in.done()) {
    return std::nullopt;
  }
  auto whole = epoch_seconds(year, month, day, hour, minute, second, rules.leap_second);
  if (!whole) {
    return std::nullopt;
  }
  return Instant{*whole - offset, 0};
}

std::optional<Value> parse_epoch_seconds(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  const char* first = text.data();
  const char* last = first + text.size();
  std::int64_t whole = 0;
  if (auto [end, ec] = std::from_chars(first, last, whole); ec == std::errc() && end == last) {
    return Value(whole);
  }
  double d = 0;
  if (auto [end, ec] = std::from_chars(first, last, d); ec == std::errc() && end == last && std::isfinite(d)) {
    return Value(d);
  }
  return std::nullopt;
}

Split round_to_millis(double seconds) {
  const double limit = static_cast<double>(kYear10000Seconds) - 1;
  seconds = std::isnan(seconds) ? 0.0 : std::clamp(seconds, -limit, limit);
  const auto total_ms = static_cast<std::int64_t>(std::llround(seconds * 1000.0));
  Split s{total_ms / 1000, static_cast<int>(total_ms % 1000)};
  if (s.millis < 0) {
    s.millis += 1000;
    --s.seconds;
  }
  return s;
}

namespace {

char* put_digits(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// As %04d: "0042", "-042", "-6000".
char* put_year(char* out, int year) {
  if (year >= 0) {
    return put_digits(out, year, 4);
  }
  *out++ = '-';
  return put_digits(out, -year, -year >= 1000 ? 4 : 3);
}

char* put(char* out, std::string_view text) { return std::copy(text.begin(), text.end(), out); }

// hh:mm:ss
char* put_time(char* out, const Civil& c) {
  out = put_digits(out, c.hour, 2);
  *out++ = ':';
  out = put_digits(out, c.minute, 2);
  *out++ = ':';
  return put_digits(out, c.second, 2);
}

bool writable(std::int64_t seconds) { return seconds >= kYearMinus9999Seconds && seconds < kYear10000Seconds; }

}  // namespace

std::string_view format_iso8601(char* out, std::int64_t seconds, int millis, Millis mode) {
  if (!writable(seconds)) {
    return {};
  }
  const Civil c = civil_time(seconds);
  char* p = put_year(out, c.year);
  *p++ = '-';
  p = put_digits(p, c.month, 2);
  *p++ = '-';
  p = put_digits(p, c.day, 2);
  *p++ = 'T';
  p = put_time(p, c);
  if (millis != 0 || mode == Millis::kAlways) {
    *p++ = '.';
    p = put_digits(p, millis, 3);
  }
  *p++ = 'Z';
  return {out, static_cast<std::size_t>(p - out)};
}

std::string_view format_rfc822(char* out, std::int64_t seconds) {
  if (!writable(seconds)) {
    return {};
  }
  const Civil c = civil_time(seconds);
  char* p = put(out, kWeekdays[c.weekday]);
  p = put(p, ", ");
  p = put_digits(p, c.day, 2);
  *p++ = ' ';
  p = put(p, kMonths[c.month - 1]);
  *p++ = ' ';
  p = put_year(p, c.year);
  *p++ = ' ';
  p = put_time(p, c);
  p = put(p, " GMT");
  return {out, static_cast<std::size_t>(p - out)};
}

}  // namespace fogbank::protocol::timestamps
