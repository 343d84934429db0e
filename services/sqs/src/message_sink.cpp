#include "fogbank/sqs/message_sink.hpp"

#include "fogbank/protocol/aws_error.hpp"
#include "message_sink_impl.hpp"
#include "queue_engine.hpp"

namespace fogbank::sqs {

namespace {

/// arn:aws:sqs:<region>:<account>:<name> → (region, queue id); nullopt for anything else.
std::optional<std::pair<std::string, QueueId>> parse_queue_arn(std::string_view arn) {
  constexpr std::string_view prefix = "arn:aws:sqs:";
  if (arn.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  arn.remove_prefix(prefix.size());
  const auto region_end = arn.find(':');
  if (region_end == std::string_view::npos) {
    return std::nullopt;
  }
  const auto account_end = arn.find(':', region_end + 1);
  if (account_end == std::string_view::npos) {
    return std::nullopt;
  }
  std::string region(arn.substr(0, region_end));
  QueueId id{std::string(arn.substr(region_end + 1, account_end - region_end - 1)),
             std::string(arn.substr(account_end + 1))};
  if (region.empty() || id.account.empty() || id.name.empty() || id.name.find(':') != std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(std::move(region), std::move(id));
}

class EngineSink final : public MessageSink {
 public:
  explicit EngineSink(std::shared_ptr<QueueEngine> engine) : engine_(std::move(engine)) {}

  std::optional<QueueFacts> queue(std::string_view queue_arn) override {
    auto target = parse_queue_arn(queue_arn);
    if (!target) {
      return std::nullopt;
    }
    auto access = engine_->access(target->second);
    if (!access || access->arn != queue_arn) {  // the region is part of the queue's identity
      return std::nullopt;
    }
    try {
      auto summary = engine_->describe(target->second);
      return QueueFacts{summary.fifo, summary.content_based_dedup, access->policy};
    } catch (const protocol::AwsError&) {
      return std::nullopt;  // deleted in between
    }
  }

  SendOutcome send(std::string_view queue_arn, const ServiceMessage& message) override {
    SendOutcome out;
    auto target = parse_queue_arn(queue_arn);
    auto access = target ? engine_->access(target->second) : std::nullopt;
    if (!access || access->arn != queue_arn) {
      out.error_code = "AWS.SimpleQueueService.NonExistentQueue";
      out.error_message = "The specified queue does not exist.";
      return out;
    }
    SendRequest request;
    request.body = message.body;
    for (const auto& [name, a] : message.attributes) {
      MessageAttribute attribute;
      attribute.data_type = a.data_type;
      (attribute.is_binary() ? attribute.binary_value : attribute.string_value) = a.value;
      request.attributes.emplace(name, std::move(attribute));
    }
    request.group_id = message.group_id;
    request.dedup_id = message.dedup_id;
    request.sender_id = message.sender_id;
    try {
      auto sent = engine_->send(target->second, std::move(request));
      out.sent = true;
      out.message_id = std::move(sent.message_id);
      out.sequence_number = std::move(sent.sequence_number);
    } catch (const protocol::AwsError& e) {
      out.error_code = e.code;
      out.error_message = e.message;
    }
    return out;
  }

 private:
  std::shared_ptr<QueueEngine> engine_;
};

}  // namespace

std::shared_ptr<MessageSink> make_message_sink(std::shared_ptr<QueueEngine> engine) {
  return std::make_shared<EngineSink>(std::move(engine));
}

}  // namespace fogbank::sqs
