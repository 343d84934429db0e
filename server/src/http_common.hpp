#pragma once
// What the HTTP/1.1 and HTTP/2 sessions share: the graceful-shutdown handle of a connection and
// the responses the edge itself raises. Internal to fogbank_server.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "fogbank/protocol/dispatcher.hpp"

namespace fogbank::server {

// A session's handle for graceful shutdown: idle sessions are closed at once, busy ones finish
// their current request. Only touched on the session's strand.
struct SessionHandle {
  boost::asio::any_io_executor strand;
  boost::asio::ip::tcp::socket* socket = nullptr;
  bool idle = true;
  bool alive = true;
  /// Set while the session waits for a deferred response (long poll): ends the wait early.
  std::function<void()> interrupt;
};

/// Scripts and forms still work in a sandboxed page; only its origin becomes opaque.
inline constexpr const char* kNavigationSandbox =
    "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads";

/// Sec-Fetch-Dest values of a page the browser will render as a document.
bool is_navigation(std::string_view dest);

/// The Date header, formatted once per second per thread.
std::string http_date();

protocol::Response simple(int status, std::string_view code, std::string_view message);
/// Errors raised after the head was read are the request's own: rendered in its protocol,
/// with its request id.
protocol::Response request_error(const protocol::Exchange& ex, int status, std::string_view code,
                                 std::string_view message);
protocol::Response too_large(const protocol::Exchange& ex);
protocol::Response incomplete_body(const protocol::Exchange& ex);
protocol::Response request_timeout(const protocol::Exchange& ex);
/// finish() promises not to throw; if it does anyway, the request fails with a 500 in its own
/// protocol and the connection lives on.
protocol::Response finish_body(protocol::BodySink& sink, const protocol::Exchange& ex);

/// What a request's completion hook (RequestInfo::on_complete) is told about its response, read
/// before the write moves the body out; empty when the request has no hook.
struct PendingCompletion {
  protocol::CompletedRequest done;
  std::string error_body;
};
PendingCompletion prepare_completion(const protocol::RequestInfo* info, const protocol::Response& r, bool head_only);
/// Calls the hook once the response was sent. Never throws.
void report_completion(const protocol::RequestInfo* info, PendingCompletion& pending,
                       std::chrono::steady_clock::time_point started);

/// Response header fields HTTP/2 forbids (RFC 9113 8.2.2); HTTP/1.1 sets its own.
bool is_connection_specific(std::string_view lower_name);

}  // namespace fogbank::server
