#pragma once
// The SQS operation table. Every handler reads the decoded input value and writes the output value
// (the platform's neutral form of the model's shapes); the platform's codecs decode and encode both
// wire protocols, so the two share one implementation and one set of checks.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "queue_engine.hpp"

namespace fogbank::sqs {

/// One operation call: its input, its output and what the handler needs to know about the caller.
/// Self-contained (no reference to the RequestContext), so a long poll can run it again later.
struct Call {
  const nlohmann::json& in;
  QueueEngine& engine;
  std::string account;   ///< the caller's account
  std::string region;
  std::string base_url;  ///< scheme://host[:port] the client used, for queue URLs
  std::string path;      ///< request path: legacy clients post to the queue URL itself
  std::string sender_id;
  std::string caller_arn;  ///< for resource policies naming a user or role
  nlohmann::json out = nlohmann::json::object();
  /// ReceiveMessage: how long to wait for messages when none were available (0: answer now), and
  /// on which queue.
  std::int64_t wait_seconds = 0;
  QueueId wait_queue;
};

using Handler = void (*)(Call&);

/// Operation name ("SendMessage") → handler, for all 23 operations of sqs/2012-11-05.
const std::map<std::string, Handler, std::less<>>& operations();

}  // namespace fogbank::sqs
