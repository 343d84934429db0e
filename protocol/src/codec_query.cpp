// The Query protocol codec (STS, SNS, SQS's legacy form), driven by the service model.
//
// Requests: botocore's QuerySerializer is the reference for how names are built, so the decoder
// reads exactly what SDKs send. Responses: botocore's QueryParser is the reference for what an
// SDK can read back.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/model.hpp"
#include "fogbank/protocol/xml_writer.hpp"
#include "timestamps.hpp"

namespace fogbank::protocol::codec {

namespace {

using model::Member;
using model::Shape;
using model::ShapeType;
using model::TimestampFormat;

// Real models nest a handful of levels (SQS: entry list → entry → attribute map → value →
// string list). Only recursive shapes can go deeper, and then only as deep as a client's names
// say; the cap keeps a hostile name from turning into stack depth.
constexpr std::size_t kMaxDepth = 32;

// A value echoed in an error message is cut here: the client already has it, and a rejected
// 256 KiB value should not come back in full.
constexpr std::size_t kMaxEchoedValue = 256;

// The name a model part has on the wire, as botocore resolves it: the member's locationName,
// else the target shape's own locationName (SQS's TagMap is "Tag" wherever it is used), else
// `fallback`.
std::string_view serialized_name(const Member& m, std::string_view fallback) {
  if (!m.location_name.empty()) {
    return m.location_name;
  }
  if (m.shape != nullptr && !m.shape->location_name.empty()) {
    return m.shape->location_name;
  }
  return fallback;
}

// botocore merges member and shape traits, so either level can flatten a list or map.
bool is_flattened(const Member& m) { return m.flattened || (m.shape != nullptr && m.shape->flattened); }

bool is_structure(ShapeType t) { return t == ShapeType::kStructure || t == ShapeType::kUnion; }

[[noreturn]] void throw_bad_value(std::string_view name, std::string_view value, std::string_view reason) {
  // Worded like SQS's own parameter errors, which its clients and tests already know.
  std::string message = "Value ";
  if (value.size() > kMaxEchoedValue) {
    message.append(value.substr(0, kMaxEchoedValue)).append("...");
  } else {
    message.append(value);
  }
  message.append(" for parameter ").append(name).append(" is invalid. Reason: ").append(reason).append(".");
  throw AwsError("InvalidParameterValue", 400, std::move(message));
}

// --- text → number/time ------------------------------------------------------------------------

template <typename T>
bool parse_whole(std::string_view text, T& out) {
  if (text.empty()) {
    return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

// Query parameters come from hand-built URLs as often as from SDKs, so dates are read loosely:
// a space for the 'T', RFC 822 with any spacing and zone.
constexpr timestamps::Rules kTimestampRules{
    .leap_second = true,
    .space_separator = true,
    .loose_rfc822 = true,
};

// Whichever format the model names, a client may have been written against another SDK's
// idea of it; all three forms are unambiguous, so all are read.
std::optional<Value> parse_timestamp(std::string_view text) {
  if (auto epoch = timestamps::parse_epoch_seconds(text)) {
    return epoch;
  }
  if (auto t = timestamps::parse_iso8601(text, kTimestampRules)) {
    return timestamps::neutral_value(*t);
  }
  if (auto t = timestamps::parse_rfc822(text, kTimestampRules)) {
    return timestamps::neutral_value(*t);
  }
  return std::nullopt;
}

Value parse_scalar(const Shape& shape, std::string_view name, const std::string& text) {
  switch (shape.type) {
    case ShapeType::kInteger:
    case ShapeType::kLong: {
      std::int64_t n = 0;
      if (!parse_whole(text, n)) {
        throw_bad_value(name, text, "Must be an integer");
      }
      return Value(n);
    }
    case ShapeType::kBoolean:
      if (equals_ignoring_case(text, "true")) {
        return Value(true);
      }
      if (equals_ignoring_case(text, "false")) {
        return Value(false);
      }
      throw_bad_value(name, text, "Must be true or false");
    case ShapeType::kFloat:
    case ShapeType::kDouble: {
      // from_chars also reads botocore's "Infinity", "-Infinity" and "NaN".
      double d = 0;
      if (!parse_whole(text, d)) {
        throw_bad_value(name, text, "Must be a number");
      }
      return Value(d);
    }
    case ShapeType::kTimestamp: {
      auto t = parse_timestamp(text);
      if (!t) {
        throw_bad_value(name, text, "Must be an ISO-8601 timestamp or a number of seconds since the epoch");
      }
      return std::move(*t);
    }
    case ShapeType::kBlob: {
      auto raw = base64_decode(text);
      if (!raw) {
        throw_bad_value(name, text, "Must be base64-encoded");
      }
      return Value::binary(Value::binary_t::container_type(raw->begin(), raw->end()));
    }
    default:
      return Value(text);
  }
}

// --- decoding ------------------------------------------------------------------------------------

struct Param {
  std::string_view name;
  const std::string* value;
  std::size_t order;  ///< position as sent: among repeated names the first one wins
};
using Range = std::span<const Param>;

// `params` sorted by name: the first parameter called exactly `name`.
const Param* find_exact(Range params, std::string_view name) {
  auto it = std::lower_bound(params.begin(), params.end(), name,
                             [](const Param& p, std::string_view n) { return p.name < n; });
  return it != params.end() && it->name == name ? &*it : nullptr;
}

// `params` sorted by name: the contiguous run of names that start with `prefix`.
Range starting_with(Range params, std::string_view prefix) {
  auto lo = std::lower_bound(params.begin(), params.end(), prefix,
                             [](const Param& p, std::string_view n) { return p.name < n; });
  auto hi = std::upper_bound(lo, params.end(), prefix, [](std::string_view pre, const Param& p) {
    return pre < p.name.substr(0, pre.size());
  });
  return {lo, hi};
}

// A list or map index: a positive decimal without leading zeros (so "1" and "01" cannot name
// one entry twice).
bool parse_index(std::string_view seg, std::uint64_t& n) {
  if (seg.empty() || seg.front() == '0') {
    return false;
  }
  return parse_whole(seg, n);
}

// Walks the *shape* and looks each expected name up among the sorted parameters; parameter
// names are never split and followed. Work is bounded by the model and by how many parameters
// exist under each prefix, and a branch is entered only where some parameter lies beneath it,
// so recursive shapes end where the client's names end.
class QueryDecoder {
 public:
  explicit QueryDecoder(const QueryParams& params) {
    params_.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      params_.push_back(Param{params[i].first, &params[i].second, i});
    }
    std::sort(params_.begin(), params_.end(), [](const Param& a, const Param& b) {
      return a.name < b.name || (a.name == b.name && a.order < b.order);
    });
    path_.reserve(128);
  }

  Value decode(const Shape& input) {
    auto v = structure(input, Range(params_), 0);
    return v ? std::move(*v) : Value::object();
  }

 private:
  // Every function below is entered with path_ = the full name of the value to read and leaves
  // it that way.

  // `m` is a structure member, a list's item or a map's value.
  std::optional<Value> value(const Member& m, Range within, std::size_t depth) {
    const Shape& shape = *m.shape;
    switch (shape.type) {
      case ShapeType::kStructure:
      case ShapeType::kUnion:
        return structure(shape, within, depth);
      case ShapeType::kList:
        return list(m, within, depth);
      case ShapeType::kMap:
        return map(m, within, depth);
      default: {
        const Param* p = find_exact(within, path_);
        if (p == nullptr) {
          return std::nullopt;
        }
        return parse_scalar(shape, path_, *p->value);
      }
    }
  }

  void check_depth(std::size_t depth) const {
    if (depth > kMaxDepth) {
      throw AwsError("InvalidParameterValue", 400,
                     "Parameter names are nested more than " + std::to_string(kMaxDepth) + " levels deep.");
    }
  }

  std::optional<Value> structure(const Shape& shape, Range within, std::size_t depth) {
    const bool root = depth == 0;
    Range inside = within;
    if (!root) {
      path_ += '.';
      inside = starting_with(within, path_);
      path_.pop_back();
      if (inside.empty()) {
        return std::nullopt;
      }
      check_depth(depth);
    }
    Value out = Value::object();
    const std::size_t base = path_.size();
    for (const Member& m : shape.members) {
      std::string_view wire = serialized_name(m, m.name);
      if (root && (wire == "Action" || wire == "Version")) {
        continue;
      }
      if (!root) {
        path_ += '.';
      }
      path_ += wire;
      auto v = value(m, inside, depth + 1);
      path_.resize(base);
      if (v) {
        out[m.name] = std::move(*v);
      }
    }
    if (out.empty() && !root) {
      return std::nullopt;
    }
    return out;
  }

  // Indices directly under path_ + "." in `within`, in numeric order.
  std::vector<std::pair<std::uint64_t, std::string_view>> indices(Range& items, Range within) {
    path_ += '.';
    items = starting_with(within, path_);
    const std::size_t skip = path_.size();
    path_.pop_back();
    std::vector<std::pair<std::uint64_t, std::string_view>> out;
    for (const Param& p : items) {
      std::string_view rest = p.name.substr(skip);
      std::string_view seg = rest.substr(0, rest.find('.'));
      std::uint64_t n = 0;
      if (!parse_index(seg, n) || (!out.empty() && out.back().second == seg)) {
        continue;
      }
      out.emplace_back(n, seg);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  bool empty_marker(Range within) const {
    const Param* p = find_exact(within, path_);
    return p != nullptr && p->value->empty();
  }

  std::optional<Value> list(const Member& m, Range within, std::size_t depth) {
    const Member& item = m.shape->member;
    const std::size_t entry = path_.size();
    // botocore sends an empty list as "Name=" under the member's own name, even for a flattened
    // list whose elements go by the item's name.
    bool empty = empty_marker(within);

    std::string replaced;  // the segment a flattened list's item name stands in for
    std::size_t segment_at = entry;
    if (is_flattened(m)) {
      if (std::string_view name = serialized_name(item, {}); !name.empty()) {
        // "…Parent.Member" becomes "…Parent.ItemName", as botocore's serializer does it.
        auto dot = path_.rfind('.');
        segment_at = dot == std::string::npos ? 0 : dot + 1;
        replaced.assign(path_, segment_at);
        path_.resize(segment_at);
        if (!m.name.empty() && m.name != replaced) {
          // The marker under the member's model name too, in case the model folded the item's
          // name into the member's wire name.
          path_ += m.name;
          empty = empty || empty_marker(within);
          path_.resize(segment_at);
        }
        path_ += name;
        empty = empty || empty_marker(within);
      }
    } else {
      path_ += '.';
      path_ += serialized_name(item, "member");
    }

    Range items;
    auto found = indices(items, within);
    std::optional<Value> out;
    if (!found.empty()) {
      check_depth(depth);
      out = Value::array();
      const std::size_t base = path_.size();
      for (const auto& [n, seg] : found) {
        path_ += '.';
        path_ += seg;
        auto v = value(item, items, depth + 1);
        path_.resize(base);
        if (v) {
          out->push_back(std::move(*v));
        }
      }
    }
    path_.resize(segment_at);
    path_ += replaced;
    path_.resize(entry);

    if (out && out->empty() && !empty) {
      return std::nullopt;
    }
    if (!out && empty) {
      out = Value::array();
    }
    return out;
  }

  std::optional<Value> map(const Member& m, Range within, std::size_t depth) {
    const Shape& shape = *m.shape;
    const std::size_t entry = path_.size();
    const bool empty = empty_marker(within);
    if (!is_flattened(m)) {
      path_ += ".entry";
    }
    Range items;
    auto found = indices(items, within);
    std::optional<Value> out;
    if (!found.empty()) {
      check_depth(depth);
      out = Value::object();
      std::string_view key_name = serialized_name(shape.key, "key");
      std::string_view value_name = serialized_name(shape.value, "value");
      const Shape& value_shape = *shape.value.shape;
      const std::size_t base = path_.size();
      for (const auto& [n, seg] : found) {
        path_ += '.';
        path_ += seg;
        const std::size_t item = path_.size();
        path_ += '.';
        path_ += key_name;
        const Param* key = find_exact(items, path_);
        path_.resize(item);
        if (key == nullptr) {
          path_.resize(base);
          continue;
        }
        path_ += '.';
        path_ += value_name;
        auto v = value(shape.value, items, depth + 1);
        path_.resize(base);
        if (!v) {
          // A key sent without its value (SQS "Attribute.1.Name=Policy" alone) has always meant
          // an empty value to fogbank's SQS.
          if (value_shape.type == ShapeType::kString) {
            v = Value("");
          } else if (is_structure(value_shape.type) || value_shape.type == ShapeType::kMap) {
            v = Value::object();
          } else if (value_shape.type == ShapeType::kList) {
            v = Value::array();
          } else {
            continue;
          }
        }
        (*out)[*key->value] = std::move(*v);
      }
    }
    path_.resize(entry);
    if (out && out->empty() && !empty) {
      return std::nullopt;
    }
    if (!out && empty) {
      out = Value::object();
    }
    return out;
  }

  std::vector<Param> params_;
  std::string path_;
};

// --- encoding ------------------------------------------------------------------------------------

// Writes into `buf` (at least 24 bytes); returns the written text.
template <typename T>
std::string_view format_integer(char* buf, std::size_t size, T n) {
  auto [end, ec] = std::to_chars(buf, buf + size, n);
  return {buf, static_cast<std::size_t>(end - buf)};
}

std::string_view format_double(char* buf, std::size_t size, double d) {
  // The spellings botocore's float() reads back.
  if (std::isnan(d)) {
    return "NaN";
  }
  if (std::isinf(d)) {
    return d > 0 ? "Infinity" : "-Infinity";
  }
  // Shortest round-trip form: 5.0 is "5", never "5.0".
  auto [end, ec] = std::to_chars(buf, buf + size, d);
  return {buf, static_cast<std::size_t>(end - buf)};
}

class QueryEncoder {
 public:
  explicit QueryEncoder(XmlWriter& xml) : xml_(xml) {}

  // Members in model order, by wire name; value members the model does not know are dropped.
  void members(const Shape& shape, const Value& object, std::size_t depth) {
    if (depth > kMaxDepth) {
      throw errors::internal_failure("Query response nested more than " + std::to_string(kMaxDepth) +
                                     " levels deep.");
    }
    for (const Member& m : shape.members) {
      if (!m.location.empty()) {
        continue;  // headers and status codes are not part of a Query body
      }
      auto it = object.find(m.name);
      if (it == object.end() || it->is_null()) {
        continue;
      }
      member(m, *it, depth);
    }
  }

 private:
  void member(const Member& m, const Value& v, std::size_t depth) {
    const Shape& shape = *m.shape;
    std::string_view name = serialized_name(m, m.name);
    if (shape.type == ShapeType::kList) {
      if (!v.is_array()) {
        return;
      }
      if (is_flattened(m)) {
        // botocore looks a flattened list up by its item's name when the item has one.
        std::string_view item_name = serialized_name(shape.member, name);
        for (const auto& item : v) {
          element(item_name, shape.member, item, depth + 1);
        }
        return;
      }
      element(name, m, v, depth);
      return;
    }
    if (shape.type == ShapeType::kMap && is_flattened(m)) {
      if (!v.is_object()) {
        return;
      }
      for (const auto& [key, value] : v.items()) {
        xml_.open(name);
        map_entry(shape, key, value, depth + 1);
        xml_.close();
      }
      return;
    }
    element(name, m, v, depth);
  }

  void map_entry(const Shape& map, std::string_view key, const Value& value, std::size_t depth) {
    xml_.element(serialized_name(map.key, "key"), key);
    element(serialized_name(map.value, "value"), map.value, value, depth);
  }

  // <name>value</name>; nested lists and maps take their non-flattened form here, the only one
  // a parser can tell apart inside a single element.
  void element(std::string_view name, const Member& m, const Value& v, std::size_t depth) {
    if (v.is_null()) {
      return;
    }
    const Shape& shape = *m.shape;
    switch (shape.type) {
      case ShapeType::kStructure:
      case ShapeType::kUnion:
        if (v.is_object()) {
          xml_.open(name);
          members(shape, v, depth + 1);
          xml_.close();
        }
        return;
      case ShapeType::kList:
        if (v.is_array()) {
          std::string_view item_name = serialized_name(shape.member, "member");
          xml_.open(name);
          for (const auto& item : v) {
            element(item_name, shape.member, item, depth + 1);
          }
          xml_.close();
        }
        return;
      case ShapeType::kMap:
        if (v.is_object()) {
          xml_.open(name);
          for (const auto& [key, value] : v.items()) {
            xml_.open("entry");
            map_entry(shape, key, value, depth + 1);
            xml_.close();
          }
          xml_.close();
        }
        return;
      default:
        if (auto text = scalar_text(m, v)) {
          xml_.element(name, *text);
        }
    }
  }

  // A value's wire text, or nullopt for a structured value where the model has a scalar.
  // Strings are taken as already in wire form whatever the shape (a handler may hand over an
  // ISO-8601 date, a base64 blob or a number as text).
  std::optional<std::string_view> scalar_text(const Member& m, const Value& v) {
    const Shape& shape = *m.shape;
    switch (v.type()) {
      case Value::value_t::string:
        return std::string_view(v.get_ref<const std::string&>());
      case Value::value_t::boolean:
        return v.get<bool>() ? std::string_view("true") : std::string_view("false");
      case Value::value_t::binary: {
        const auto& bytes = v.get_binary();
        scratch_ = base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        return std::string_view(scratch_);
      }
      case Value::value_t::number_integer:
        if (shape.type == ShapeType::kTimestamp) {
          return timestamp_text(m, v.get<std::int64_t>(), 0);
        }
        return format_integer(buf_, sizeof buf_, v.get<std::int64_t>());
      case Value::value_t::number_unsigned:
        if (shape.type == ShapeType::kTimestamp) {
          auto n = v.get<std::uint64_t>();
          if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
          }
          return timestamp_text(m, static_cast<std::int64_t>(n), 0);
        }
        return format_integer(buf_, sizeof buf_, v.get<std::uint64_t>());
      case Value::value_t::number_float: {
        double d = v.get<double>();
        if (shape.type == ShapeType::kTimestamp) {
          // Far beyond year 9999 either way; keeps the integer conversions below defined.
          if (!std::isfinite(d) || std::fabs(d) > 1e15) {
            return std::nullopt;
          }
          if (timestamp_format(m) == TimestampFormat::kUnix) {
            return format_double(buf_, sizeof buf_, d);
          }
          double whole = std::floor(d);
          auto millis = static_cast<int>(std::llround((d - whole) * 1000));
          auto secs = static_cast<std::int64_t>(whole);
          if (millis == 1000) {
            ++secs;
            millis = 0;
          }
          return timestamp_text(m, secs, millis);
        }
        return format_double(buf_, sizeof buf_, d);
      }
      default:
        return std::nullopt;
    }
  }

  static TimestampFormat timestamp_format(const Member& m) {
    if (m.timestamp_format != TimestampFormat::kDefault) {
      return m.timestamp_format;
    }
    return m.shape->timestamp_format;
  }

  std::optional<std::string_view> timestamp_text(const Member& m, std::int64_t seconds, int millis) {
    const TimestampFormat format = timestamp_format(m);
    if (format == TimestampFormat::kUnix) {
      return format_integer(buf_, sizeof buf_, seconds);
    }
    // Outside years 0000-9999 there is no text a parser would take (the writers would put a
    // sign before years BC).
    if (seconds < timestamps::kYear0Seconds || seconds >= timestamps::kYear10000Seconds) {
      return std::nullopt;
    }
    if (format == TimestampFormat::kRfc822) {
      return timestamps::format_rfc822(buf_, seconds);
    }
    return timestamps::format_iso8601(buf_, seconds, millis, timestamps::Millis::kIfAny);
  }

  XmlWriter& xml_;
  char buf_[64] = {};
  static_assert(sizeof buf_ >= timestamps::kTextCapacity);
  std::string scratch_;
};

}  // namespace

Value decode_query(const model::Shape* input, const QueryParams& params) {
  if (input == nullptr) {
    return Value::object();
  }
  QueryDecoder decoder(params);
  return decoder.decode(*input);
}

std::string encode_query_response(const model::ServiceModel& service, const model::Operation& op,
                                  const Value& output, std::string_view request_id) {
  XmlWriter xml(false);
  std::string name;
  name.reserve(op.name.size() + 8);
  name.append(op.name).append("Response");
  xml.open(name, service.xml_namespace);
  if (op.output != nullptr) {
    if (op.result_wrapper.empty()) {
      name.assign(op.name).append("Result");
      xml.open(name);
    } else {
      xml.open(op.result_wrapper);
    }
    if (output.is_object()) {
      QueryEncoder(xml).members(*op.output, output, 0);
    }
    xml.close();
  }
  xml.open("ResponseMetadata").element("RequestId", request_id).close();
  return xml.finish();
}

}  // namespace fogbank::protocol::codec
