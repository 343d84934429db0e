#include "fogbank/sns/sns_service.hpp"

#include "admin.hpp"
#include "arn.hpp"
#include "engine.hpp"
#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/modeled_service.hpp"
#include "fogbank/protocol/uri.hpp"

namespace fogbank::sns {

namespace {

using protocol::RequestContext;
using protocol::RequestHead;

/// Unsigned: no Authorization header and no presigned query credentials.
bool unsigned_request(const RequestHead& head) {
  if (head.headers.has("authorization")) {
    return false;
  }
  auto params = protocol::parse_query_string(head.query);
  return !params || (protocol::find_param(*params, "X-Amz-Credential") == nullptr &&
                     protocol::find_param(*params, "X-Amz-Signature") == nullptr);
}

Caller caller_of(const RequestContext& ctx) {
  Caller c;
  c.account = ctx.account_id;
  c.region = ctx.region;
  c.arn = ctx.caller.arn.empty() && !c.account.empty() ? "arn:aws:iam::" + c.account + ":root" : ctx.caller.arn;
  auto host = ctx.head.headers.get("host").value_or("localhost");
  c.base_url = std::string(ctx.head.tls ? "https://" : "http://") + std::string(host);
  c.anonymous = unsigned_request(ctx.head);
  c.now_ms = ctx.now_ms;
  return c;
}

using Op = Value (SnsEngine::*)(const Value&, const Caller&);

protocol::ModeledServiceSpec spec(const std::shared_ptr<SnsEngine>& engine) {
  protocol::ModeledServiceSpec s;
  s.name = "sns";
  s.model = "sns";
  // SNS words its own parameter errors ("Invalid parameter: X Reason: ..."); the handlers check.
  s.validate = false;
  s.validation.code = "ValidationError";
  const std::pair<const char*, Op> table[] = {
      {"CreateTopic", &SnsEngine::create_topic},
      {"DeleteTopic", &SnsEngine::delete_topic},
      {"ListTopics", &SnsEngine::list_topics},
      {"GetTopicAttributes", &SnsEngine::get_topic_attributes},
      {"SetTopicAttributes", &SnsEngine::set_topic_attributes},
      {"AddPermission", &SnsEngine::add_permission},
      {"RemovePermission", &SnsEngine::remove_permission},
      {"TagResource", &SnsEngine::tag_resource},
      {"UntagResource", &SnsEngine::untag_resource},
      {"ListTagsForResource", &SnsEngine::list_tags_for_resource},
      {"GetDataProtectionPolicy", &SnsEngine::get_data_protection_policy},
      {"PutDataProtectionPolicy", &SnsEngine::put_data_protection_policy},
      {"Subscribe", &SnsEngine::subscribe},
      {"ConfirmSubscription", &SnsEngine::confirm_subscription},
      {"Unsubscribe", &SnsEngine::unsubscribe},
      {"ListSubscriptions", &SnsEngine::list_subscriptions},
      {"ListSubscriptionsByTopic", &SnsEngine::list_subscriptions_by_topic},
      {"GetSubscriptionAttributes", &SnsEngine::get_subscription_attributes},
      {"SetSubscriptionAttributes", &SnsEngine::set_subscription_attributes},
      {"Publish", &SnsEngine::publish},
      {"PublishBatch", &SnsEngine::publish_batch},
      {"SetSMSAttributes", &SnsEngine::set_sms_attributes},
      {"GetSMSAttributes", &SnsEngine::get_sms_attributes},
      {"CheckIfPhoneNumberIsOptedOut", &SnsEngine::check_if_phone_number_is_opted_out},
      {"ListPhoneNumbersOptedOut", &SnsEngine::list_phone_numbers_opted_out},
      {"OptInPhoneNumber", &SnsEngine::opt_in_phone_number},
      {"GetSMSSandboxAccountStatus", &SnsEngine::get_sms_sandbox_account_status},
      {"ListOriginationNumbers", &SnsEngine::list_origination_numbers},
      {"CreateSMSSandboxPhoneNumber", &SnsEngine::create_sms_sandbox_phone_number},
      {"VerifySMSSandboxPhoneNumber", &SnsEngine::verify_sms_sandbox_phone_number},
      {"ListSMSSandboxPhoneNumbers", &SnsEngine::list_sms_sandbox_phone_numbers},
      {"DeleteSMSSandboxPhoneNumber", &SnsEngine::delete_sms_sandbox_phone_number},
  };
  for (const auto& [name, op] : table) {
    s.operations.emplace(name, [engine, op = op](Value in, protocol::Call& call) -> Value {
      Caller c = caller_of(call.ctx);
      if (!c.anonymous) {
        engine->remember_base_url(c.base_url);
      }
      return ((*engine).*op)(in, c);
    });
  }
  return s;
}

class SnsService final : public protocol::ModeledService {
 public:
  explicit SnsService(std::shared_ptr<SnsEngine> engine) : ModeledService(spec(engine)), engine_(std::move(engine)) {}

  /// The signing certificate's URL carries no routing hint of its own.
  [[nodiscard]] bool claims_unrouted(const RequestHead& head) const override { return certificate_request(head); }

  /// SubscribeURL and UnsubscribeURL are opened by browsers and mail clients, unsigned, as on AWS;
  /// so is the signing certificate.
  [[nodiscard]] bool accepts_anonymous(const RequestHead& head) const override {
    if (certificate_request(head)) {
      return true;
    }
    auto params = protocol::parse_query_string(head.query);
    const std::string* action = params ? protocol::find_param(*params, "Action") : nullptr;
    return action != nullptr && (*action == "ConfirmSubscription" || *action == "Unsubscribe");
  }

  [[nodiscard]] protocol::Response handle(RequestContext& ctx, std::string body) override {
    if (certificate_request(ctx.head)) {
      return protocol::Response(200, engine_->signer().certificate_pem(), "application/x-pem-file");
    }
    return ModeledService::handle(ctx, std::move(body));
  }

  [[nodiscard]] std::optional<protocol::Response> admin(const RequestHead& head, std::string_view body) override {
    return sns::admin(*engine_, head, body);
  }

  void reset() override { engine_->reset(); }

 private:
  [[nodiscard]] bool certificate_request(const RequestHead& head) const {
    return head.method == "GET" && head.path == engine_->signer().certificate_path();
  }

  std::shared_ptr<SnsEngine> engine_;
};

/// Other services' publishes: delivered like a client's Publish by the topic's owner (the topic's
/// policy towards the service principal is not evaluated yet).
class Publisher final : public TopicPublisher {
 public:
  explicit Publisher(std::shared_ptr<SnsEngine> engine) : engine_(std::move(engine)) {}

  std::optional<TopicFacts> topic(std::string_view topic_arn) override {
    auto info = engine_->topic_info(std::string(topic_arn));
    if (!info) {
      return std::nullopt;
    }
    return TopicFacts{info->fifo, info->owner, info->policy};
  }

  PublishOutcome publish(const ServicePublish& message) override {
    PublishOutcome out;
    auto info = engine_->topic_info(message.topic_arn);
    auto ref = split_subscription_arn(message.topic_arn + ":x");
    if (!info || !ref) {
      out.error_code = "NotFound";
      out.error_message = "Topic does not exist";
      return out;
    }
    Value in{{"TopicArn", message.topic_arn}, {"Message", message.message}};
    if (!message.subject.empty()) {
      in["Subject"] = message.subject;
    }
    if (!message.string_attributes.empty()) {
      Value attributes = Value::object();
      for (const auto& [name, value] : message.string_attributes) {
        attributes[name] = Value{{"DataType", "String"}, {"StringValue", value}};
      }
      in["MessageAttributes"] = std::move(attributes);
    }
    if (!message.group_id.empty()) {
      in["MessageGroupId"] = message.group_id;
    }
    if (!message.dedup_id.empty()) {
      in["MessageDeduplicationId"] = message.dedup_id;
    }
    Caller c;
    c.account = info->owner;
    c.region = ref->topic.region;
    c.arn = "arn:aws:iam::" + info->owner + ":root";
    c.base_url = engine_->base_url();
    c.now_ms = engine_->now_ms();
    try {
      Value result = engine_->publish(in, c);
      out.published = true;
      out.message_id = result.value("MessageId", std::string());
    } catch (const protocol::AwsError& e) {
      out.error_code = e.code;
      out.error_message = e.message;
    }
    return out;
  }

 private:
  std::shared_ptr<SnsEngine> engine_;
};

Sns make(storage::Store& store, const protocol::Clock& clock, std::shared_ptr<sqs::MessageSink> queues,
         Transport transport) {
  auto engine = std::make_shared<SnsEngine>(store, [&clock] { return clock.now_ms(); }, std::move(queues),
                                            std::move(transport));
  engine->load();
  return {std::make_shared<SnsService>(engine), std::make_shared<Publisher>(engine)};
}

}  // namespace

Sns make_sns(const protocol::Platform& platform, std::shared_ptr<sqs::MessageSink> queues) {
  return make(platform.store, platform.clock, std::move(queues),
              Transport{scheduler_executor(platform.scheduler), platform.http, OutboxLimits{}});
}

std::shared_ptr<protocol::Service> make_sns_service(const protocol::Platform& platform,
                                                    std::shared_ptr<sqs::MessageSink> queues) {
  return make_sns(platform, std::move(queues)).service;
}

std::shared_ptr<protocol::Service> make_sns_service(storage::Store& store, const protocol::Clock& clock,
                                                    std::shared_ptr<sqs::MessageSink> queues) {
  return make(store, clock, std::move(queues), {}).service;
}

}  // namespace fogbank::sns
