// Message signatures: AWS's canonical strings, signatures that verify with the published
// certificate, and the envelopes exactly as AWS lays them out.

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "envelope.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "signing.hpp"

namespace fogbank::sns {
namespace {

/// Verifies `signature_b64` over `data` with the certificate's public key, as a subscriber would.
bool verify(const std::string& cert_pem, const std::string& data, const std::string& signature_b64,
            const EVP_MD* md) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) {
    return false;
  }
  EVP_PKEY* key = X509_get_pubkey(cert);
  auto sig = protocol::base64_decode(signature_b64).value_or("");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  X509_free(cert);
  return ok;
}

class SnsSigningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { signer_ = Signer::generate().release(); }
  static void TearDownTestSuite() {
    delete signer_;
    signer_ = nullptr;
  }
  static Signer* signer_;
};

Signer* SnsSigningTest::signer_ = nullptr;

TEST(SnsCanonicalStrings, NotificationWithAndWithoutSubject) {
  EXPECT_EQ(notification_string_to_sign("hi", "id-1", std::nullopt, "2012-04-25T21:49:25.719Z", "arn:t"),
            "Message\nhi\nMessageId\nid-1\nTimestamp\n2012-04-25T21:49:25.719Z\nTopicArn\narn:t\nType\nNotification\n");
  EXPECT_EQ(notification_string_to_sign("hi", "id-1", std::string("S"), "T", "arn:t"),
            "Message\nhi\nMessageId\nid-1\nSubject\nS\nTimestamp\nT\nTopicArn\narn:t\nType\nNotification\n");
}

TEST(SnsCanonicalStrings, Confirmations) {
  EXPECT_EQ(confirmation_string_to_sign("SubscriptionConfirmation", "m", "id", "http://h/?x", "T", "tok", "arn:t"),
            "Message\nm\nMessageId\nid\nSubscribeURL\nhttp://h/?x\nTimestamp\nT\nToken\ntok\nTopicArn\narn:t\nType\n"
            "SubscriptionConfirmation\n");
}

TEST_F(SnsSigningTest, SignaturesVerifyWithTheCertificate) {
  const std::string data = notification_string_to_sign("hello", "id", std::nullopt, "T", "arn:t");
  EXPECT_TRUE(verify(signer_->certificate_pem(), data, signer_->sign(data, "1"), EVP_sha1()));
  EXPECT_TRUE(verify(signer_->certificate_pem(), data, signer_->sign(data, "2"), EVP_sha256()));
  EXPECT_FALSE(verify(signer_->certificate_pem(), data, signer_->sign(data, "2"), EVP_sha1()));
  EXPECT_FALSE(verify(signer_->certificate_pem(), data + "x", signer_->sign(data, "1"), EVP_sha1()));
}

TEST_F(SnsSigningTest, KeyRoundTripsThroughPem) {
  auto again = Signer::from_pem(signer_->key_pem(), signer_->certificate_pem());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->certificate_id(), signer_->certificate_id());
  EXPECT_EQ(again->certificate_id().size(), 32u);
  EXPECT_EQ(again->certificate_path(), "/SimpleNotificationService-" + signer_->certificate_id() + ".pem");
  auto other = Signer::generate();
  EXPECT_NE(other->certificate_id(), signer_->certificate_id());
  // A key with another key's certificate is refused.
  EXPECT_EQ(Signer::from_pem(other->key_pem(), signer_->certificate_pem()), nullptr);
  EXPECT_EQ(Signer::from_pem("junk", "junk"), nullptr);
}

TEST(SnsEnvelope, TimestampsHaveMillisecondsAndZ) {
  EXPECT_EQ(format_timestamp_ms(1335390565719), "2012-04-25T21:49:25.719Z");
  EXPECT_EQ(format_timestamp_ms(0), "1970-01-01T00:00:00.000Z");
}

TEST(SnsEnvelope, NotificationLayoutIsAws) {
  PublishedMessage m;
  m.message_id = "id-1";
  m.topic_arn = "arn:aws:sns:us-east-1:123456789012:t";
  m.message = "line1\nline2 \"q\" é";
  m.subject = "S";
  m.timestamp_ms = 1335390565719;
  m.base_url = "http://localhost:4566";
  m.attributes["b"] = {"Binary", std::string("\x02\x03\x04", 3)};
  m.attributes["n"] = {"Number", "1"};
  EXPECT_EQ(notification_envelope(m, m.message, "SIG", "/SimpleNotificationService-x.pem", "arn:sub"),
            "{\n"
            "  \"Type\" : \"Notification\",\n"
            "  \"MessageId\" : \"id-1\",\n"
            "  \"TopicArn\" : \"arn:aws:sns:us-east-1:123456789012:t\",\n"
            "  \"Subject\" : \"S\",\n"
            "  \"Message\" : \"line1\\nline2 \\\"q\\\" é\",\n"
            "  \"Timestamp\" : \"2012-04-25T21:49:25.719Z\",\n"
            "  \"SignatureVersion\" : \"1\",\n"
            "  \"Signature\" : \"SIG\",\n"
            "  \"SigningCertURL\" : \"http://localhost:4566/SimpleNotificationService-x.pem\",\n"
            "  \"UnsubscribeURL\" : \"http://localhost:4566/?Action=Unsubscribe&SubscriptionArn=arn:sub\",\n"
            "  \"MessageAttributes\" : {\n"
            "    \"b\" : {\"Type\":\"Binary\",\"Value\":\"AgME\"},\n"
            "    \"n\" : {\"Type\":\"Number\",\"Value\":\"1\"}\n"
            "  }\n"
            "}");
}

TEST(SnsEnvelope, FifoNotificationsCarrySequenceNumberAndNoSignature) {
  PublishedMessage m;
  m.message_id = "id";
  m.topic_arn = "arn:t.fifo";
  m.message = "x";
  m.fifo = true;
  m.sequence_number = "10000000000000003000";
  m.timestamp_ms = 0;
  m.base_url = "https://h";
  EXPECT_EQ(notification_envelope(m, m.message, "ignored", "/c.pem", "arn:s"),
            "{\n"
            "  \"Type\" : \"Notification\",\n"
            "  \"MessageId\" : \"id\",\n"
            "  \"SequenceNumber\" : \"10000000000000003000\",\n"
            "  \"TopicArn\" : \"arn:t.fifo\",\n"
            "  \"Message\" : \"x\",\n"
            "  \"Timestamp\" : \"1970-01-01T00:00:00.000Z\",\n"
            "  \"UnsubscribeURL\" : \"https://h/?Action=Unsubscribe&SubscriptionArn=arn:s\"\n"
            "}");
}

TEST_F(SnsSigningTest, ControlMessagesAreSignedOverTheirCanonicalString) {
  auto m = make_control_message(*signer_, "SubscriptionConfirmation", "arn:aws:sns:us-east-1:1:t", "arn:sub", "tok",
                                "http://h", 0, "2");
  EXPECT_EQ(m.message,
            "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:1:t.\nTo confirm the subscription, visit "
            "the SubscribeURL included in this message.");
  EXPECT_EQ(m.subscribe_url, "http://h/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:1:t&Token=tok");
  EXPECT_EQ(m.signing_cert_url, "http://h" + signer_->certificate_path());
  auto data = confirmation_string_to_sign(m.type, m.message, m.message_id, m.subscribe_url, m.timestamp, m.token,
                                          m.topic_arn);
  EXPECT_TRUE(verify(signer_->certificate_pem(), data, m.signature, EVP_sha256()));
  auto doc = control_envelope(m);
  EXPECT_EQ(doc.find("{\n  \"Type\" : \"SubscriptionConfirmation\",\n  \"MessageId\" : "), 0u);
  EXPECT_LT(doc.find("\"Token\" : \"tok\""), doc.find("\"TopicArn\""));
  EXPECT_LT(doc.find("\"SubscribeURL\""), doc.find("\"Timestamp\""));
}

}  // namespace
}  // namespace fogbank::sns
