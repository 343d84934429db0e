#include "message_attributes.hpp"

#include <cstdio>
#include <regex>

#include "errors.hpp"
#include "fogbank/protocol/utf8.hpp"

namespace fogbank::sns {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

void check_name(const std::string& name) {
  if (name.size() > 256) {
    throw parameter_value_invalid("Length of message attribute name must be less than 256 bytes.");
  }
  if (name.empty()) {
    throw parameter_value_invalid("The message attribute name can not be empty.");
  }
  if (name.front() == '.') {
    throw parameter_value_invalid("Invalid message attribute name starting with character '.' was found.");
  }
  if (name.back() == '.') {
    throw parameter_value_invalid("Invalid message attribute name ending with character '.' was found.");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(name.data());
  const auto* end = p + name.size();
  char prev = 0;
  while (p < end) {
    char c = static_cast<char>(*p);
    if (!name_char(c)) {
      char32_t cp = *p;
      if (!protocol::utf8::next_code_point(p, end, cp)) {
        ++p;
      }
      char hex[16];
      std::snprintf(hex, sizeof hex, "%X", static_cast<unsigned>(cp));
      throw parameter_value_invalid("Invalid non-alphanumeric character '#x" + std::string(hex) +
                                    "' was found in the message attribute name. Can only include alphanumeric "
                                    "characters, hyphens, underscores, or dots.");
    }
    if (c == '.' && prev == '.') {
      throw parameter_value_invalid("Message attribute name can not have successive '.' character.");
    }
    prev = c;
    ++p;
  }
}

/// A decimal number as SNS reads a Number attribute (sign, digits, fraction, exponent).
bool numeric(const std::string& text) {
  static const std::regex kNumber(R"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)");
  return std::regex_match(text, kNumber);
}

bool valid_type(const std::string& type) {
  for (std::string_view base : {"String", "Number", "Binary"}) {
    if (type == base) {
      return true;
    }
    if (type.size() > base.size() + 1 && type.starts_with(base) && type[base.size()] == '.') {
      return true;
    }
  }
  return false;
}

}  // namespace

MessageAttributes read_message_attributes(const nlohmann::json& map, std::string_view path) {
  MessageAttributes out;
  if (!map.is_object()) {
    return out;
  }
  for (const auto& [name, attr] : map.items()) {
    check_name(name);
    auto type_it = attr.find("DataType");
    if (type_it == attr.end() || !type_it->is_string()) {
      throw protocol::AwsError("ValidationError", 400,
                               "1 validation error detected: Value null at '" + std::string(path) + "." + name +
                                   ".member.dataType' failed to satisfy constraint: Member must not be null");
    }
    const std::string type = type_it->get<std::string>();
    if (!valid_type(type)) {
      throw parameter_value_invalid("The message attribute '" + name +
                                    "' has an invalid message attribute type, the set of supported type prefixes is "
                                    "Binary, Number, and String.");
    }
    const bool has_string = attr.contains("StringValue");
    const bool has_binary = attr.contains("BinaryValue");
    const std::string empty_value = "The message attribute '" + name +
                                    "' must contain non-empty message attribute value for message attribute type '" +
                                    type + "'.";
    if (!has_string && !has_binary) {
      throw parameter_value_invalid(empty_value);
    }
    const bool binary = type.starts_with("Binary");
    const std::string field = binary ? "Binary" : "String";
    if (binary ? !has_binary : !has_string) {
      throw parameter_value_invalid("The message attribute '" + name + "' with type '" + type +
                                    "' must use field '" + field + "'.");
    }
    MessageAttribute a;
    a.type = type;
    if (binary) {
      const auto& bytes = attr["BinaryValue"];
      if (bytes.is_binary()) {
        a.value.assign(bytes.get_binary().begin(), bytes.get_binary().end());
      } else if (bytes.is_string()) {
        a.value = bytes.get<std::string>();
      }
    } else if (attr["StringValue"].is_string()) {
      a.value = attr["StringValue"].get<std::string>();
    }
    if (a.value.empty()) {
      throw parameter_value_invalid(empty_value);
    }
    if (type.starts_with("Number") && !numeric(a.value)) {
      throw parameter_value_invalid("Could not cast message attribute '" + name + "' value to number.");
    }
    out.emplace(name, std::move(a));
  }
  if (out.size() > kMaxMessageAttributes) {
    throw parameter_value_invalid("Number of message attributes [" + std::to_string(out.size()) +
                                  "] exceeds the allowed maximum [" + std::to_string(kMaxMessageAttributes) + "].");
  }
  return out;
}

std::size_t message_size(std::string_view message, const MessageAttributes& attributes) {
  std::size_t size = message.size();
  for (const auto& [name, a] : attributes) {
    size += name.size() + a.type.size() + a.value.size();
  }
  return size;
}

}  // namespace fogbank::sns
