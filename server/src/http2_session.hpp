#pragma once
// HTTP/2 on the API port (RFC 9113), through nghttp2's server session: "prior knowledge" h2c on
// the plain listener (the client preface is sniffed) and ALPN "h2" on the TLS one. Each stream
// goes through RequestHandler::begin() and the Exchange like an HTTP/1.1 request. nghttp2 itself
// stays inside http2_session.cpp.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_common.hpp"
#include "http_server.hpp"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace fogbank::server::h2 {

inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class Preface { kNo, kPartial, kYes };
/// Whether the first bytes of a connection are (so far) the HTTP/2 client preface.
Preface match_preface(std::string_view first_bytes) noexcept;

/// Makes the TLS listener offer ALPN "h2" and "http/1.1" (h2 preferred; no ALPN stays HTTP/1.1).
void offer_alpn(SSL_CTX* ctx);
/// True when the handshake on `ssl` chose "h2".
bool alpn_chose_h2(SSL* ssl);

/// The RequestHead of one stream from its header fields, pseudo-headers included, in arrival
/// order. nullopt when :method or :path is missing.
std::optional<protocol::RequestHead> request_head(const std::vector<std::pair<std::string, std::string>>& fields,
                                                  bool tls, const std::string& remote);

/// What a connection needs from the server around it.
struct Context {
  RequestHandler& handler;
  const ServerOptions& options;
  const std::atomic<bool>& stopping;
  SessionHandle& handle;
  bool tls = false;
  std::string remote;
  /// Waits for a deferred response; `interrupt` receives the wake that ends the wait early and
  /// the wait gives up (without a final poll) once `*abandoned` is set.
  std::function<boost::asio::awaitable<protocol::Response>(std::shared_ptr<protocol::PendingResponse>,
                                                           std::function<void()>& interrupt,
                                                           const bool* abandoned)>
      wait_deferred;
  /// One access-log line (method, target, info, status, start of the request).
  std::function<void(const std::string&, const std::string&, const protocol::RequestInfo*, int,
                     std::chrono::steady_clock::time_point)>
      log_access;
};

/// Serves an HTTP/2 connection until it ends; `buffer` holds bytes already read (the preface).
boost::asio::awaitable<void> serve(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer, Context ctx);
boost::asio::awaitable<void> serve(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream,
                                   boost::beast::flat_buffer& buffer, Context ctx);

}  // namespace fogbank::server::h2
