// fogbank's own SNS endpoints under /_fogbank/sns/: what was delivered where (the deliveries that
// have no real destination, and every HTTP attempt), a phone's STOP reply, and the pending
// subscriptions with the URL that confirms them (an email subscription cannot be confirmed from a
// mailbox that does not exist).

#include "admin.hpp"

#include <regex>

#include "fogbank/protocol/uri.hpp"

namespace fogbank::sns {

namespace {

using protocol::RequestHead;
using protocol::Response;

Response json_response(int status, const nlohmann::json& body) {
  return Response(status, body.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json");
}

Response error(int status, const std::string& message) { return json_response(status, {{"error", message}}); }

std::optional<Response> wrong_method(const RequestHead& head, std::string_view allow) {
  auto r = error(405, head.method + " is not allowed on " + head.path + "; use " + std::string(allow));
  r.headers.set("Allow", std::string(allow));
  return r;
}

bool e164(const std::string& phone) {
  static const std::regex kE164(R"(\+[1-9]\d{1,14})");
  return std::regex_match(phone, kE164);
}

Response deliveries(SnsEngine& engine, const RequestHead& head) {
  if (head.method == "DELETE") {
    engine.deliveries().clear();
    return json_response(200, {{"cleared", true}});
  }
  auto params = protocol::parse_query_string(head.query);
  if (!params) {
    return error(400, "malformed query string");
  }
  DeliveryFilter filter;
  for (auto [name, value] : *params) {
    // A '+' in a query string decodes to a space: "?phone=+1555..." means the E.164 number.
    if (name == "phone" && value.starts_with(' ')) {
      value[0] = '+';
    }
    if (name == "topic") {
      filter.topic = value;
    } else if (name == "subscription") {
      filter.subscription = value;
    } else if (name == "protocol") {
      filter.protocol = value;
    } else if (name == "phone") {
      filter.phone = value;
    } else if (name == "endpoint") {
      filter.endpoint = value;
    } else {
      return error(400, "unknown filter " + name + "; use topic, subscription, protocol, phone or endpoint");
    }
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : engine.deliveries().list(filter)) {
    list.push_back(r.to_json());
  }
  nlohmann::json out = {{"deliveries", std::move(list)}};
  if (Outbox* outbox = engine.outbox()) {
    auto st = outbox->stats();
    out["outbox"] = {{"pending", outbox->size()},
                     {"attempts", st.attempts},
                     {"delivered", st.delivered},
                     {"failed", st.failed},
                     {"deadLettered", st.dead_lettered}};
  }
  return json_response(200, out);
}

Response opt_out(SnsEngine& engine, std::string_view body) {
  auto j = nlohmann::json::parse(body.empty() ? std::string_view("{}") : body, nullptr, false);
  const char* usage = "want {\"phoneNumber\": \"+15555550123\"} (E.164), optionally with \"accountId\"";
  if (!j.is_object() || !j.contains("phoneNumber") || !j["phoneNumber"].is_string() ||
      (j.contains("accountId") && !j["accountId"].is_string())) {
    return error(400, usage);
  }
  const std::string phone = j["phoneNumber"].get<std::string>();
  if (!e164(phone)) {
    return error(400, "phoneNumber " + phone + " is not an E.164 number; " + usage);
  }
  // A STOP reply opts the number out of the account that texted it; without an account, of every
  // account fogbank knows (and the default one).
  std::set<std::string> accounts;
  if (j.contains("accountId")) {
    static const std::regex kAccount(R"(\d{12})");
    const std::string account = j["accountId"].get<std::string>();
    if (!std::regex_match(account, kAccount)) {
      return error(400, "accountId must be 12 digits");
    }
    accounts.insert(account);
  } else {
    accounts = engine.accounts();
    accounts.insert("000000000000");
  }
  for (const auto& account : accounts) {
    engine.opt_out(account, phone);
  }
  return json_response(200, {{"phoneNumber", phone}, {"optedOut", true}, {"accounts", accounts}});
}

Response pending(SnsEngine& engine, const RequestHead& head) {
  auto host = head.headers.get("host").value_or("localhost");
  const std::string base = std::string(head.tls ? "https://" : "http://") + std::string(host);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : engine.pending_subscriptions()) {
    list.push_back({{"SubscriptionArn", s.arn},
                    {"TopicArn", s.topic_arn},
                    {"Protocol", s.protocol},
                    {"Endpoint", s.endpoint},
                    {"Owner", s.owner},
                    {"Token", s.token},
                    {"SubscribeURL", base + "/?Action=ConfirmSubscription&TopicArn=" + s.topic_arn + "&Token=" + s.token}});
  }
  return json_response(200, {{"subscriptions", std::move(list)}});
}

}  // namespace

std::optional<Response> admin(SnsEngine& engine, const RequestHead& head, std::string_view body) {
  std::string_view path = head.path;
  if (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (path == "/_fogbank/sns/deliveries") {
    if (head.method != "GET" && head.method != "DELETE") {
      return wrong_method(head, "GET, DELETE");
    }
    return deliveries(engine, head);
  }
  if (path == "/_fogbank/sns/opt-out") {
    if (head.method != "POST") {
      return wrong_method(head, "POST");
    }
    return opt_out(engine, body);
  }
  if (path == "/_fogbank/sns/pending-subscriptions") {
    if (head.method != "GET") {
      return wrong_method(head, "GET");
    }
    return pending(engine, head);
  }
  return std::nullopt;
}

}  // namespace fogbank::sns
