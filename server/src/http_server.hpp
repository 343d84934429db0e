#pragma once
// The network edge, behind a Beast-free interface (pimpl, like Ceph's rgw_asio_frontend.h).
//
// One io_context runs on `io_threads` threads; each connection lives on its own strand and is
// served by one C++20 coroutine: sniff TLS, read a request head, hand it to a RequestHandler,
// stream the body into the returned sink, write the response (streamed when it has a producer),
// repeat while keep-alive holds. A connection that opens with the HTTP/2 preface, or chose "h2"
// by ALPN, is served by http2_session.cpp instead: one Exchange per stream, same handler.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/dispatcher.hpp"
#include "tls_files.hpp"

namespace fogbank::server {

/// Turns a request head into an Exchange (immediate response or body sink). Thread-safe.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  [[nodiscard]] virtual protocol::Exchange begin(protocol::RequestHead head) = 0;
};

struct ServerOptions {
  unsigned io_threads = 2;
  std::uint32_t header_limit_bytes = 64 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds read_timeout{60};
  /// Connections open at once over every listener; beyond it new ones are closed as accepted.
  /// 0 = unlimited.
  std::uint32_t max_connections = 10000;
  /// A request body slower than this (bytes/s, averaged over each window) is cut off with
  /// RequestTimeout: read_timeout alone never ends a body trickled a byte at a time. 0 = off.
  std::uint64_t min_body_rate = 1024;
  std::chrono::seconds min_body_rate_window{60};
  std::optional<TlsFiles> tls;        ///< HTTPS on the API port when set
  std::atomic<bool>* access_log = nullptr;
  /// Required: deferred responses (long polls) end at deadlines on its Clock, through its timers.
  protocol::Scheduler* scheduler = nullptr;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  /// Binds host:port (port 0 = any) and serves `handler` there; returns the bound port.
  /// `tls` allows HTTPS (sniffed per connection) on this listener. Throws on bind failure.
  std::uint16_t listen(const std::string& host, std::uint16_t port, RequestHandler& handler, bool tls);
  /// Catches SIGINT/SIGTERM from now on (delivered once run() starts) and turns them into stop().
  /// Call before announcing readiness, so an early signal still shuts down gracefully.
  void install_signal_handlers();
  /// Runs the threads until stop().
  void run();
  /// Thread-safe graceful stop: close listeners, let busy requests finish (bounded), stop.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fogbank::server
