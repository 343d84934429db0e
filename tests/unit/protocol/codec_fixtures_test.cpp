// Golden wire fixtures: requests that botocore itself serialised (and CBOR requests written the
// way the AWS SDK for Java writes them) for every operation of sts, sqs (JSON), sqs-query, sns
// and kinesis, decoded by our model-driven codecs and compared with the input botocore was given.
//
// Fixtures: tests/data/codec/<model>.json, made by tests/tools/gen_codec_fixtures.py (see its
// docstring for the layout and the {"$blob"} / {"$ts"} tags). The response direction (botocore
// parsing what our encoders write) is tests/e2e/test_codec_botocore.py.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/query.hpp"

namespace fogbank::protocol {
namespace {

using nlohmann::json;

// Fixtures that fail today because of a codec bug, keyed "model/operation/protocol/variant".
// TODO: each entry is a bug for the codec's owner; delete the entry once the codec is fixed (the
// test prints the entries that pass again). A mismatch not listed here fails the test.
const std::map<std::string, std::string, std::less<>>& known_failures() {
  static const std::map<std::string, std::string, std::less<>> kKnown = {
  };
  return kKnown;
}

constexpr double kTimestampTolerance = 0.0015;  // seconds: timestamps compare to the millisecond

json load_fixtures(std::string_view model_id) {
  std::string path = std::string(FOGBANK_TEST_DATA_DIR) + "/codec/" + std::string(model_id) + ".json";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path << " (regenerate: python3 tests/tools/gen_codec_fixtures.py)";
    return json::object();
  }
  return json::parse(in);
}

std::string base64_or_fail(const std::string& text, std::string_view what) {
  auto bytes = base64_decode(text);
  if (!bytes) {
    ADD_FAILURE() << "fixture has bad base64 in " << what;
    return {};
  }
  return *bytes;
}

std::string show(const json& v) {
  std::string s = v.is_binary() ? "<binary " + std::to_string(v.get_binary().size()) + " bytes>"
                                : v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 160) {
    s = s.substr(0, 157) + "...";
  }
  return s;
}

bool is_tag(const json& v, const char* tag) {
  return v.is_object() && v.size() == 1 && v.contains(tag);
}

/// Compares the decoded `got` with the tagged `want`; appends one line per difference.
void compare(const json& want, const json& got, const std::string& path,
             std::vector<std::string>& diffs) {
  auto differ = [&](const std::string& why) {
    diffs.push_back((path.empty() ? std::string("<root>") : path) + ": " + why);
  };
  if (is_tag(want, "$ts")) {
    double expected = want["$ts"].get<double>();
    if (!got.is_number()) {
      differ("timestamp " + show(want["$ts"]) + " expected, got " + show(got));
    } else if (std::fabs(got.get<double>() - expected) > kTimestampTolerance) {
      differ("timestamp " + show(want["$ts"]) + " expected, got " + show(got));
    }
    return;
  }
  if (is_tag(want, "$blob")) {
    std::string expected = base64_or_fail(want["$blob"].get<std::string>(), path);
    if (!got.is_binary()) {
      differ("blob (json::binary) expected, got " + show(got));
      return;
    }
    const auto& bytes = got.get_binary();
    if (std::string(bytes.begin(), bytes.end()) != expected) {
      differ("blob bytes differ: expected base64 " + want["$blob"].get<std::string>() + ", got base64 " +
             base64_encode(std::string(bytes.begin(), bytes.end())));
    }
    return;
  }
  if (want.is_object()) {
    if (!got.is_object()) {
      differ("object expected, got " + show(got));
      return;
    }
    for (const auto& [key, value] : want.items()) {
      auto it = got.find(key);
      if (it == got.end()) {
        differ("missing member '" + key + "' (expected " + show(value) + ")");
      } else {
        compare(value, *it, path + "." + key, diffs);
      }
    }
    for (const auto& [key, value] : got.items()) {
      if (!want.contains(key)) {
        differ("unexpected member '" + key + "' = " + show(value));
      }
    }
    return;
  }
  if (want.is_array()) {
    if (!got.is_array()) {
      differ("array expected, got " + show(got));
      return;
    }
    if (got.size() != want.size()) {
      differ(std::to_string(want.size()) + " items expected, got " + std::to_string(got.size()) +
             ": " + show(got));
    }
    for (std::size_t i = 0; i < want.size() && i < got.size(); ++i) {
      compare(want[i], got[i], path + "[" + std::to_string(i) + "]", diffs);
    }
    return;
  }
  if (want.is_number()) {
    bool same = false;
    if (got.is_number_integer() && want.is_number_integer()) {
      same = got.get<std::int64_t>() == want.get<std::int64_t>();
    } else if (got.is_number()) {
      same = got.get<double>() == want.get<double>();
    }
    if (!same) {
      differ("number " + show(want) + " expected, got " + show(got));
    }
    return;
  }
  if (want != got) {
    differ(show(want) + " expected, got " + show(got));
  }
}

/// Decodes one request fixture with the codec of its protocol.
json decode_request(const model::Operation& op, const json& fixture) {
  const std::string protocol = fixture.at("protocol").get<std::string>();
  const json& request = fixture.at("request");
  if (protocol == "query") {
    auto params = query::collect_params(request.at("query_string").get<std::string>(),
                                        request.at("body").get<std::string>());
    return codec::decode_query(op.input, params);
  }
  if (protocol == "json") {
    return codec::decode_json(op.input, request.at("body").get<std::string>());
  }
  if (protocol == "cbor") {
    std::string body = base64_or_fail(request.at("body_base64").get<std::string>(), "body_base64");
    return codec::decode_cbor(op.input, body);
  }
  throw std::runtime_error("unknown fixture protocol " + protocol);
}

struct Outcome {
  int passed = 0;
  int failed = 0;
  int known = 0;
};

Outcome run_request_fixtures(std::string_view model_id) {
  Outcome outcome;
  json fixtures = load_fixtures(model_id);
  if (!fixtures.contains("requests")) {
    return outcome;
  }
  const model::ServiceModel& service = model::get(model_id);
  for (const json& fixture : fixtures["requests"]) {
    const std::string id = std::string(model_id) + "/" + fixture.at("operation").get<std::string>() + "/" +
                           fixture.at("protocol").get<std::string>() + "/" +
                           fixture.at("variant").get<std::string>();
    std::vector<std::string> diffs;
    const model::Operation* op = service.operation(fixture.at("operation").get<std::string>());
    if (op == nullptr) {
      diffs.push_back("operation not in our model");
    } else {
      try {
        json got = decode_request(*op, fixture);
        compare(fixture.at("input"), got, "", diffs);
      } catch (const AwsError& e) {
        diffs.push_back("decode threw AwsError " + e.code + " (" + std::to_string(e.status) + "): " + e.message);
      } catch (const std::exception& e) {
        diffs.push_back(std::string("decode threw: ") + e.what());
      }
    }
    auto known = known_failures().find(id);
    if (diffs.empty()) {
      ++outcome.passed;
      if (known != known_failures().end()) {
        std::cout << "[ NOTE ] known failure passes now, remove it from known_failures(): " << id << "\n";
      }
      continue;
    }
    if (known != known_failures().end()) {
      ++outcome.known;
      continue;
    }
    ++outcome.failed;
    std::ostringstream msg;
    msg << id << ": " << diffs.size() << " difference(s)";
    for (std::size_t i = 0; i < diffs.size() && i < 8; ++i) {
      msg << "\n    " << diffs[i];
    }
    ADD_FAILURE() << msg.str();
  }
  std::cout << "[ CODEC ] " << model_id << ": " << outcome.passed << " passed, " << outcome.failed
            << " failed, " << outcome.known << " known failures\n";
  return outcome;
}

// Every operation of our model has a request fixture, and the other way round.
void expect_every_operation_covered(std::string_view model_id) {
  json fixtures = load_fixtures(model_id);
  std::set<std::string> in_fixtures;
  for (const json& fixture : fixtures.value("requests", json::array())) {
    in_fixtures.insert(fixture.at("operation").get<std::string>());
  }
  std::set<std::string> in_model;
  for (const auto& [name, op] : model::get(model_id).operations) {
    in_model.insert(name);
  }
  EXPECT_EQ(in_fixtures, in_model) << model_id;
}

class CodecFixturesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(CodecFixturesTest, EveryOperationHasFixtures) { expect_every_operation_covered(GetParam()); }

TEST_P(CodecFixturesTest, BotocoreRequestsDecodeToTheirInput) {
  Outcome outcome = run_request_fixtures(GetParam());
  EXPECT_GT(outcome.passed + outcome.failed + outcome.known, 0);
}

INSTANTIATE_TEST_SUITE_P(Models, CodecFixturesTest,
                         ::testing::Values("sts", "sqs", "sqs-query", "sns", "kinesis"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string name;
                           for (const char* p = info.param; *p != '\0'; ++p) {
                             name += (*p == '-') ? '_' : *p;
                           }
                           return name;
                         });

// The comparison itself must be able to fail: a sanity check of compare().
TEST(CodecFixturesCompareTest, DetectsDifferences) {
  std::vector<std::string> diffs;
  json want = json::parse(R"({"A":1,"B":{"$ts":10.5},"C":{"$blob":"AAE="},"D":["x"]})");
  json got = {{"A", 2}, {"B", 10.0}, {"C", json::binary({0, 2})}, {"D", json::array()}, {"E", true}};
  compare(want, got, "", diffs);
  EXPECT_EQ(diffs.size(), 5u);
  diffs.clear();
  json same = {{"A", 1.0}, {"B", 10.5004}, {"C", json::binary({0, 1})}, {"D", {"x"}}};
  compare(want, same, "", diffs);
  EXPECT_TRUE(diffs.empty()) << diffs.front();
}

}  // namespace
}  // namespace fogbank::protocol
