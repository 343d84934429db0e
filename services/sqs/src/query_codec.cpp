#include "query_codec.hpp"

#include <array>
#include <charconv>
#include <set>
#include <utility>

#include "errors.hpp"
#include "fogbank/protocol/query.hpp"
#include "fogbank/protocol/xml_writer.hpp"

namespace fogbank::sqs {

using nlohmann::json;
using protocol::XmlWriter;

namespace {

// Flattened Query lists of scalars: location name → JSON member name.
constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kScalarLists = {{
    {"AttributeName", "AttributeNames"},
    {"MessageAttributeName", "MessageAttributeNames"},
    {"MessageSystemAttributeName", "MessageSystemAttributeNames"},
    {"TagKey", "TagKeys"},
    {"AWSAccountId", "AWSAccountIds"},
    {"ActionName", "Actions"},
    {"StringListValue", "StringListValues"},
    {"BinaryListValue", "BinaryListValues"},
}};

const std::set<std::string, std::less<>> kIntegerMembers = {
    "DelaySeconds", "MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds", "MaxResults",
    "MaxNumberOfMessagesPerSecond"};

// Operations whose Query response has no <ActionResult> element (no output shape).
const std::set<std::string, std::less<>> kNoResult = {
    "AddPermission", "ChangeMessageVisibility", "DeleteMessage", "DeleteQueue", "PurgeQueue",
    "RemovePermission", "SetQueueAttributes", "TagQueue", "UntagQueue"};

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

json convert(const json& node, std::string_view action);

json map_of(const json& parent, std::string_view list, std::string_view key_name,
            std::string_view value_name, std::string_view action, bool structured_values) {
  json out = json::object();
  for (const json* item : protocol::query::list_items(parent, list, "")) {
    if (!item->is_object() || !item->contains(key_name)) {
      continue;
    }
    auto key = text_of((*item)[std::string(key_name)]);
    auto value = item->find(std::string(value_name));
    if (value == item->end()) {
      out[key] = structured_values ? json::object() : json("");
    } else {
      out[key] = structured_values ? convert(*value, action) : json(text_of(*value));
    }
  }
  return out;
}

json convert(const json& node, std::string_view action) {
  if (!node.is_object()) {
    return node;
  }
  json out = json::object();
  for (const auto& [key, value] : node.items()) {
    if (key == "Action" || key == "Version") {
      continue;
    }
    bool done = false;
    for (const auto& [location, member] : kScalarLists) {
      if (key == location) {
        json list = json::array();
        for (const json* item : protocol::query::list_items(node, key, "")) {
          list.push_back(text_of(*item));
        }
        out[std::string(member)] = std::move(list);
        done = true;
      }
    }
    if (done) {
      continue;
    }
    if (key == "Attribute") {
      out["Attributes"] = map_of(node, key, "Name", "Value", action, false);
    } else if (key == "Tag") {
      // CreateQueue's member is lower-case `tags`; TagQueue's is `Tags`.
      out[action == "CreateQueue" ? "tags" : "Tags"] = map_of(node, key, "Key", "Value", action, false);
    } else if (key == "MessageAttribute") {
      out["MessageAttributes"] = map_of(node, key, "Name", "Value", action, true);
    } else if (key == "MessageSystemAttribute") {
      out["MessageSystemAttributes"] = map_of(node, key, "Name", "Value", action, true);
    } else if (key.ends_with("RequestEntry")) {
      json entries = json::array();
      for (const json* item : protocol::query::list_items(node, key, "")) {
        entries.push_back(convert(*item, action));
      }
      out["Entries"] = std::move(entries);
    } else if (kIntegerMembers.count(key) > 0 && value.is_string()) {
      const auto& s = value.get_ref<const std::string&>();
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec != std::errc() || p != s.data() + s.size()) {
        throw invalid_value(key, s, "Must be an integer");
      }
      out[key] = n;
    } else {
      out[key] = value.is_object() ? convert(value, action) : value;
    }
  }
  return out;
}

void write_scalar(XmlWriter& xml, std::string_view name, const json& v) {
  if (v.is_boolean()) {
    xml.element(name, v.get<bool>() ? "true" : "false");
  } else {
    xml.element(name, text_of(v));
  }
}

void write_members(XmlWriter& xml, std::string_view action, const json& object);

void write_member(XmlWriter& xml, std::string_view action, const std::string& key, const json& v) {
  auto each = [&](std::string_view element, bool structured) {
    for (const auto& item : v) {
      if (structured) {
        xml.open(element);
        write_members(xml, action, item);
        xml.close();
      } else {
        write_scalar(xml, element, item);
      }
    }
  };
  auto pairs = [&](std::string_view element, std::string_view key_name, bool structured) {
    for (const auto& [k, value] : v.items()) {
      xml.open(element).element(key_name, k);
      if (structured) {
        xml.open("Value");
        write_members(xml, action, value);
        xml.close();
      } else {
        write_scalar(xml, "Value", value);
      }
      xml.close();
    }
  };
  if (key == "QueueUrls" || key == "queueUrls") {
    each("QueueUrl", false);
  } else if (key == "Messages") {
    each("Message", true);
  } else if (key == "Successful") {
    each(std::string(action) + "ResultEntry", true);
  } else if (key == "Failed") {
    each("BatchResultErrorEntry", true);
  } else if (key == "Results") {
    each("Results", true);
  } else if (key == "StringListValues") {
    each("StringListValue", false);
  } else if (key == "BinaryListValues") {
    each("BinaryListValue", false);
  } else if (key == "Attributes") {
    pairs("Attribute", "Name", false);
  } else if (key == "Tags") {
    pairs("Tag", "Key", false);
  } else if (key == "MessageAttributes") {
    pairs("MessageAttribute", "Name", true);
  } else if (v.is_object()) {
    xml.open(key);
    write_members(xml, action, v);
    xml.close();
  } else {
    write_scalar(xml, key, v);
  }
}

void write_members(XmlWriter& xml, std::string_view action, const json& object) {
  for (const auto& [key, value] : object.items()) {
    write_member(xml, action, key, value);
  }
}

}  // namespace

json query_to_json(std::string_view action, const protocol::QueryParams& params) {
  return convert(protocol::query::to_tree(params), action);
}

std::string json_to_query_xml(std::string_view action, const json& result, std::string_view xmlns,
                              std::string_view request_id) {
  if (kNoResult.count(action) > 0) {
    return protocol::query::render_response(action, xmlns, request_id, nullptr);
  }
  return protocol::query::render_response(action, xmlns, request_id,
                                          [&](XmlWriter& xml) { write_members(xml, action, result); });
}

}  // namespace fogbank::sqs
