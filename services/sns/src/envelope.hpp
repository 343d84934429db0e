#pragma once
// The JSON documents SNS delivers (the body of an SQS message without raw delivery, of an HTTP
// POST, of an email-json mail), written exactly as AWS writes them: Jackson's pretty printer
// ("{\n  \"Type\" : \"Notification\",\n ...}"), keys in AWS's order, message attributes as
// compact one-line objects, escaping as Jackson escapes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model.hpp"

namespace fogbank::sns {

class Signer;

/// "2012-04-25T21:49:25.719Z".
std::string format_timestamp_ms(std::int64_t unix_ms);

/// What one published message looks like to every subscription (only the per-protocol message
/// text and the UnsubscribeURL differ between them).
struct PublishedMessage {
  std::string message_id;
  std::string topic_arn;
  std::string message;  ///< the Message as published (MessageStructure=json: the "default" text)
  /// MessageStructure=json: protocol → text ("sqs", "http", "email", ...).
  std::map<std::string, std::string> per_protocol;
  std::optional<std::string> subject;
  std::int64_t timestamp_ms = 0;
  MessageAttributes attributes;
  bool fifo = false;
  std::string group_id;         ///< FIFO topics; standard topics may carry one too (fair queues)
  std::string dedup_id;         ///< FIFO topics: explicit or content-based (SHA-256 of Message)
  std::string sequence_number;  ///< FIFO topics
  std::string signature_version = "1";
  std::string base_url;  ///< scheme://host of the Publish request

  /// The text a `protocol` subscriber receives.
  [[nodiscard]] const std::string& text_for(std::string_view protocol) const;
};

/// The Notification envelope for `subscription_arn`. `signature` is the base64 signature over
/// notification_string_to_sign(...) of `text`; FIFO notifications carry none (AWS signs only
/// standard topics' notifications), in which case it is ignored.
std::string notification_envelope(const PublishedMessage& m, std::string_view text, std::string_view signature,
                                  std::string_view cert_path, std::string_view subscription_arn);

/// The event a subscribed Lambda function is invoked with: {"Records":[{"EventSource":"aws:sns",
/// ..., "Sns":{...}}]}, where the notification's URLs are named SigningCertUrl/UnsubscribeUrl, a
/// missing Subject is null and MessageAttributes is always present.
std::string lambda_event(const PublishedMessage& m, std::string_view text, std::string_view signature,
                         std::string_view cert_path, std::string_view subscription_arn);

/// A SubscriptionConfirmation or UnsubscribeConfirmation as AWS sends it.
struct ControlMessage {
  std::string type;  ///< "SubscriptionConfirmation" | "UnsubscribeConfirmation"
  std::string message_id;
  std::string token;
  std::string topic_arn;
  std::string message;
  std::string subscribe_url;
  std::string timestamp;
  std::string signature_version = "1";
  std::string signature;
  std::string signing_cert_url;
};

/// Fills message, subscribe_url, timestamp and the signature of a control message.
ControlMessage make_control_message(const Signer& signer, std::string type, std::string topic_arn,
                                    std::string_view subscription_arn, std::string token, std::string_view base_url,
                                    std::int64_t now_ms, std::string signature_version);

std::string control_envelope(const ControlMessage& m);

}  // namespace fogbank::sns
