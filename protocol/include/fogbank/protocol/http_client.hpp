#pragma once
// Outbound HTTP for services (SNS's HTTP/HTTPS subscriptions): a request goes out and its answer
// comes back through a callback, so no thread waits on the network. The server implements it over
// Beast on its I/O threads; unit tests give services a fake.

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace fogbank::protocol {

struct OutboundRequest {
  std::string method = "POST";
  std::string url;  ///< http://host[:port]/path?query or https://...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{15000};  ///< connect + send + receive, all together
};

struct OutboundResponse {
  int status = 0;     ///< 0: no HTTP answer (bad URL, refused, timed out, TLS failure)
  std::string error;  ///< why there was no answer
  std::string body;   ///< the answer's body, capped at 64 KiB
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Sends `request`; `done` runs exactly once, on a server thread, and must not block.
  virtual void send(OutboundRequest request, std::function<void(OutboundResponse)> done) = 0;
};

}  // namespace fogbank::protocol
