#pragma once
// The one list of services the API port serves. Adding a service = a folder under services/ and
// one line in registry.cpp.

#include <memory>
#include <vector>

#include "fogbank/kinesis/kinesis_service.hpp"
#include "fogbank/s3/s3_service.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/protocol/service.hpp"

namespace fogbank::sts {
class CredentialStore;
}

namespace fogbank::services {

/// What the server's configuration sets in services (flags and environment variables).
struct ServiceOptions {
  kinesis::KinesisOptions kinesis;
  s3::S3Options s3;
};

/// Creates every service over `platform` (which must outlive them). `credentials` is STS's store
/// (the same object as platform.keys), through which STS issues temporary credentials.
std::vector<std::shared_ptr<protocol::Service>> make_all(const protocol::Platform& platform,
                                                         std::shared_ptr<sts::CredentialStore> credentials,
                                                         const ServiceOptions& options = {});

}  // namespace fogbank::services
