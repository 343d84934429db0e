#pragma once
// /_fogbank/sns/...: GET|DELETE deliveries, POST opt-out, GET pending-subscriptions.

#include <optional>
#include <string_view>

#include "engine.hpp"
#include "fogbank/protocol/http.hpp"

namespace fogbank::sns {

/// The answer to an SNS admin request, or nullopt when `head.path` is none of SNS's endpoints.
std::optional<protocol::Response> admin(SnsEngine& engine, const protocol::RequestHead& head, std::string_view body);

}  // namespace fogbank::sns
