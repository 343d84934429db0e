#include "filter_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "errors.hpp"
#include "fogbank/protocol/json_limits.hpp"
#include "json_doc.hpp"

namespace fogbank::sns {

using jsondoc::Doc;

namespace {

constexpr std::size_t kMaxKeys = 5;
constexpr double kMaxCombinations = 150;
constexpr std::size_t kMaxAlternatives = 1024;
constexpr std::size_t kMaxPolicyDepth = 32;

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v6 = false;
};

std::optional<IpAddress> parse_ip(const std::string& text) {
  IpAddress ip;
  if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
    return ip;
  }
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    ip.v6 = true;
    return ip;
  }
  return std::nullopt;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

/// Strict decimal number as SNS reads Number attributes and numeric strings; nullopt otherwise.
std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  std::string_view digits = s.front() == '+' ? s.substr(1) : s;
  double v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

/// A value a rule is tested against: a string, a number, a boolean, null, or something else
/// (an object in a message body, a Binary attribute), which only "exists" sees.
struct Scalar {
  enum class Type { kString, kNumber, kBool, kNull, kOther } type = Type::kOther;
  std::string_view text;
  double number = 0;
  bool boolean = false;
};

Scalar scalar_of(const nlohmann::json& v) {
  Scalar s;
  if (v.is_string()) {
    s.type = Scalar::Type::kString;
    s.text = v.get_ref<const std::string&>();
  } else if (v.is_number()) {
    s.type = Scalar::Type::kNumber;
    s.number = v.get<double>();
  } else if (v.is_boolean()) {
    s.type = Scalar::Type::kBool;
    s.boolean = v.get<bool>();
  } else if (v.is_null()) {
    s.type = Scalar::Type::kNull;
  }
  return s;
}

}  // namespace

struct FilterRule {
  enum class Kind {
    kString,
    kNumber,
    kTrue,
    kFalse,
    kNull,
    kPrefix,
    kSuffix,
    kEqualsIgnoreCase,
    kAnythingBut,
    kAnythingButPrefix,
    kExists,
    kNumeric,
    kCidr,
  };
  Kind kind = Kind::kString;
  std::string text;
  double number = 0;
  bool exists = true;
  std::vector<std::string> but_strings;
  std::vector<double> but_numbers;
  std::optional<double> low;
  bool low_inclusive = false;
  std::optional<double> high;
  bool high_inclusive = false;
  IpAddress net;
  int bits = 0;

  [[nodiscard]] bool matches(const Scalar& v) const {
    using T = Scalar::Type;
    switch (kind) {
      case Kind::kString:
        return v.type == T::kString && v.text == text;
      case Kind::kNumber:
        return v.type == T::kNumber && v.number == number;
      case Kind::kTrue:
        return v.type == T::kBool && v.boolean;
      case Kind::kFalse:
        return v.type == T::kBool && !v.boolean;
      case Kind::kNull:
        return v.type == T::kNull;
      case Kind::kPrefix:
        return v.type == T::kString && v.text.starts_with(text);
      case Kind::kSuffix:
        return v.type == T::kString && v.text.ends_with(text);
      case Kind::kEqualsIgnoreCase:
        return v.type == T::kString && ascii_lower(v.text) == text;
      case Kind::kAnythingBut:
        if (v.type == T::kString) {
          return std::find(but_strings.begin(), but_strings.end(), v.text) == but_strings.end();
        }
        if (v.type == T::kNumber) {
          return std::find(but_numbers.begin(), but_numbers.end(), v.number) == but_numbers.end();
        }
        return v.type == T::kBool;
      case Kind::kAnythingButPrefix:
        return v.type == T::kString && !v.text.starts_with(text);
      case Kind::kExists:
        return false;  // decided by presence, in Condition::matches
      case Kind::kNumeric:
        if (v.type != T::kNumber) {
          return false;
        }
        if (low && (low_inclusive ? v.number < *low : v.number <= *low)) {
          return false;
        }
        return !(high && (high_inclusive ? v.number > *high : v.number >= *high));
      case Kind::kCidr: {
        if (v.type != T::kString) {
          return false;
        }
        auto ip = parse_ip(std::string(v.text));
        if (!ip || ip->v6 != net.v6) {
          return false;
        }
        int full = bits / 8;
        if (std::memcmp(ip->bytes.data(), net.bytes.data(), static_cast<std::size_t>(full)) != 0) {
          return false;
        }
        int rest = bits % 8;
        if (rest == 0) {
          return true;
        }
        auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
        return (ip->bytes[static_cast<std::size_t>(full)] & mask) == (net.bytes[static_cast<std::size_t>(full)] & mask);
      }
    }
    return false;
  }
};

struct FilterPolicy::Condition {
  std::vector<std::string> path;  // one key (attributes) or the nested keys (body)
  std::vector<FilterRule> rules;

  /// `present`: whether the key exists; `values`: the scalars found there.
  [[nodiscard]] bool matches(bool present, const std::vector<Scalar>& values) const {
    for (const auto& rule : rules) {
      if (rule.kind == FilterRule::Kind::kExists) {
        if (rule.exists == present) {
          return true;
        }
        continue;
      }
      for (const auto& v : values) {
        if (rule.matches(v)) {
          return true;
        }
      }
    }
    return false;
  }
};

FilterPolicy::FilterPolicy() = default;
FilterPolicy::~FilterPolicy() = default;

/// Turns a parsed policy into conditions, reporting errors where AWS's rule compiler (a
/// streaming Jackson reader over the compact policy) would have been.
struct PolicyCompiler {
  const jsondoc::Compact& compact;
  std::string prefix;  // "Invalid parameter: [Attributes Reason: ]"

  [[noreturn]] void barf(const std::string& message, std::size_t pos) const {
    throw invalid_parameter(prefix + "FilterPolicy: " + message + compact.location(pos));
  }
  [[noreturn]] void barf_plain(const std::string& message) const {
    throw invalid_parameter(prefix + "FilterPolicy: " + message);
  }

  /// getText() of a token: a number's literal, a string's content, a container's bracket.
  [[nodiscard]] std::string token_text(const Doc& v) const {
    if (v.is_string()) {
      return v.get<std::string>();
    }
    if (v.is_object()) {
      return "{";
    }
    if (v.is_array()) {
      return "[";
    }
    auto span = compact.span(v);
    return compact.text().substr(span.start, span.end - span.start);
  }

  using Alternatives = std::vector<std::vector<FilterPolicy::Condition>>;

  Alternatives object(const Doc& obj, std::vector<std::string>& path) {
    if (obj.empty()) {
      barf("Empty objects are not allowed", compact.after(obj));
    }
    Alternatives result(1);
    for (const auto& [key, value] : obj.items()) {
      if (key == "$or" && value.is_array() && !value.empty() && value.front().is_object()) {
        Alternatives merged;
        for (const auto& branch : value) {
          if (!branch.is_object()) {
            barf("\"$or\" must be an array of objects", compact.head(branch));
          }
          auto alternatives = object(branch, path);
          for (const auto& left : result) {
            for (const auto& right : alternatives) {
              auto joined = left;
              joined.insert(joined.end(), right.begin(), right.end());
              merged.push_back(std::move(joined));
              if (merged.size() > kMaxAlternatives) {
                barf_plain("Filter policy is too complex");
              }
            }
          }
        }
        result = std::move(merged);
        continue;
      }
      path.push_back(key);
      if (value.is_object()) {
        auto nested = object(value, path);
        Alternatives merged;
        for (const auto& left : result) {
          for (const auto& right : nested) {
            auto joined = left;
            joined.insert(joined.end(), right.begin(), right.end());
            merged.push_back(std::move(joined));
            if (merged.size() > kMaxAlternatives) {
              barf_plain("Filter policy is too complex");
            }
          }
        }
        result = std::move(merged);
      } else if (value.is_array()) {
        FilterPolicy::Condition condition;
        condition.path = path;
        condition.rules = match_array(value);
        for (auto& alternative : result) {
          alternative.push_back(condition);
        }
      } else {
        barf("\"" + key + "\" must be an object or an array", compact.head(value));
      }
      path.pop_back();
    }
    return result;
  }

  std::vector<FilterRule> match_array(const Doc& array) {
    if (array.empty()) {
      barf("Empty arrays are not allowed", compact.after(array));
    }
    std::vector<FilterRule> rules;
    for (const auto& item : array) {
      FilterRule rule;
      switch (item.type()) {
        case Doc::value_t::string:
          rule.kind = FilterRule::Kind::kString;
          rule.text = item.get<std::string>();
          break;
        case Doc::value_t::number_integer:
        case Doc::value_t::number_unsigned:
        case Doc::value_t::number_float:
          rule.kind = FilterRule::Kind::kNumber;
          rule.number = item.get<double>();
          break;
        case Doc::value_t::boolean:
          rule.kind = item.get<bool>() ? FilterRule::Kind::kTrue : FilterRule::Kind::kFalse;
          break;
        case Doc::value_t::null:
          rule.kind = FilterRule::Kind::kNull;
          break;
        case Doc::value_t::object:
          rule = match_expression(item);
          break;
        default:
          barf("Match value must be String, number, true, false, or null", compact.head(item));
      }
      rules.push_back(std::move(rule));
    }
    return rules;
  }

  FilterRule match_expression(const Doc& expression) {
    if (expression.empty()) {
      barf("Empty objects are not allowed", compact.after(expression));
    }
    auto it = expression.items().begin();
    const std::string key = it.key();
    const Doc& value = it.value();
    FilterRule rule;
    if (key == "prefix" || key == "suffix" || key == "equals-ignore-case") {
      if (!value.is_string()) {
        barf(key + " match pattern must be a string", compact.head(value));
      }
      rule.kind = key == "prefix"   ? FilterRule::Kind::kPrefix
                  : key == "suffix" ? FilterRule::Kind::kSuffix
                                    : FilterRule::Kind::kEqualsIgnoreCase;
      rule.text = key == "equals-ignore-case" ? ascii_lower(value.get<std::string>()) : value.get<std::string>();
    } else if (key == "exists") {
      if (!value.is_boolean()) {
        barf("exists match pattern must be either true or false.", compact.head(value));
      }
      rule.kind = FilterRule::Kind::kExists;
      rule.exists = value.get<bool>();
    } else if (key == "anything-but") {
      rule = anything_but(value);
    } else if (key == "numeric") {
      if (!value.is_array()) {
        barf("Value of numeric must be an array.", compact.head(value));
      }
      rule = numeric(value);
    } else if (key == "cidr") {
      if (!value.is_string()) {
        barf("prefix match pattern must be a string", compact.head(value));  // sic: AWS names "prefix"
      }
      rule = cidr(value.get<std::string>());
    } else {
      barf("Unrecognized match type " + key, compact.head(value));
    }
    if (expression.size() > 1) {
      ++it;
      barf("Only one key allowed in match expression", compact.head(it.value()));
    }
    return rule;
  }

  FilterRule anything_but(const Doc& value) {
    FilterRule rule;
    rule.kind = FilterRule::Kind::kAnythingBut;
    if (value.is_string()) {
      rule.but_strings.push_back(value.get<std::string>());
    } else if (value.is_number()) {
      rule.but_numbers.push_back(value.get<double>());
    } else if (value.is_array()) {
      if (value.empty()) {
        barf("Empty arrays are not allowed", compact.after(value));
      }
      for (const auto& item : value) {
        if (item.is_string()) {
          rule.but_strings.push_back(item.get<std::string>());
        } else if (item.is_number()) {
          rule.but_numbers.push_back(item.get<double>());
        } else {
          barf("Inside anything but list, start|end array|object and true|false|null are not supported.",
               compact.head(item));
        }
      }
    } else if (value.is_object()) {
      if (value.empty()) {
        barf("Empty objects are not allowed", compact.after(value));
      }
      auto it = value.items().begin();
      if (it.key() != "prefix") {
        barf("Unsupported anything-but pattern: " + it.key(), compact.head(it.value()));
      }
      if (!it.value().is_string()) {
        barf("prefix match pattern must be a string", compact.head(it.value()));
      }
      rule.kind = FilterRule::Kind::kAnythingButPrefix;
      rule.text = it.value().get<std::string>();
      if (value.size() > 1) {
        ++it;
        barf("Only one key allowed in match expression", compact.head(it.value()));
      }
    } else {
      barf("Value of anything-but must be an array or single string/number value.", compact.head(value));
    }
    return rule;
  }

  FilterRule numeric(const Doc& terms) {
    // Positions follow the reader: each check happens after the next token was read.
    auto next_pos = [&](std::size_t i) {
      return i < terms.size() ? compact.head(terms[i]) : compact.after(terms);
    };
    auto text_at = [&](std::size_t i) { return i < terms.size() ? token_text(terms[i]) : std::string("]"); };
    if (terms.empty() || !terms[0].is_string()) {
      barf("Invalid member in numeric match: " + text_at(0), next_pos(0));
    }
    const std::string op = terms[0].get<std::string>();
    FilterRule rule;
    rule.kind = FilterRule::Kind::kNumeric;
    auto value_of = [&](std::size_t i, const std::string& name) {
      if (i >= terms.size() || !terms[i].is_number()) {
        barf("Value of " + name + " must be numeric", next_pos(i));
      }
      return terms[i].get<double>();
    };
    if (op == "=") {
      double v = value_of(1, "equals");
      rule.low = rule.high = v;
      rule.low_inclusive = rule.high_inclusive = true;
      if (terms.size() > 2) {
        barf("Too many elements in numeric expression", next_pos(2));
      }
      return rule;
    }
    if (op == "<" || op == "<=") {
      rule.high = value_of(1, op);
      rule.high_inclusive = op == "<=";
      if (terms.size() > 2) {
        barf("Too many elements in numeric expression", next_pos(2));
      }
      return rule;
    }
    if (op != ">" && op != ">=") {
      barf("Unrecognized numeric range operator: " + op, next_pos(1));
    }
    rule.low = value_of(1, op);
    rule.low_inclusive = op == ">=";
    if (terms.size() == 2) {
      return rule;
    }
    if (!terms[2].is_string()) {
      barf("Bad value in numeric range: " + text_at(2), next_pos(2));
    }
    const std::string op2 = terms[2].get<std::string>();
    if (op2 != "<" && op2 != "<=") {
      barf("Bad numeric range operator: " + op2, compact.after(terms[2]));
    }
    rule.high = value_of(3, op2);
    rule.high_inclusive = op2 == "<=";
    if (terms.size() > 4) {
      barf("Too many terms in numeric range expression", next_pos(4));
    }
    if (*rule.low >= *rule.high) {
      barf("Bottom must be less than top", compact.after(terms));
    }
    return rule;
  }

  FilterRule cidr(const std::string& text) {
    auto slash = text.find('/');
    if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos) {
      barf_plain("Malformed CIDR, one '/' required");
    }
    std::string ip_text = text.substr(0, slash);
    std::string mask = text.substr(slash + 1);
    int bits = 0;
    auto [end, ec] = std::from_chars(mask.data(), mask.data() + mask.size(), bits);
    if (mask.empty() || ec != std::errc() || end != mask.data() + mask.size()) {
      barf_plain("Malformed CIDR, mask bits must be an integer");
    }
    auto ip = parse_ip(ip_text);
    if (!ip) {
      barf_plain("Nonstandard IP address: " + ip_text);
    }
    const int max_bits = ip->v6 ? 128 : 32;
    if (bits < 0 || bits > max_bits) {
      barf_plain("Malformed CIDR, mask bits must be between 0 and " + std::to_string(max_bits));
    }
    FilterRule rule;
    rule.kind = FilterRule::Kind::kCidr;
    rule.net = *ip;
    rule.bits = bits;
    return rule;
  }
};

namespace {

/// AWS's complexity: the product of each key's value count, times the key's nesting depth;
/// "$or" branches add up.
double combinations(const Doc& obj, double depth, double incoming) {
  double total = incoming;
  for (const auto& [key, value] : obj.items()) {
    if (value.is_object()) {
      total = combinations(value, depth + 1, total);
    } else if (value.is_array()) {
      if (key == "$or" && !value.empty() && value.front().is_object()) {
        double sum = 0;
        for (const auto& branch : value) {
          if (branch.is_object()) {
            sum += combinations(branch, depth, total);
          }
        }
        total = sum;
      } else {
        total *= static_cast<double>(value.size()) * depth;
      }
    }
    total = std::min(total, 1e18);
  }
  return total;
}

bool nested(const Doc& obj) {
  for (const auto& [key, value] : obj.items()) {
    if (value.is_object()) {
      return true;
    }
    if (key == "$or" && value.is_array()) {
      for (const auto& branch : value) {
        if (branch.is_object() && nested(branch)) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace

std::shared_ptr<const FilterPolicy> FilterPolicy::compile(std::string_view text, FilterScope scope,
                                                          std::string_view prefix) {
  const std::string p(prefix);
  if (text.empty()) {
    return nullptr;
  }
  if (text.size() > kMaxFilterPolicyBytes) {
    throw invalid_parameter(p + "FilterPolicy: Filter policy is too large");
  }
  jsondoc::ParseError error;
  auto doc = jsondoc::parse(text, kMaxPolicyDepth, error);
  if (!doc) {
    if (error.message == "too deep") {
      throw invalid_parameter(p + "FilterPolicy: Filter policy is too complex");
    }
    throw invalid_parameter(p + "FilterPolicy: failed to parse JSON. " + error.message +
                            "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: " +
                            std::to_string(error.line) + ", column: " + std::to_string(error.column) + "]");
  }
  if (!doc->is_object()) {
    throw invalid_parameter(p + "FilterPolicy: Filter is not an object");
  }
  if (doc->empty()) {
    return nullptr;
  }
  jsondoc::Compact compact(*doc);
  PolicyCompiler compiler{compact, p};
  std::vector<std::string> path;
  auto alternatives = compiler.object(*doc, path);
  if (doc->size() > kMaxKeys) {
    throw invalid_parameter(p + "FilterPolicy: Filter policy can not have more than 5 keys");
  }
  if (scope == FilterScope::kMessageAttributes && nested(*doc)) {
    throw invalid_parameter(p + "Filter policy scope MessageAttributes does not support nested filter policy");
  }
  if (combinations(*doc, 1, 1) > kMaxCombinations) {
    throw invalid_parameter(p + "FilterPolicy: Filter policy is too complex");
  }
  auto policy = std::make_shared<FilterPolicy>();
  policy->alternatives_ = std::move(alternatives);
  return policy;
}

bool FilterPolicy::matches_attributes(const std::map<std::string, FilterAttribute>& attributes) const {
  for (const auto& alternative : alternatives_) {
    bool all = true;
    for (const auto& condition : alternative) {
      auto it = attributes.find(condition.path.front());
      std::vector<Scalar> values;
      nlohmann::json array;
      if (it != attributes.end()) {
        const auto& type = it->second.type;
        const auto& value = it->second.value;
        if (type == "String.Array") {
          array = protocol::parse_json_limited(value);
          if (array.is_array()) {
            for (const auto& item : array) {
              values.push_back(scalar_of(item));
            }
          }
        } else if (type == "Number" || type.starts_with("Number.")) {
          Scalar s;
          if (auto n = parse_number(value)) {
            s.type = Scalar::Type::kNumber;
            s.number = *n;
          } else {
            s.type = Scalar::Type::kString;
            s.text = value;
          }
          values.push_back(s);
        } else if (type == "String" || type.starts_with("String.")) {
          Scalar s;
          s.type = Scalar::Type::kString;
          s.text = value;
          values.push_back(s);
        }
        // Binary attributes exist but match no value rule.
      }
      if (!condition.matches(it != attributes.end(), values)) {
        all = false;
        break;
      }
    }
    if (all) {
      return true;
    }
  }
  return false;
}

namespace {

/// Every value at `path` (arrays on the way are entered element by element).
void collect(const nlohmann::json& node, const std::vector<std::string>& path, std::size_t i, bool& present,
             std::vector<Scalar>& out) {
  if (node.is_array()) {
    for (const auto& item : node) {
      collect(item, path, i, present, out);
    }
    return;
  }
  if (i == path.size()) {
    present = true;
    out.push_back(scalar_of(node));
    return;
  }
  if (!node.is_object()) {
    return;
  }
  auto it = node.find(path[i]);
  if (it != node.end()) {
    collect(*it, path, i + 1, present, out);
  }
}

}  // namespace

bool FilterPolicy::matches_body(const nlohmann::json* body) const {
  if (body == nullptr || !body->is_object()) {
    return false;
  }
  for (const auto& alternative : alternatives_) {
    bool all = true;
    for (const auto& condition : alternative) {
      bool present = false;
      std::vector<Scalar> values;
      collect(*body, condition.path, 0, present, values);
      if (!condition.matches(present, values)) {
        all = false;
        break;
      }
    }
    if (all) {
      return true;
    }
  }
  return false;
}

}  // namespace fogbank::sns
