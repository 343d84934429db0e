#include "fogbank/server/clock_endpoint.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace fogbank::server {
namespace {

constexpr std::int64_t kStart = 1'700'000'000'123;  // 2023-11-14T22:13:20.123Z

nlohmann::json body_of(const protocol::Response& r) { return nlohmann::json::parse(r.body); }

TEST(ClockFormatTest, MillisecondsInUtc) {
  EXPECT_EQ(format_iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(kStart), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_iso8601_ms(951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_iso8601_ms(kMaxClockMs), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(ClockParseTest, ExtendedForms) {
  EXPECT_EQ(parse_iso8601_ms("2023-11-14T22:13:20.123Z"), kStart);
  EXPECT_EQ(parse_iso8601_ms("2023-11-14t22:13:20.123z"), kStart);
  EXPECT_EQ(parse_iso8601_ms("2023-11-14 22:13:20.123"), kStart);  // no zone: UTC
  EXPECT_EQ(parse_iso8601_ms("2023-11-14T22:13:20,123456789Z"), kStart);  // truncated to ms
  EXPECT_EQ(parse_iso8601_ms("2023-11-14T22:13:20.1Z"), kStart - 23);
  EXPECT_EQ(parse_iso8601_ms("2023-11-14T22:13Z"), kStart - 20'123);
  EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00Z"), 0);
}

TEST(ClockParseTest, BasicFormAsAmzDate) {
  EXPECT_EQ(parse_iso8601_ms("20231114T221320Z"), kStart - 123);
  EXPECT_EQ(parse_iso8601_ms("20231114T2213Z"), kStart - 20'123);
  EXPECT_EQ(parse_iso8601_ms("20231114T221320+0100"), kStart - 123 - 3'600'000);
}

TEST(ClockParseTest, Offsets) {
  // Python's datetime.isoformat() of an aware UTC time.
  EXPECT_EQ(parse_iso8601_ms("2023-11-14T22:13:20.123000+00:00"), kStart);
  EXPECT_EQ(parse_iso8601_ms("2023-11-15T00:13:20.123+02:00"), kStart);
  EXPECT_EQ(parse_iso8601_ms("2023-11-14T17:43:20.123-04:30"), kStart);
  EXPECT_EQ(parse_iso8601_ms("2023-11-15T00:13:20.123+0200"), kStart);
  EXPECT_EQ(parse_iso8601_ms("2023-11-15T00:13:20.123+02"), kStart);
}

TEST(ClockParseTest, RejectsMalformedAndImpossible) {
  for (const char* bad : {"", "now", "2023", "2023-11-14", "2023-11-14T", "2023-11-14T22",
                          "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20Q", "2023-1114T22:13:20Z",
                          "202311-14T22:13:20Z", "2023-11-14T2213:20Z", "2023-11-14T22:13:20Z ",
                          " 2023-11-14T22:13:20Z", "2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z",
                          "2023-00-10T00:00:00Z", "2023-11-31T00:00:00Z", "2023-11-14T24:00:00Z",
                          "2023-11-14T23:60:00Z", "2023-11-14T23:59:60Z", "2023-11-14T22:13:20+24:00",
                          "2023-11-14T22:13:20+01:60", "2023-11-14T22:13:20+1", "+2023-11-14T22:13:20Z",
                          "2023-11-14T22:13:20.123Zjunk"}) {
    EXPECT_EQ(parse_iso8601_ms(bad), std::nullopt) << bad;
  }
  EXPECT_NE(parse_iso8601_ms("2024-02-29T00:00:00Z"), std::nullopt);
}

TEST(ClockEndpointTest, GetOnTheSystemClock) {
  auto r = clock_endpoint("GET", "", protocol::system_clock(), nullptr);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  auto j = body_of(r);
  EXPECT_EQ(j["mode"], "system");
  EXPECT_TRUE(j["now_ms"].is_number_integer());
  EXPECT_EQ(parse_iso8601_ms(j["now"].get<std::string>()), j["now_ms"].get<std::int64_t>());
}

TEST(ClockEndpointTest, PostOnTheSystemClockConflicts) {
  auto r = clock_endpoint("POST", R"({"advance_seconds": 5})", protocol::system_clock(), nullptr);
  EXPECT_EQ(r.status, 409);
  EXPECT_NE(body_of(r)["error"].get<std::string>().find("--clock virtual"), std::string::npos);
}

TEST(ClockEndpointTest, OtherMethodsAreNotAllowed) {
  protocol::VirtualClock clock(kStart);
  for (const char* m : {"PUT", "DELETE", "HEAD", "PATCH"}) {
    auto r = clock_endpoint(m, "", clock, &clock);
    EXPECT_EQ(r.status, 405) << m;
    EXPECT_EQ(r.headers.get("Allow"), "GET, POST");
    EXPECT_TRUE(body_of(r)["error"].is_string());
  }
}

TEST(ClockEndpointTest, GetOnAVirtualClock) {
  protocol::VirtualClock clock(kStart);
  auto j = body_of(clock_endpoint("GET", "", clock, &clock));
  EXPECT_EQ(j, (nlohmann::json{{"mode", "virtual"}, {"now", "2023-11-14T22:13:20.123Z"}, {"now_ms", kStart}}));
}

TEST(ClockEndpointTest, AdvanceBySecondsAndFractions) {
  protocol::VirtualClock clock(kStart);
  auto r = clock_endpoint("POST", R"({"advance_seconds": 60})", clock, &clock);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["now_ms"], kStart + 60'000);
  EXPECT_EQ(clock.now_ms(), kStart + 60'000);
  r = clock_endpoint("POST", R"({"advance_seconds": 1.5})", clock, &clock);
  EXPECT_EQ(body_of(r)["now"], "2023-11-14T22:14:21.623Z");
  r = clock_endpoint("POST", R"({"advance_seconds": 0})", clock, &clock);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(clock.now_ms(), kStart + 61'500);
}

TEST(ClockEndpointTest, SetMovesBothWays) {
  protocol::VirtualClock clock(kStart);
  auto r = clock_endpoint("POST", R"({"set": "2030-01-01T00:00:00Z"})", clock, &clock);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["now"], "2030-01-01T00:00:00.000Z");
  r = clock_endpoint("POST", R"({"set": "2001-01-01T02:00:00.5+02:00"})", clock, &clock);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["now"], "2001-01-01T00:00:00.500Z");
}

TEST(ClockEndpointTest, BadRequestsLeaveTheClockAlone) {
  protocol::VirtualClock clock(kStart);
  for (const char* body : {"", "{", "not json", "[]", "5", R"("advance")", "{}", R"({"advance": 5})",
                           R"({"advance_seconds": "5"})", R"({"advance_seconds": true})",
                           R"({"advance_seconds": null})", R"({"advance_seconds": -1})",
                           R"({"advance_seconds": -0.001})", R"({"advance_seconds": 1e300})",
                           R"({"advance_seconds": [1]})", R"({"set": 1700000000})",
                           R"({"set": "yesterday"})", R"({"set": "1969-12-31T23:59:59Z"})",
                           R"({"set": null})", R"({"advance_seconds": 1, "set": "2030-01-01T00:00:00Z"})",
                           R"({"advance_seconds": 1, "extra": 2})"}) {
    auto r = clock_endpoint("POST", body, clock, &clock);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_TRUE(body_of(r)["error"].is_string()) << body;
    EXPECT_EQ(clock.now_ms(), kStart) << body;
  }
}

TEST(ClockEndpointTest, RefusesToPassTheLastFourDigitYear) {
  protocol::VirtualClock clock(kMaxClockMs - 1000);
  EXPECT_EQ(clock_endpoint("POST", R"({"advance_seconds": 2})", clock, &clock).status, 400);
  EXPECT_EQ(clock_endpoint("POST", R"({"advance_seconds": 1})", clock, &clock).status, 200);
  EXPECT_EQ(clock.now_ms(), kMaxClockMs);
}

}  // namespace
}  // namespace fogbank::server
