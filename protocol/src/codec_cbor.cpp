// application/x-amz-cbor-1.1 (RFC 8949), the AWS SDK for Java's default wire for Kinesis.
//
// One deviation from RFC 8949 is AWS's, not ours: the SDKs put epoch *milliseconds* under tag 1
// (SdkCborGenerator writes Instant.toEpochMilli(); AwsCborProtocolFactory reads payload timestamps
// as UNIX_TIMESTAMP_MILLIS). Seconds there would show every Kinesis arrival time in January 1970.
//
// The reader is our own rather than nlohmann::from_cbor: that one recurses once per nesting level
// without a bound, and knows neither the millisecond timestamps nor UTF-8 validation of text.
// Ours recurses at most walk::kMaxDepth levels.

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "fogbank/protocol/aws_error.hpp"
#include "shape_walk.hpp"

namespace fogbank::protocol::codec {

namespace {

using model::Shape;
using model::ShapeType;

constexpr std::uint8_t kMajorUnsigned = 0;
constexpr std::uint8_t kMajorNegative = 1;
constexpr std::uint8_t kMajorBytes = 2;
constexpr std::uint8_t kMajorText = 3;
constexpr std::uint8_t kMajorArray = 4;
constexpr std::uint8_t kMajorMap = 5;
constexpr std::uint8_t kMajorTag = 6;
constexpr std::uint8_t kMajorSimple = 7;
constexpr std::uint8_t kIndefinite = 31;
constexpr std::uint8_t kBreak = 0xFF;

double half_to_double(std::uint16_t h) {
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  double v = 0;
  if (exponent == 0) {
    v = std::ldexp(mantissa, -24);
  } else if (exponent == 31) {
    v = mantissa == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else {
    v = std::ldexp(mantissa + 1024, exponent - 25);
  }
  return (h & 0x8000) != 0 ? -v : v;
}

/// The half-precision bits of `f` when it has them exactly.
std::optional<std::uint16_t> exact_half(float f) {
  const auto bits = std::bit_cast<std::uint32_t>(f);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000);
  const int exponent = static_cast<int>((bits >> 23) & 0xFF);
  const std::uint32_t mantissa = bits & 0x7FFFFF;
  if (exponent == 0xFF) {
    return mantissa == 0 ? std::optional<std::uint16_t>(sign | 0x7C00) : std::nullopt;
  }
  if (exponent == 0) {
    // Zero; a float subnormal lies far below the smallest half.
    return mantissa == 0 ? std::optional<std::uint16_t>(sign) : std::nullopt;
  }
  const int e = exponent - 127;
  if (e > 15) {
    return std::nullopt;
  }
  if (e >= -14) {
    if ((mantissa & 0x1FFF) != 0) {
      return std::nullopt;
    }
    return static_cast<std::uint16_t>(sign | ((e + 15) << 10) | (mantissa >> 13));
  }
  if (e >= -24) {
    // A half subnormal is h * 2^-24, and the float is (2^23 + mantissa) * 2^(e-23).
    const std::uint32_t full = 0x800000 | mantissa;
    const int shift = -e - 1;
    if ((full & ((1U << shift) - 1)) != 0) {
      return std::nullopt;
    }
    return static_cast<std::uint16_t>(sign | (full >> shift));
  }
  return std::nullopt;
}

// --- reading ----------------------------------------------------------------------------------

class CborReader {
 public:
  explicit CborReader(std::string_view body)
      : p_(reinterpret_cast<const std::uint8_t*>(body.data())), end_(p_ + body.size()) {}

  Value document() {
    Value v = item(0);
    if (p_ != end_) {
      malformed();
    }
    return v;
  }

 private:
  [[noreturn]] static void malformed() { walk::fail(""); }

  [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }

  std::uint8_t byte() {
    if (p_ == end_) {
      malformed();
    }
    return *p_++;
  }

  std::uint64_t argument(std::uint8_t info) {
    if (info < 24) {
      return info;
    }
    std::size_t size = 0;
    switch (info) {
      case 24: size = 1; break;
      case 25: size = 2; break;
      case 26: size = 4; break;
      case 27: size = 8; break;
      default: malformed();
    }
    if (remaining() < size) {
      malformed();
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < size; ++i) {
      v = (v << 8) | p_[i];
    }
    p_ += size;
    return v;
  }

  /// A byte or text string, definite or chunked; `sink(data, size)` gets each piece.
  template <class Sink>
  void string_pieces(std::uint8_t major, std::uint8_t info, Sink&& sink) {
    if (info != kIndefinite) {
      const std::uint64_t size = argument(info);
      if (size > remaining()) {
        malformed();
      }
      sink(p_, static_cast<std::size_t>(size));
      p_ += size;
      return;
    }
    for (;;) {
      const std::uint8_t head = byte();
      if (head == kBreak) {
        return;
      }
      if ((head >> 5) != major || (head & 31) == kIndefinite) {
        malformed();
      }
      const std::uint64_t size = argument(head & 31);
      if (size > remaining()) {
        malformed();
      }
      sink(p_, static_cast<std::size_t>(size));
      p_ += size;
    }
  }

  std::string text(std::uint8_t info) {
    std::string s;
    string_pieces(kMajorText, info, [&](const std::uint8_t* data, std::size_t size) {
      s.append(reinterpret_cast<const char*>(data), size);
    });
    if (!walk::valid_utf8(s)) {
      malformed();
    }
    return s;
  }

  void enter(int depth) {
    if (depth + 1 > walk::kMaxDepth) {
      walk::fail("Request body nests deeper than " + std::to_string(walk::kMaxDepth) + " levels");
    }
  }

  Value item(int depth) {
    std::uint8_t head = byte();
    // Tags only annotate: tag 1 (epoch time) and 0 (date-time text) are read by the member's
    // type, others (bignums, ...) are unknown to AWS's models anyway.
    while ((head >> 5) == kMajorTag) {
      argument(head & 31);
      head = byte();
    }
    const std::uint8_t major = head >> 5;
    const std::uint8_t info = head & 31;
    switch (major) {
      case kMajorUnsigned:
        return Value(argument(info));
      case kMajorNegative: {
        const std::uint64_t n = argument(info);
        if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          malformed();
        }
        return Value(-1 - static_cast<std::int64_t>(n));
      }
      case kMajorBytes: {
        std::vector<std::uint8_t> bytes;
        string_pieces(kMajorBytes, info, [&](const std::uint8_t* data, std::size_t size) {
          bytes.insert(bytes.end(), data, data + size);
        });
        return Value::binary(std::move(bytes));
      }
      case kMajorText:
        return Value(text(info));
      case kMajorArray: {
        enter(depth);
        Value array = Value::array();
        auto& items = array.get_ref<Value::array_t&>();
        if (info == kIndefinite) {
          while (true) {
            if (p_ == end_) {
              malformed();
            }
            if (*p_ == kBreak) {
              ++p_;
              break;
            }
            items.push_back(item(depth + 1));
          }
        } else {
          const std::uint64_t count = argument(info);
          if (count > remaining()) {  // every item takes at least a byte
            malformed();
          }
          items.reserve(static_cast<std::size_t>(count));
          for (std::uint64_t i = 0; i < count; ++i) {
            items.push_back(item(depth + 1));
          }
        }
        return array;
      }
      case kMajorMap: {
        enter(depth);
        Value object = Value::object();
        auto& members = object.get_ref<Value::object_t&>();
        auto entry = [&] {
          const std::uint8_t key_head = byte();
          if ((key_head >> 5) != kMajorText) {
            malformed();  // AWS's documents only have text keys
          }
          std::string key = text(key_head & 31);
          Value value = item(depth + 1);
          members.insert_or_assign(std::move(key), std::move(value));
        };
        if (info == kIndefinite) {
          while (true) {
            if (p_ == end_) {
              malformed();
            }
            if (*p_ == kBreak) {
              ++p_;
              break;
            }
            entry();
          }
        } else {
          const std::uint64_t count = argument(info);
          if (count > remaining() / 2) {
            malformed();
          }
          for (std::uint64_t i = 0; i < count; ++i) {
            entry();
          }
        }
        return object;
      }
      default:  // kMajorSimple
        switch (info) {
          case 20: return Value(false);
          case 21: return Value(true);
          case 22:
          case 23: return Value(nullptr);  // undefined reads as absent
          case 25: return Value(half_to_double(static_cast<std::uint16_t>(argument(info))));
          case 26: return Value(static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(argument(info)))));
          case 27: return Value(std::bit_cast<double>(argument(info)));
          default: malformed();
        }
    }
  }

  const std::uint8_t* p_;
  const std::uint8_t* const end_;
};

// --- writing ----------------------------------------------------------------------------------

class CborWriter {
 public:
  explicit CborWriter(std::string& out) : out_(out) {}

  void structure(const Shape& shape, const Value& v) {
    if (!v.is_object()) {
      any(v);
      return;
    }
    std::uint64_t count = 0;
    for (const auto& member : shape.members) {
      auto it = v.find(member.name);
      count += (it != v.end() && !it->is_null() && member.shape != nullptr) ? 1 : 0;
    }
    head(kMajorMap, count);
    for (const auto& member : shape.members) {
      auto it = v.find(member.name);
      if (it == v.end() || it->is_null() || member.shape == nullptr) {
        continue;
      }
      text(member.wire_name());
      value(*member.shape, *it);
    }
  }

 private:
  void value(const Shape& shape, const Value& v) {
    if (shape.document) {
      any(v);
      return;
    }
    switch (shape.type) {
      case ShapeType::kStructure:
      case ShapeType::kUnion:
        structure(shape, v);
        return;
      case ShapeType::kList:
        if (!v.is_array() || shape.member.shape == nullptr) {
          any(v);
          return;
        }
        head(kMajorArray, v.size());
        for (const auto& item : v) {
          if (item.is_null()) {
            null();
          } else {
            value(*shape.member.shape, item);
          }
        }
        return;
      case ShapeType::kMap: {
        if (!v.is_object() || shape.value.shape == nullptr) {
          any(v);
          return;
        }
        std::uint64_t count = 0;
        for (const auto& item : v) {
          count += item.is_null() ? 0 : 1;
        }
        head(kMajorMap, count);
        for (const auto& [key, item] : v.items()) {
          if (!item.is_null()) {
            text(key);
            value(*shape.value.shape, item);
          }
        }
        return;
      }
      case ShapeType::kString:
        if (v.is_string()) {
          text(v.get_ref<const std::string&>());
        } else if (v.is_number() || v.is_boolean()) {
          text(v.dump());
        } else {
          any(v);
        }
        return;
      case ShapeType::kInteger:
      case ShapeType::kLong:
        integral(v);
        return;
      case ShapeType::kFloat:
      case ShapeType::kDouble:
      case ShapeType::kBigDecimal:
        floating_value(v);
        return;
      case ShapeType::kBoolean:
        if (v.is_boolean()) {
          boolean(v.get<bool>());
        } else if (v.is_string() && walk::boolean_text(v.get_ref<const std::string&>())) {
          boolean(v.get_ref<const std::string&>() == "true");
        } else {
          any(v);
        }
        return;
      case ShapeType::kBlob: {
        const std::uint8_t* data = nullptr;
        std::size_t size = 0;
        if (walk::blob_bytes(v, data, size)) {
          head(kMajorBytes, size);
          out_.append(reinterpret_cast<const char*>(data), size);
        } else {
          any(v);
        }
        return;
      }
      case ShapeType::kTimestamp: {
        auto seconds = walk::timestamp_seconds(v);
        if (!seconds || !std::isfinite(*seconds)) {
          any(v);
          return;
        }
        head(kMajorTag, 1);
        if (std::fabs(*seconds) >= walk::kCalendarLimitSeconds) {
          floating(*seconds * 1000.0);
        } else if (v.is_number_integer()) {
          integer(v.get<std::int64_t>() * 1000);
        } else {
          integer(std::llround(*seconds * 1000.0));
        }
        return;
      }
    }
  }

  void integral(const Value& v) {
    if (v.is_number_unsigned()) {
      head(kMajorUnsigned, v.get<std::uint64_t>());
    } else if (v.is_number_integer()) {
      integer(v.get<std::int64_t>());
    } else if (v.is_number_float()) {
      whole_or_floating(v.get<double>());
    } else if (v.is_string()) {
      if (auto n = walk::parse_number(v.get_ref<const std::string&>())) {
        whole_or_floating(*n);
      } else {
        text(v.get_ref<const std::string&>());
      }
    } else {
      any(v);
    }
  }

  void floating_value(const Value& v) {
    if (v.is_number()) {
      floating(v.get<double>());
      return;
    }
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (s == "NaN") {
        floating(std::numeric_limits<double>::quiet_NaN());
      } else if (s == "Infinity") {
        floating(std::numeric_limits<double>::infinity());
      } else if (s == "-Infinity") {
        floating(-std::numeric_limits<double>::infinity());
      } else if (auto n = walk::parse_number(s)) {
        floating(*n);
      } else {
        text(s);
      }
      return;
    }
    any(v);
  }

  void whole_or_floating(double d) {
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18) {
      integer(static_cast<std::int64_t>(d));
    } else {
      floating(d);
    }
  }

  /// Generic CBOR for a value the shape does not describe.
  void any(const Value& v) {
    switch (v.type()) {
      case Value::value_t::null:
      case Value::value_t::discarded:
        null();
        return;
      case Value::value_t::boolean:
        boolean(v.get<bool>());
        return;
      case Value::value_t::number_unsigned:
        head(kMajorUnsigned, v.get<std::uint64_t>());
        return;
      case Value::value_t::number_integer:
        integer(v.get<std::int64_t>());
        return;
      case Value::value_t::number_float:
        floating(v.get<double>());
        return;
      case Value::value_t::string:
        text(v.get_ref<const std::string&>());
        return;
      case Value::value_t::binary: {
        const auto& bytes = v.get_binary();
        head(kMajorBytes, bytes.size());
        out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        return;
      }
      case Value::value_t::array:
        head(kMajorArray, v.size());
        for (const auto& item : v) {
          any(item);
        }
        return;
      case Value::value_t::object:
        head(kMajorMap, v.size());
        for (const auto& [key, item] : v.items()) {
          text(key);
          any(item);
        }
        return;
    }
  }

  /// Shortest encoding of the argument, as RFC 8949's preferred serialization asks.
  void head(std::uint8_t major, std::uint64_t argument) {
    const auto m = static_cast<std::uint8_t>(major << 5);
    if (argument < 24) {
      out_.push_back(static_cast<char>(m | argument));
    } else if (argument <= 0xFF) {
      out_.push_back(static_cast<char>(m | 24));
      big_endian(argument, 1);
    } else if (argument <= 0xFFFF) {
      out_.push_back(static_cast<char>(m | 25));
      big_endian(argument, 2);
    } else if (argument <= 0xFFFFFFFFULL) {
      out_.push_back(static_cast<char>(m | 26));
      big_endian(argument, 4);
    } else {
      out_.push_back(static_cast<char>(m | 27));
      big_endian(argument, 8);
    }
  }

  void big_endian(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
  }

  void integer(std::int64_t n) {
    if (n >= 0) {
      head(kMajorUnsigned, static_cast<std::uint64_t>(n));
    } else {
      head(kMajorNegative, static_cast<std::uint64_t>(-(n + 1)));
    }
  }

  /// The shortest of half, single and double that holds `d` exactly.
  void floating(double d) {
    if (std::isnan(d)) {
      out_.push_back(static_cast<char>(0xF9));
      big_endian(0x7E00, 2);
      return;
    }
    if (std::fabs(d) <= std::numeric_limits<float>::max() || std::isinf(d)) {
      const auto f = static_cast<float>(d);
      if (static_cast<double>(f) == d) {
        if (auto half = exact_half(f)) {
          out_.push_back(static_cast<char>(0xF9));
          big_endian(*half, 2);
        } else {
          out_.push_back(static_cast<char>(0xFA));
          big_endian(std::bit_cast<std::uint32_t>(f), 4);
        }
        return;
      }
    }
    out_.push_back(static_cast<char>(0xFB));
    big_endian(std::bit_cast<std::uint64_t>(d), 8);
  }

  void text(std::string_view s) {
    head(kMajorText, s.size());
    out_.append(s);
  }
  void boolean(bool b) { out_.push_back(static_cast<char>(b ? 0xF5 : 0xF4)); }
  void null() { out_.push_back(static_cast<char>(0xF6)); }

  std::string& out_;
};

}  // namespace

Value decode_cbor(const model::Shape* input, std::string_view body) {
  Value value = body.empty() ? Value::object() : CborReader(body).document();
  walk::conform_input(input, value, walk::Wire::kCbor);
  return value;
}

std::string encode_cbor(const model::Shape* output, const Value& value) {
  std::string out;
  if (output == nullptr || !value.is_object()) {
    out.push_back(static_cast<char>(0xA0));  // {}
    return out;
  }
  out.reserve(256);
  CborWriter(out).structure(*output, value);
  return out;
}

}  // namespace fogbank::protocol::codec
