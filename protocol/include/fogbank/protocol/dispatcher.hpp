#pragma once
// The request pipeline between the server and the services: route, authenticate, dispatch,
// render errors. One Dispatcher serves every connection; it is immutable after setup and so
// safe to call from every server thread.
//
// Order, per request (as Ceph RGW's process_request and Alternator's handle_api_request):
//  1. pick the service (X-Amz-Target, credential scope, Action, S3 host/path) from the head;
//  2. parse the SigV4 claims; reject malformed or anonymous requests early;
//  3. streaming services: verify the signature now (the payload hash is a header) and stream the
//     body through the aws-chunked / SHA-256 decorators into the service's sink;
//     buffered services: read the body (capped), verify with its hash, call handle();
//  4. any AwsError becomes the service protocol's error response; anything else a 500.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fogbank/protocol/http.hpp"
#include "fogbank/protocol/service.hpp"
#include "fogbank/protocol/sigv4.hpp"

namespace fogbank::protocol {

enum class AuthMode { kEnforce, kOff };

struct DispatcherConfig {
  AuthMode auth = AuthMode::kEnforce;
  std::string default_region = "us-east-1";
  sigv4::Credential default_caller;  ///< who unsigned requests act as when auth is off
  std::uint64_t max_buffered_body = 10ull << 20;
  std::uint64_t max_streamed_body = 5ull << 30;  ///< S3's single-PUT limit
  std::function<std::int64_t()> clock;           ///< unix seconds; defaults to the system clock
  /// Called with (canonical request, string to sign) on every signature mismatch (debug log).
  std::function<void(std::string_view, std::string_view)> on_signature_mismatch;
};

/// What the access log reports about a request; filled in as the pipeline learns it.
struct RequestInfo {
  std::string request_id;
  std::string service;
  std::string operation;
};

/// The server's view of one request after its head was read.
struct Exchange {
  std::shared_ptr<RequestInfo> info;
  /// When set, answer this without reading the body (the server closes the connection if a
  /// body was announced and not read).
  std::unique_ptr<Response> immediate;
  /// Otherwise push the body here; its finish() produces the response (never throws).
  std::unique_ptr<BodySink> sink;
  std::uint64_t body_limit = 0;  ///< larger bodies are refused (413) by the server
};

class Dispatcher {
 public:
  Dispatcher(DispatcherConfig config, std::shared_ptr<const sigv4::CredentialLookup> keys);
  ~Dispatcher();

  void add(std::shared_ptr<Service> service);
  [[nodiscard]] const std::vector<std::shared_ptr<Service>>& services() const { return services_; }
  [[nodiscard]] std::shared_ptr<Service> find(std::string_view name) const;
  [[nodiscard]] const DispatcherConfig& config() const { return config_; }

  /// Starts one request. Never throws: failures become `immediate` error responses.
  [[nodiscard]] Exchange begin(RequestHead head) const;

  /// An error for requests that reach no service (unknown route) or fail below the service
  /// layer (bad framing), rendered the generic way.
  [[nodiscard]] static Response generic_error(int status, std::string_view code,
                                              std::string_view message, std::string_view request_id);

  /// New request id in the form the service family uses (S3: 16 upper-case alnum; others: UUID).
  [[nodiscard]] static std::string new_request_id(WireProtocol protocol);

  /// Per-request state shared by the two body paths (defined in dispatcher.cpp).
  struct Route;

 private:
  [[nodiscard]] std::shared_ptr<Service> route(const RequestHead& head, const sigv4::ParsedAuth& auth,
                                               bool& needs_body) const;
  DispatcherConfig config_;
  std::shared_ptr<const sigv4::CredentialLookup> keys_;
  std::vector<std::shared_ptr<Service>> services_;
};

/// Response headers every answer of a protocol family carries (request id and, for S3, x-amz-id-2).
void add_request_id_headers(Response& response, WireProtocol protocol, std::string_view request_id);

}  // namespace fogbank::protocol
