// json_text, the pieces behind the direct JSON paths (Kinesis PutRecords/GetRecords):
// - a document the Scanner reads through to its end must be JSON nlohmann reads too, with the
//   same strings and integers (the direct path may only take what the codec would read alike);
// - strict base64 is a bijection: whatever decode_base64 accepts, append_base64 writes back
//   unchanged.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/json_text.hpp"
#include "fuzz_support.hpp"

using namespace fogbank;
using namespace fogbank::protocol::json_text;
using nlohmann::json;

namespace {

bool has_non_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return true;
    }
  }
  return false;
}

/// Reads one value the way the direct paths do, building what it read.
bool read_value(Scanner& in, std::string_view text, json& out, int depth);

bool read_container(Scanner& in, std::string_view text, json& out, char bracket, int depth) {
  if (!in.open(bracket)) {
    return false;
  }
  if (bracket == '{') {
    out = json::object();
    std::string_view key;
    while (in.member(key)) {
      json member;
      if (!read_value(in, text, member, depth + 1)) {
        return false;
      }
      out[std::string(key)] = std::move(member);
    }
  } else {
    out = json::array();
    while (in.element()) {
      json item;
      if (!read_value(in, text, item, depth + 1)) {
        return false;
      }
      out.push_back(std::move(item));
    }
  }
  return !in.failed();
}

bool read_value(Scanner& in, std::string_view text, json& out, int depth) {
  if (depth > Scanner::kMaxDepth) {
    return false;
  }
  // Try each kind on a copy: a failed attempt marks the scanner failed.
  for (char bracket : {'{', '['}) {
    Scanner probe = in;
    json v;
    if (read_container(probe, text, v, bracket, depth)) {
      in = probe;
      out = std::move(v);
      return true;
    }
  }
  {
    Scanner probe = in;
    std::string_view s;
    if (probe.string(s)) {
      in = probe;
      out = std::string(s);
      return true;
    }
  }
  std::int64_t n = 0;
  if (in.integer(n)) {
    out = n;
    return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input input(data, size);
  const bool as_base64 = (input.byte() & 1) != 0;
  const std::string_view text = input.rest();
  if (as_base64) {
    std::string out(text.size() / 4 * 3, '\0');
    if (auto n = decode_base64(text, reinterpret_cast<std::uint8_t*>(out.data()))) {
      FOGBANK_FUZZ_CHECK(*n <= out.size(), "decoded past its room");
      std::string again;
      append_base64(again, reinterpret_cast<const std::uint8_t*>(out.data()), *n);
      FOGBANK_FUZZ_CHECK(again == text, again);
    }
    return 0;
  }
  Scanner in(text);
  json scanned;
  if (!read_value(in, text, scanned, 0) || !in.finished()) {
    return 0;
  }
  // Raw bytes >= 0x80 pass the scanner unchecked; the direct paths refuse them in every member.
  if (has_non_ascii(text)) {
    return 0;
  }
  json parsed = json::parse(text, nullptr, false);
  FOGBANK_FUZZ_CHECK(!parsed.is_discarded(), std::string(text));
  FOGBANK_FUZZ_CHECK(parsed == scanned, parsed.dump() + " vs " + scanned.dump());
  return 0;
}
