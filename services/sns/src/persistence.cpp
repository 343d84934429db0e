#include "persistence.hpp"

#include <nlohmann/json.hpp>

#include "fogbank/storage/keys.hpp"

namespace fogbank::sns::persist {

using nlohmann::json;
using storage::KeyBuilder;

std::string topic_key(std::string_view account, std::string_view region, std::string_view name) {
  return KeyBuilder("t").str(account).str(region).str(name).key();
}
std::string subscription_key(std::string_view arn) { return KeyBuilder("s").str(arn).key(); }
std::string dedup_key(std::string_view topic_arn, std::string_view id) {
  return KeyBuilder("d").str(topic_arn).str(id).key();
}
std::string dedup_prefix(std::string_view topic_arn) { return KeyBuilder("d").str(topic_arn).key(); }
std::string sms_key(std::string_view account, std::string_view region) {
  return KeyBuilder("m").str(account).str(region).key();
}
std::string opt_out_key(std::string_view account, std::string_view phone) {
  return KeyBuilder("o").str(account).str(phone).key();
}
std::string sandbox_key(const SandboxKey& k) {
  return KeyBuilder("p").str(k.account).str(k.region).str(k.phone).key();
}
std::string signer_key() { return KeyBuilder("k").key(); }
std::string kind_prefix(char kind) { return KeyBuilder(std::string_view(&kind, 1)).key(); }

std::string encode_topic(const Topic& t) {
  json j = {{"account", t.account},
            {"region", t.region},
            {"name", t.name},
            {"fifo", t.fifo},
            {"attributes", t.attributes},
            {"tags", t.tags},
            {"data_protection_policy", t.data_protection_policy},
            {"sequence", t.sequence},
            {"deleted", t.deleted}};
  return j.dump();
}

bool decode_topic(std::string_view data, Topic& t) {
  auto j = json::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    t.account = j.at("account").get<std::string>();
    t.region = j.at("region").get<std::string>();
    t.name = j.at("name").get<std::string>();
    t.fifo = j.at("fifo").get<bool>();
    t.attributes = j.at("attributes").get<std::map<std::string, std::string>>();
    t.tags = j.at("tags").get<std::map<std::string, std::string>>();
    t.data_protection_policy = j.value("data_protection_policy", std::string());
    t.sequence = j.value("sequence", std::uint64_t{0});
    t.deleted = j.value("deleted", std::uint64_t{0});
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

std::string encode_subscription(const Subscription& s) {
  json j = {{"arn", s.arn},
            {"topic", s.topic_arn},
            {"protocol", s.protocol},
            {"endpoint", s.endpoint},
            {"owner", s.owner},
            {"principal", s.principal},
            {"pending", s.pending},
            {"authenticated", s.authenticated},
            {"token", s.token},
            {"attributes", s.attributes},
            {"order", s.order}};
  return j.dump();
}

bool decode_subscription(std::string_view data, Subscription& s) {
  auto j = json::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    s.arn = j.at("arn").get<std::string>();
    s.topic_arn = j.at("topic").get<std::string>();
    s.protocol = j.at("protocol").get<std::string>();
    s.endpoint = j.at("endpoint").get<std::string>();
    s.owner = j.at("owner").get<std::string>();
    s.principal = j.value("principal", std::string());
    s.pending = j.at("pending").get<bool>();
    s.authenticated = j.value("authenticated", false);
    s.token = j.value("token", std::string());
    s.attributes = j.at("attributes").get<std::map<std::string, std::string>>();
    s.order = j.value("order", std::uint64_t{0});
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

std::string encode_dedup(const DedupEntry& e) {
  return json{{"expires", e.expires_ms}, {"id", e.message_id}, {"seq", e.sequence_number}}.dump();
}

bool decode_dedup(std::string_view data, DedupEntry& e) {
  auto j = json::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    e.expires_ms = j.at("expires").get<std::int64_t>();
    e.message_id = j.at("id").get<std::string>();
    e.sequence_number = j.value("seq", std::string());
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

std::string encode_sandbox_number(const SandboxNumber& n) {
  return json{{"verified", n.verified}, {"otp", n.one_time_password}}.dump();
}

bool decode_sandbox_number(std::string_view data, SandboxNumber& n) {
  auto j = json::parse(data, nullptr, false);
  if (!j.is_object()) {
    return false;
  }
  try {
    n.verified = j.at("verified").get<bool>();
    n.one_time_password = j.value("otp", std::string());
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

}  // namespace fogbank::sns::persist
