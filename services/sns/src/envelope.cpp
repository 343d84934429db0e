#include "envelope.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "fogbank/protocol/crypto.hpp"
#include "json_doc.hpp"
#include "signing.hpp"

namespace fogbank::sns {

std::string format_timestamp_ms(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

const std::string& PublishedMessage::text_for(std::string_view protocol) const {
  auto it = per_protocol.find(std::string(protocol));
  return it != per_protocol.end() ? it->second : message;
}

namespace {

/// Jackson's default pretty printer: two-space indent, " : " between name and value.
class Pretty {
 public:
  Pretty() { out_ = "{"; }
  void field(std::string_view name, std::string_view value) {
    open(name);
    jsondoc::append_quoted(out_, value);
  }
  void open(std::string_view name) {
    out_ += first_ ? "\n  " : ",\n  ";
    first_ = false;
    jsondoc::append_quoted(out_, name);
    out_ += " : ";
  }
  std::string& raw() { return out_; }
  std::string finish() {
    out_ += "\n}";
    return std::move(out_);
  }

 private:
  std::string out_;
  bool first_ = true;
};

}  // namespace

std::string notification_envelope(const PublishedMessage& m, std::string_view text, std::string_view signature,
                                  std::string_view cert_path, std::string_view subscription_arn) {
  Pretty doc;
  doc.field("Type", "Notification");
  doc.field("MessageId", m.message_id);
  if (m.fifo) {
    doc.field("SequenceNumber", m.sequence_number);
  }
  doc.field("TopicArn", m.topic_arn);
  if (m.subject) {
    doc.field("Subject", *m.subject);
  }
  doc.field("Message", text);
  doc.field("Timestamp", format_timestamp_ms(m.timestamp_ms));
  if (!m.fifo) {
    doc.field("SignatureVersion", m.signature_version);
    doc.field("Signature", signature);
    doc.field("SigningCertURL", m.base_url + std::string(cert_path));
  }
  doc.field("UnsubscribeURL", m.base_url + "/?Action=Unsubscribe&SubscriptionArn=" + std::string(subscription_arn));
  if (!m.attributes.empty()) {
    doc.open("MessageAttributes");
    std::string& out = doc.raw();
    out += "{";
    bool first = true;
    for (const auto& [name, a] : m.attributes) {
      out += first ? "\n    " : ",\n    ";
      first = false;
      jsondoc::append_quoted(out, name);
      out += " : {\"Type\":";
      jsondoc::append_quoted(out, a.type);
      out += ",\"Value\":";
      jsondoc::append_quoted(out, a.binary() ? protocol::base64_encode(a.value) : a.value);
      out += "}";
    }
    out += "\n  }";
  }
  return doc.finish();
}

std::string lambda_event(const PublishedMessage& m, std::string_view text, std::string_view signature,
                         std::string_view cert_path, std::string_view subscription_arn) {
  using Ordered = nlohmann::ordered_json;
  Ordered attributes = Ordered::object();
  for (const auto& [name, a] : m.attributes) {
    attributes[name] = Ordered{{"Type", a.type}, {"Value", a.binary() ? protocol::base64_encode(a.value) : a.value}};
  }
  Ordered sns;
  sns["Type"] = "Notification";
  sns["MessageId"] = m.message_id;
  sns["TopicArn"] = m.topic_arn;
  sns["Subject"] = m.subject ? Ordered(*m.subject) : Ordered(nullptr);
  sns["Message"] = std::string(text);
  sns["Timestamp"] = format_timestamp_ms(m.timestamp_ms);
  sns["SignatureVersion"] = m.signature_version;
  sns["Signature"] = std::string(signature);
  sns["SigningCertUrl"] = m.base_url + std::string(cert_path);
  sns["UnsubscribeUrl"] = m.base_url + "/?Action=Unsubscribe&SubscriptionArn=" + std::string(subscription_arn);
  sns["MessageAttributes"] = std::move(attributes);
  Ordered record;
  record["EventSource"] = "aws:sns";
  record["EventVersion"] = "1.0";
  record["EventSubscriptionArn"] = std::string(subscription_arn);
  record["Sns"] = std::move(sns);
  Ordered event;
  event["Records"] = Ordered::array({std::move(record)});
  return event.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

ControlMessage make_control_message(const Signer& signer, std::string type, std::string topic_arn,
                                    std::string_view subscription_arn, std::string token, std::string_view base_url,
                                    std::int64_t now_ms, std::string signature_version) {
  ControlMessage m;
  m.type = std::move(type);
  m.message_id = protocol::random_uuid(protocol::Randomness::kIdentifier);
  m.token = std::move(token);
  m.topic_arn = std::move(topic_arn);
  if (m.type == "SubscriptionConfirmation") {
    m.message = "You have chosen to subscribe to the topic " + m.topic_arn +
                ".\nTo confirm the subscription, visit the SubscribeURL included in this message.";
  } else {
    m.message = "You have chosen to deactivate subscription " + std::string(subscription_arn) +
                ".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this "
                "message.";
  }
  m.subscribe_url = std::string(base_url) + "/?Action=ConfirmSubscription&TopicArn=" + m.topic_arn + "&Token=" + m.token;
  m.timestamp = format_timestamp_ms(now_ms);
  m.signature_version = std::move(signature_version);
  m.signature = signer.sign(confirmation_string_to_sign(m.type, m.message, m.message_id, m.subscribe_url, m.timestamp,
                                                        m.token, m.topic_arn),
                            m.signature_version);
  m.signing_cert_url = std::string(base_url) + signer.certificate_path();
  return m;
}

std::string control_envelope(const ControlMessage& m) {
  Pretty doc;
  doc.field("Type", m.type);
  doc.field("MessageId", m.message_id);
  doc.field("Token", m.token);
  doc.field("TopicArn", m.topic_arn);
  doc.field("Message", m.message);
  doc.field("SubscribeURL", m.subscribe_url);
  doc.field("Timestamp", m.timestamp);
  doc.field("SignatureVersion", m.signature_version);
  doc.field("Signature", m.signature);
  doc.field("SigningCertURL", m.signing_cert_url);
  return doc.finish();
}

}  // namespace fogbank::sns
