#pragma once
// AWS Security Token Service (Query protocol, API version 2011-06-15), on the modeled-service
// platform: its model (protocol/models/sts.json) decodes, validates and encodes; the operations
// the model has and the table lacks answer NotImplemented.

#include <memory>

#include "fogbank/protocol/platform.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/sts/credentials.hpp"

namespace fogbank::sts {

/// Creates the STS service. It issues temporary credentials through `credentials`.
std::shared_ptr<protocol::Service> make_sts_service(std::shared_ptr<CredentialStore> credentials);
std::shared_ptr<protocol::Service> make_sts_service(const protocol::Platform& platform,
                                                    std::shared_ptr<CredentialStore> credentials);

/// "2026-11-21T10:00:00Z" (the timestamp format of STS responses).
std::string iso8601(std::int64_t unix_seconds);

}  // namespace fogbank::sts
