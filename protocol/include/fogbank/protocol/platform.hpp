#pragma once
// What every service is built with: the store, the one clock and scheduler, and the credential
// lookup. Services are created from this by the one list in services/registry.

#include <memory>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/http_client.hpp"
#include "fogbank/protocol/sigv4.hpp"

namespace fogbank::storage {
class Store;
}

namespace fogbank::protocol {

struct Platform {
  storage::Store& store;
  Clock& clock;
  Scheduler& scheduler;
  std::shared_ptr<const sigv4::CredentialLookup> keys;
  /// Outbound HTTP (SNS HTTP/HTTPS subscriptions); null where nothing may leave the process.
  std::shared_ptr<HttpClient> http;
};

}  // namespace fogbank::protocol
