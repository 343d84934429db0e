#pragma once
// Amazon SNS (sns/2010-03-31, AWS Query protocol): topics, subscriptions, publishing with
// synchronous, signed delivery to SQS queues, durable HTTP/HTTPS delivery with retries and
// dead-letter queues, filter policies, SMS settings, and recorded deliveries for the protocols
// that have no destination here (/_fogbank/sns/deliveries).

#include <memory>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/sns/topic_publisher.hpp"
#include "fogbank/sqs/message_sink.hpp"

namespace fogbank::storage {
class Store;
}

namespace fogbank::sns {

/// The service and the face it shows other services (S3 event notifications publish through it).
struct Sns {
  std::shared_ptr<protocol::Service> service;
  std::shared_ptr<TopicPublisher> publisher;
};

/// Creates SNS over the platform's store, clock, scheduler and outbound HTTP client; `queues`
/// receives deliveries to SQS subscriptions and dead-letter queues. Loads its state (and its
/// signing key) from the store and resumes the HTTP deliveries left in its outbox.
Sns make_sns(const protocol::Platform& platform, std::shared_ptr<sqs::MessageSink> queues);
/// make_sns(...).service.
std::shared_ptr<protocol::Service> make_sns_service(const protocol::Platform& platform,
                                                    std::shared_ptr<sqs::MessageSink> queues);
/// The service over `store` and `clock` (both must outlive it), for tests: no scheduler and no
/// HTTP client, so HTTP/HTTPS deliveries are only recorded, as failed.
std::shared_ptr<protocol::Service> make_sns_service(storage::Store& store, const protocol::Clock& clock,
                                                    std::shared_ptr<sqs::MessageSink> queues);

}  // namespace fogbank::sns
