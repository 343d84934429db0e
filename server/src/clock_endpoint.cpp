#include "fogbank/server/clock_endpoint.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace fogbank::server {

namespace {

namespace chr = std::chrono;
using protocol::Response;

constexpr std::string_view kUsage =
    R"(want {"advance_seconds": <number >= 0>} or {"set": "<ISO-8601 date and time>"})";

Response json_answer(int status, const nlohmann::json& body) { return Response(status, body.dump(), "application/json"); }

Response error(int status, std::string_view message) {
  return json_answer(status, {{"error", std::string(message)}});
}

// A cursor over the text being parsed; every reader returns false (or nullopt) and leaves the
// cursor where it failed, so the caller only chains them.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  [[nodiscard]] bool at_end() const { return pos_ == text_.size(); }
  [[nodiscard]] char peek() const { return at_end() ? '\0' : text_[pos_]; }
  [[nodiscard]] bool peek_digit() const { return peek() >= '0' && peek() <= '9'; }
  bool take(char c) {
    if (peek() != c) {
      return false;
    }
    ++pos_;
    return true;
  }
  /// Exactly `n` decimal digits.
  std::optional<int> digits(int n) {
    int v = 0;
    for (int i = 0; i < n; ++i) {
      if (!peek_digit()) {
        return std::nullopt;
      }
      v = v * 10 + (text_[pos_++] - '0');
    }
    return v;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string format_iso8601_ms(std::int64_t unix_ms) {
  const chr::sys_time<chr::milliseconds> t{chr::milliseconds(unix_ms)};
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  Cursor in(text);
  auto year = in.digits(4);
  if (!year) {
    return std::nullopt;
  }
  // The first separator decides between the extended (2024-05-01T12:00) and basic (20240501T1200)
  // forms; ISO-8601 does not mix them.
  const bool extended = in.take('-');
  auto month = in.digits(2);
  if (!month || (extended && !in.take('-'))) {
    return std::nullopt;
  }
  auto day = in.digits(2);
  if (!day || !(in.take('T') || in.take('t') || in.take(' '))) {
    return std::nullopt;
  }
  auto hour = in.digits(2);
  if (!hour || (extended && !in.take(':'))) {
    return std::nullopt;
  }
  auto minute = in.digits(2);
  if (!minute) {
    return std::nullopt;
  }
  int second = 0;
  if (extended ? in.take(':') : in.peek_digit()) {
    auto s = in.digits(2);
    if (!s) {
      return std::nullopt;
    }
    second = *s;
  }
  int millis = 0;
  if (in.take('.') || in.take(',')) {
    if (!in.peek_digit()) {
      return std::nullopt;
    }
    for (int scale = 100; in.peek_digit(); scale /= 10) {
      millis += scale * *in.digits(1);  // past milliseconds scale is 0: truncated
    }
  }
  int offset_minutes = 0;
  if (!in.at_end() && !in.take('Z') && !in.take('z')) {
    int sign = 0;
    if (in.take('+')) {
      sign = 1;
    } else if (in.take('-')) {
      sign = -1;
    } else {
      return std::nullopt;
    }
    auto oh = in.digits(2);
    if (!oh || *oh > 23) {
      return std::nullopt;
    }
    int om = 0;
    if (!in.at_end()) {
      in.take(':');
      auto m = in.digits(2);
      if (!m || *m > 59) {
        return std::nullopt;
      }
      om = *m;
    }
    offset_minutes = sign * (*oh * 60 + om);
  }
  if (!in.at_end()) {
    return std::nullopt;
  }
  const chr::year_month_day ymd{chr::year(*year), chr::month(static_cast<unsigned>(*month)),
                                chr::day(static_cast<unsigned>(*day))};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || second > 59) {
    return std::nullopt;
  }
  const auto local = chr::sys_days(ymd) + chr::hours(*hour) + chr::minutes(*minute) +
                     chr::seconds(second) + chr::milliseconds(millis);
  // "+02:00" means two hours ahead of UTC: UTC is the local time minus the offset.
  return chr::duration_cast<chr::milliseconds>((local - chr::minutes(offset_minutes)).time_since_epoch()).count();
}

Response clock_endpoint(std::string_view method, std::string_view body, const protocol::Clock& clock,
                        protocol::VirtualClock* movable) {
  if (method != "GET" && method != "POST") {
    Response r = error(405, "use GET or POST /_fogbank/clock");
    r.headers.set("Allow", "GET, POST");
    return r;
  }
  if (method == "POST") {
    if (movable == nullptr) {
      return error(409, "fogbank runs on the system clock, which it cannot move; start it with "
                        "--clock virtual to set or advance time");
    }
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 1) {
      return error(400, kUsage);
    }
    if (auto it = j.find("advance_seconds"); it != j.end()) {
      if (!it->is_number()) {
        return error(400, "advance_seconds must be a number");
      }
      const double seconds = it->get<double>();
      if (!std::isfinite(seconds) || seconds < 0) {
        return error(400, "advance_seconds must be >= 0 (set moves the clock back)");
      }
      const double ms = std::round(seconds * 1000.0);
      if (ms > static_cast<double>(kMaxClockMs - movable->now_ms())) {
        return error(400, "advance_seconds would move the clock past 9999-12-31T23:59:59.999Z");
      }
      movable->advance_ms(static_cast<std::int64_t>(ms));
    } else if (auto set = j.find("set"); set != j.end()) {
      if (!set->is_string()) {
        return error(400, "set must be an ISO-8601 date and time string, e.g. \"2030-01-01T00:00:00Z\"");
      }
      const auto& text = set->get_ref<const std::string&>();
      auto ms = parse_iso8601_ms(text);
      if (!ms) {
        return error(400, "set: '" + text + "' is not an ISO-8601 date and time, e.g. \"2030-01-01T00:00:00Z\"");
      }
      if (*ms < 0 || *ms > kMaxClockMs) {
        return error(400, "set must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z");
      }
      movable->set_ms(*ms);
    } else {
      return error(400, kUsage);
    }
  }
  const std::int64_t now = clock.now_ms();
  return json_answer(200, {{"mode", clock.is_virtual() ? "virtual" : "system"},
                           {"now", format_iso8601_ms(now)},
                           {"now_ms", now}});
}

}  // namespace fogbank::server
