#pragma once
// SNS message signatures: one RSA-2048 key and its self-signed certificate, generated on first
// start and kept in the store, so the SigningCertURL of any message fogbank sent stays valid
// across restarts. Notifications and (un)subscribe confirmations are signed over AWS's canonical
// strings: SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fogbank::sns {

class Signer {
 public:
  /// A new key and certificate (CN=sns.amazonaws.com).
  static std::unique_ptr<Signer> generate();
  /// From PEM texts; nullptr when they do not parse or do not belong together.
  static std::unique_ptr<Signer> from_pem(std::string_view key_pem, std::string_view cert_pem);
  ~Signer();
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  /// Base64 PKCS#1 v1.5 signature of `data`; `version` "2" hashes with SHA-256, anything else SHA-1.
  [[nodiscard]] std::string sign(std::string_view data, std::string_view version) const;

  [[nodiscard]] const std::string& key_pem() const { return key_pem_; }
  [[nodiscard]] const std::string& certificate_pem() const { return cert_pem_; }
  /// 32 hex digits naming the certificate: /SimpleNotificationService-<id>.pem.
  [[nodiscard]] const std::string& certificate_id() const { return cert_id_; }
  [[nodiscard]] std::string certificate_path() const { return "/SimpleNotificationService-" + cert_id_ + ".pem"; }

 private:
  struct Key;
  Signer(std::unique_ptr<Key> key, std::string key_pem, std::string cert_pem, std::string cert_id);
  std::unique_ptr<Key> key_;
  std::string key_pem_;
  std::string cert_pem_;
  std::string cert_id_;
};

/// The string AWS signs for a Notification: "Message\n<m>\nMessageId\n<id>\n[Subject\n<s>\n]
/// Timestamp\n<t>\nTopicArn\n<arn>\nType\nNotification\n".
std::string notification_string_to_sign(std::string_view message, std::string_view message_id,
                                        const std::optional<std::string>& subject, std::string_view timestamp,
                                        std::string_view topic_arn);

/// The string AWS signs for SubscriptionConfirmation and UnsubscribeConfirmation: Message,
/// MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type, each "Name\nvalue\n".
std::string confirmation_string_to_sign(std::string_view type, std::string_view message, std::string_view message_id,
                                        std::string_view subscribe_url, std::string_view timestamp,
                                        std::string_view token, std::string_view topic_arn);

}  // namespace fogbank::sns
