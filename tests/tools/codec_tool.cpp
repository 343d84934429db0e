// codec_tool: encodes sample outputs and modeled errors with fogbank's codecs, one JSON line in,
// one JSON line out, so that tests/e2e/test_codec_botocore.py can check that botocore's parsers
// read what we write.
//
// In (one per line):
//   {"model":"sqs","operation":"ReceiveMessage","protocol":"json|query|cbor","output":{...}}
//   {"model":"sqs","operation":"ReceiveMessage","protocol":"json|query|cbor","error":{"code":C,"message":M}}
// "output" uses the fixtures' tags ({"$blob":"<base64>"}, {"$ts":<epoch seconds>}); an error's
// "code" is the exception shape's name (or its Query code): the status, fault and wire codes come
// from our model's error trait, as a service would take them.
// Out (one per line, same order):
//   {"status":200,"headers":{...},"body":"<text>"}        ("body_base64" instead for CBOR)
//   {"exception":"<what the codec threw>"}
//
// Usage: codec_tool < requests.jsonl > responses.jsonl

#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/codec.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/error_render.hpp"
#include "fogbank/protocol/model.hpp"

namespace {

using nlohmann::json;
namespace protocol = fogbank::protocol;
namespace model = fogbank::protocol::model;

constexpr std::string_view kRequestId = "8f5bd5a4-6a3c-4c38-9d4c-codec0tool01";

/// The fixtures' tagged JSON → the codecs' value convention (json::binary, epoch numbers).
json untag(const json& v) {
  if (v.is_object()) {
    if (v.size() == 1 && v.contains("$blob")) {
      auto bytes = protocol::base64_decode(v["$blob"].get<std::string>());
      if (!bytes) {
        throw std::runtime_error("bad base64 in $blob");
      }
      return json::binary(json::binary_t::container_type(bytes->begin(), bytes->end()));
    }
    if (v.size() == 1 && v.contains("$ts")) {
      return v["$ts"];
    }
    json out = json::object();
    for (const auto& [key, item] : v.items()) {
      out[key] = untag(item);
    }
    return out;
  }
  if (v.is_array()) {
    json out = json::array();
    for (const auto& item : v) {
      out.push_back(untag(item));
    }
    return out;
  }
  return v;
}

std::string json_content_type(const model::ServiceModel& service) {
  return "application/x-amz-json-" + (service.json_version.empty() ? std::string("1.0") : service.json_version);
}

json encode_output(const model::ServiceModel& service, const model::Operation& op,
                   const std::string& wire, const json& output) {
  json value = untag(output);
  json reply = {{"status", op.http_status}};
  if (wire == "query") {
    reply["headers"] = {{"Content-Type", "text/xml"}, {"x-amzn-RequestId", kRequestId}};
    reply["body"] = protocol::codec::encode_query_response(service, op, value, kRequestId);
  } else if (wire == "json") {
    reply["headers"] = {{"Content-Type", json_content_type(service)}, {"x-amzn-RequestId", kRequestId}};
    reply["body"] = protocol::codec::encode_json(op.output, value);
  } else if (wire == "cbor") {
    reply["headers"] = {{"Content-Type", "application/x-amz-cbor-1.1"}, {"x-amzn-RequestId", kRequestId}};
    reply["body_base64"] = protocol::base64_encode(protocol::codec::encode_cbor(op.output, value));
  } else {
    throw std::runtime_error("unknown protocol " + wire);
  }
  return reply;
}

/// The "__type" namespace AWS puts before JSON error codes, where it does (SQS sends
/// "com.amazonaws.sqs#QueueDoesNotExist"); clients strip it.
std::string_view json_type_namespace(std::string_view model_id) {
  return model_id == "sqs" ? "com.amazonaws.sqs" : "";
}

json encode_error(const model::ServiceModel& service, const std::string& wire, const json& error) {
  const std::string code = error.at("code").get<std::string>();
  protocol::AwsError e(code, 400, error.value("message", ""));
  std::string query_code;
  const model::Shape* shape = service.error_shape(code);
  if (shape != nullptr) {
    const bool has_trait = shape->error.has_value();
    const std::string trait_code = has_trait && !shape->error->code.empty() ? shape->error->code : shape->name;
    e.status = has_trait ? shape->error->http_status : 400;
    e.sender_fault = has_trait ? shape->error->sender_fault : true;
    if (wire == "query") {
      e.code = trait_code;
    } else {
      e.code = shape->name;
      if (service.query_compatible) {
        query_code = trait_code;
      }
    }
  }
  protocol::WireProtocol wp = protocol::WireProtocol::kQuery;
  if (wire == "json") {
    wp = service.json_version == "1.1" ? protocol::WireProtocol::kJson11 : protocol::WireProtocol::kJson10;
  } else if (wire == "cbor") {
    wp = protocol::WireProtocol::kCbor;
  } else if (wire != "query") {
    throw std::runtime_error("unknown protocol " + wire);
  }
  protocol::Response r = protocol::render_error(e, wp, kRequestId, service.xml_namespace, "POST", query_code,
                                                json_type_namespace(service.id));
  json headers = json::object();
  for (const auto& [name, value] : r.headers.items()) {
    headers[name] = value;
  }
  headers["x-amzn-RequestId"] = kRequestId;
  json reply = {{"status", r.status}, {"headers", headers}};
  if (wp == protocol::WireProtocol::kCbor) {
    reply["body_base64"] = protocol::base64_encode(r.body);
  } else {
    reply["body"] = r.body;
  }
  return reply;
}

json handle(const json& in) {
  const model::ServiceModel& service = model::get(in.at("model").get<std::string>());
  const std::string op_name = in.at("operation").get<std::string>();
  const model::Operation* op = service.operation(op_name);
  if (op == nullptr) {
    throw std::runtime_error("no operation " + op_name + " in our model");
  }
  const std::string wire = in.at("protocol").get<std::string>();
  if (in.contains("error")) {
    return encode_error(service, wire, in["error"]);
  }
  return encode_output(service, *op, wire, in.value("output", json::object()));
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) {
      continue;
    }
    json reply;
    try {
      reply = handle(json::parse(line));
    } catch (const protocol::AwsError& e) {
      reply = {{"exception", "AwsError " + e.code + " (" + std::to_string(e.status) + "): " + e.message}};
    } catch (const std::exception& e) {
      reply = {{"exception", std::string(e.what())}};
    }
    std::cout << reply.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
  return 0;
}
