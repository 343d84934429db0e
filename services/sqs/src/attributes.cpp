#include "attributes.hpp"

#include <charconv>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "errors.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/json_limits.hpp"

namespace fogbank::sqs {

namespace {

void append_length_prefixed(std::string& out, std::string_view bytes) {
  auto n = static_cast<std::uint32_t>(bytes.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(n >> shift)));
  }
  out.append(bytes);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == lower(prefix);
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

struct IntRange {
  std::string_view name;
  std::int64_t lo;
  std::int64_t hi;
};

// Ranges from the CreateQueue documentation in botocore's model.
constexpr IntRange kIntAttributes[] = {
    {"DelaySeconds", 0, 900},
    {"MaximumMessageSize", 1024, 1048576},
    {"MessageRetentionPeriod", 60, 1209600},
    {"ReceiveMessageWaitTimeSeconds", 0, 20},
    {"VisibilityTimeout", 0, 43200},
    {"KmsDataKeyReusePeriodSeconds", 60, 86400},
};

std::string normalise_redrive_policy(const std::string& value, bool fifo) {
  auto fail = [&](std::string_view reason) { return invalid_value("RedrivePolicy", value, reason); };
  auto j = protocol::parse_json_limited(value);
  if (j.is_discarded() && !protocol::json_depth_within(value, protocol::kMaxClientJsonDepth)) {
    // Not reported like other malformed values: those echo the value, which can be megabytes here.
    throw invalid_attribute_value("RedrivePolicy", "JSON nested more than 64 levels deep.");
  }
  if (!j.is_object()) {
    throw fail("Redrive policy is not a valid JSON map");
  }
  if (!j.contains("deadLetterTargetArn")) {
    throw fail("Redrive policy does not contain mandatory attribute: deadLetterTargetArn");
  }
  if (!j.contains("maxReceiveCount")) {
    throw fail("Redrive policy does not contain mandatory attribute: maxReceiveCount");
  }
  const auto& target = j["deadLetterTargetArn"];
  const auto& count = j["maxReceiveCount"];
  std::optional<std::int64_t> n;
  if (count.is_number_integer()) {
    n = count.get<std::int64_t>();
  } else if (count.is_string()) {
    n = parse_int(count.get<std::string>());
  }
  if (!target.is_string()) {
    throw fail("Invalid value for deadLetterTargetArn");
  }
  if (!n || *n < 1 || *n > 1000) {
    throw fail("Invalid value for maxReceiveCount: " + (count.is_string() ? count.get<std::string>() : count.dump()) +
               ", valid values are from 1 to 1000 both inclusive");
  }
  const auto arn = target.get<std::string>();
  if (arn.ends_with(".fifo") != fifo) {
    throw fail(fifo ? "Dead-letter queue of a FIFO queue must be a FIFO queue"
                    : "Dead-letter queue of a standard queue must be a standard queue");
  }
  // AWS stores and returns the policy normalised, with maxReceiveCount as a number.
  return nlohmann::json{{"deadLetterTargetArn", arn}, {"maxReceiveCount", *n}}.dump();
}

std::string normalise_redrive_allow_policy(const std::string& value) {
  auto fail = [&](std::string_view reason) { return invalid_value("RedriveAllowPolicy", value, reason); };
  auto j = protocol::parse_json_limited(value);
  if (j.is_discarded() && !protocol::json_depth_within(value, protocol::kMaxClientJsonDepth)) {
    throw invalid_attribute_value("RedriveAllowPolicy", "JSON nested more than 64 levels deep.");
  }
  if (!j.is_object() || !j.contains("redrivePermission") || !j["redrivePermission"].is_string()) {
    throw fail("Amazon SQS can't create the redrive allow policy, as it's in an unsupported format");
  }
  auto permission = j["redrivePermission"].get<std::string>();
  if (permission != "allowAll" && permission != "denyAll" && permission != "byQueue") {
    throw fail("Invalid value for redrivePermission: " + permission);
  }
  bool has_sources = j.contains("sourceQueueArns");
  if (permission == "byQueue") {
    if (!has_sources || !j["sourceQueueArns"].is_array() || j["sourceQueueArns"].empty() ||
        j["sourceQueueArns"].size() > 10) {
      throw fail("Specify between 1 and 10 source queue ARNs when redrivePermission is byQueue");
    }
    for (const auto& arn : j["sourceQueueArns"]) {
      if (!arn.is_string()) {
        throw fail("sourceQueueArns must be a list of ARNs");
      }
    }
  } else if (has_sources) {
    throw fail("sourceQueueArns can be specified only when redrivePermission is byQueue");
  }
  return j.dump();
}

}  // namespace

std::string md5_of_attributes(const MessageAttributes& attributes) {
  if (attributes.empty()) {
    return {};
  }
  std::string buf;
  for (const auto& [name, a] : attributes) {
    append_length_prefixed(buf, name);
    append_length_prefixed(buf, a.data_type);
    if (a.is_binary()) {
      buf.push_back('\x02');
      append_length_prefixed(buf, a.binary_value);
    } else {
      buf.push_back('\x01');
      append_length_prefixed(buf, a.string_value);
    }
  }
  return protocol::hex(protocol::md5(buf));
}

void check_message_characters(std::string_view text, std::string_view what) {
  auto bad = [&](std::uint32_t cp) {
    char hexbuf[16];
    std::snprintf(hexbuf, sizeof hexbuf, "%X", cp);
    return AwsError("InvalidMessageContents", 400,
                    "Invalid binary character '#x" + std::string(hexbuf) + "' was found in the " +
                        std::string(what) +
                        ", the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 "
                        "to #xFFFD | #x10000 to #x10FFFF");
  };
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::uint32_t cp = 0;
    std::size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      throw bad(c);
    }
    if (i + len > text.size()) {
      throw bad(c);
    }
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) {
        throw bad(c);
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                   (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!allowed) {
      throw bad(cp);
    }
    i += len;
  }
}

void check_message_attributes(const MessageAttributes& attributes, bool system) {
  if (attributes.size() > 10) {
    throw invalid_parameter("Number of message attributes [" + std::to_string(attributes.size()) +
                            "] exceeds the allowed maximum [10].");
  }
  const char* kind = system ? "system" : "user";
  for (const auto& [name, a] : attributes) {
    if (system) {
      if (name != "AWSTraceHeader") {
        throw invalid_parameter("Message system attribute name '" + name + "' is invalid.");
      }
      if (a.data_type != "String") {
        throw invalid_parameter("Message system attribute 'AWSTraceHeader' has an invalid data type.");
      }
    } else {
      bool chars_ok = !name.empty() && name.size() <= 256;
      for (char c : name) {
        chars_ok = chars_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.');
      }
      if (!chars_ok || name.front() == '.' || name.back() == '.' || name.find("..") != std::string::npos) {
        throw invalid_parameter("Message (user) attribute name '" + name +
                                "' can only contain alphanumeric characters, hyphens, underscores "
                                "and periods, and must not start or end with a period.");
      }
      if (starts_with_icase(name, "AWS.") || starts_with_icase(name, "Amazon.")) {
        throw invalid_parameter("Message (user) attribute name '" + name +
                                "' cannot start with reserved prefixes 'AWS.' or 'Amazon.'.");
      }
    }
    if (a.data_type.empty()) {
      throw invalid_parameter(std::string("Message (") + kind + ") attribute '" + name +
                              "' must contain a non-empty message attribute type.");
    }
    auto base = std::string_view(a.data_type).substr(0, a.data_type.find('.'));
    if (base != "String" && base != "Number" && base != "Binary") {
      throw invalid_parameter(std::string("The type of message (") + kind + ") attribute '" + name +
                              "' is invalid. You must use only the following supported type prefixes: "
                              "Binary, Number, String.");
    }
    if (a.data_type.size() > 256 || a.data_type == std::string(base) + ".") {
      throw invalid_parameter("Message (" + std::string(kind) + ") attribute '" + name +
                              "' has an invalid data type.");
    }
    bool empty = a.is_binary() ? a.binary_value.empty() : a.string_value.empty();
    if (empty) {
      throw invalid_parameter(std::string("Message (") + kind + ") attribute '" + name +
                              "' must contain a non-empty value of message attribute type '" +
                              std::string(base) + "'.");
    }
    if (base == "Number") {
      char* end = nullptr;
      std::string v = a.string_value;
      std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0') {
        throw invalid_parameter("Could not cast message attribute '" + name + "' value to number.");
      }
    }
    if (!a.is_binary()) {
      check_message_characters(a.string_value, "message attribute '" + name + "'");
    }
  }
}

std::size_t message_size(std::string_view body, const MessageAttributes& attributes) {
  std::size_t n = body.size();
  for (const auto& [name, a] : attributes) {
    n += name.size() + a.data_type.size() + (a.is_binary() ? a.binary_value.size() : a.string_value.size());
  }
  return n;
}

std::map<std::string, std::string> default_queue_attributes(bool fifo) {
  std::map<std::string, std::string> a = {
      {"VisibilityTimeout", "30"},         {"MaximumMessageSize", "1048576"},
      {"MessageRetentionPeriod", "345600"}, {"DelaySeconds", "0"},
      {"ReceiveMessageWaitTimeSeconds", "0"}, {"SqsManagedSseEnabled", "true"},
  };
  if (fifo) {
    a["FifoQueue"] = "true";
    a["ContentBasedDeduplication"] = "false";
    a["DeduplicationScope"] = "queue";
    a["FifoThroughputLimit"] = "perQueue";
  }
  return a;
}

std::map<std::string, std::string> validate_queue_attributes(const std::map<std::string, std::string>& given,
                                                             bool fifo, bool creating) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : given) {
    bool handled = false;
    for (const auto& r : kIntAttributes) {
      if (name == r.name) {
        auto n = parse_int(value);
        if (!n || *n < r.lo || *n > r.hi) {
          throw invalid_attribute_value(name);
        }
        out[name] = std::to_string(*n);
        handled = true;
      }
    }
    if (handled) {
      continue;
    }
    auto boolean = [&]() {
      auto v = lower(value);
      if (v != "true" && v != "false") {
        throw invalid_attribute_value(name);
      }
      return v;
    };
    if (name == "FifoQueue") {
      // Only at creation, and only matching the name (the engine checks the name's suffix).
      if (!creating) {
        throw invalid_attribute_name(name);
      }
      if (boolean() != (fifo ? "true" : "false")) {
        throw invalid_parameter(
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length.");
      }
      if (fifo) {
        out[name] = "true";
      }
    } else if (name == "ContentBasedDeduplication" || name == "DeduplicationScope" ||
               name == "FifoThroughputLimit") {
      if (!fifo) {
        throw invalid_attribute_name(name);
      }
      if (name == "ContentBasedDeduplication") {
        out[name] = boolean();
      } else if (name == "DeduplicationScope" && value != "queue" && value != "messageGroup") {
        throw invalid_attribute_value(name);
      } else if (name == "FifoThroughputLimit" && value != "perQueue" && value != "perMessageGroupId") {
        throw invalid_attribute_value(name);
      } else {
        out[name] = value;
      }
    } else if (name == "SqsManagedSseEnabled") {
      out[name] = boolean();
    } else if (name == "KmsMasterKeyId") {
      out[name] = value;
    } else if (name == "Policy") {
      if (!value.empty() && !protocol::parse_json_limited(value).is_object()) {
        throw invalid_attribute_value(name);
      }
      out[name] = value;
    } else if (name == "RedrivePolicy") {
      out[name] = value.empty() ? value : normalise_redrive_policy(value, fifo);
    } else if (name == "RedriveAllowPolicy") {
      out[name] = value.empty() ? value : normalise_redrive_allow_policy(value);
    } else {
      throw invalid_attribute_name(name);
    }
  }
  if (out.count("KmsMasterKeyId") > 0 && !out["KmsMasterKeyId"].empty()) {
    if (out.count("SqsManagedSseEnabled") > 0 && out["SqsManagedSseEnabled"] == "true") {
      throw invalid_attribute_name("SqsManagedSseEnabled");  // one encryption option per queue
    }
    out["SqsManagedSseEnabled"] = "false";
  }
  return out;
}

void apply_queue_attributes(Queue& q) {
  auto get_int = [&](const char* name, std::int64_t fallback) {
    auto it = q.attributes.find(name);
    auto v = it == q.attributes.end() ? std::nullopt : parse_int(it->second);
    return v.value_or(fallback);
  };
  q.visibility_timeout = get_int("VisibilityTimeout", 30);
  q.delay_seconds = get_int("DelaySeconds", 0);
  q.maximum_message_size = get_int("MaximumMessageSize", 1048576);
  q.retention_seconds = get_int("MessageRetentionPeriod", 345600);
  q.wait_seconds = get_int("ReceiveMessageWaitTimeSeconds", 0);
  auto cbd = q.attributes.find("ContentBasedDeduplication");
  q.content_based_dedup = cbd != q.attributes.end() && cbd->second == "true";
  auto scope = q.attributes.find("DeduplicationScope");
  q.dedup_per_group = scope != q.attributes.end() && scope->second == "messageGroup";
  q.dead_letter_arn.clear();
  q.max_receive_count = 0;
  auto redrive = q.attributes.find("RedrivePolicy");
  if (redrive != q.attributes.end() && !redrive->second.empty()) {
    auto j = protocol::parse_json_limited(redrive->second);
    if (j.is_object()) {
      q.dead_letter_arn = j.value("deadLetterTargetArn", std::string());
      q.max_receive_count = j.value("maxReceiveCount", std::int64_t{0});
    }
  }
}

const std::vector<std::string>& all_queue_attribute_names() {
  static const std::vector<std::string> kNames = {
      "QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
      "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp",
      "VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod", "DelaySeconds",
      "ReceiveMessageWaitTimeSeconds", "SqsManagedSseEnabled", "Policy", "RedrivePolicy",
      "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "FifoQueue",
      "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"};
  return kNames;
}

}  // namespace fogbank::sqs
