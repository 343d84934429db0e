#pragma once
// The platform's outbound HTTP client (protocol::HttpClient) over Beast: one thread with its own
// io_context, so a slow or dead subscriber endpoint never occupies a thread that serves requests.

#include <memory>
#include <string>

#include "fogbank/protocol/http_client.hpp"

namespace fogbank::server {

struct OutboundOptions {
  bool verify_tls = true;     ///< check HTTPS endpoints' certificates (system CAs + `extra_ca`)
  std::string extra_ca;       ///< PEM file also trusted (fogbank's own CA), empty for none
};

class OutboundHttp final : public protocol::HttpClient {
 public:
  explicit OutboundHttp(const OutboundOptions& options);
  ~OutboundHttp() override;
  void send(protocol::OutboundRequest request, std::function<void(protocol::OutboundResponse)> done) override;
  /// Stops the thread; requests in flight are dropped without their callbacks. Idempotent. Called
  /// before the services that hold this client go away, so no callback runs into a dying one.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fogbank::server
