#pragma once
// Many keep-alive HTTP/1.1 connections driven from one thread with epoll, for the request/reply
// workloads (4 KiB PUT and GET).
//
// On a 2-core machine the load generator shares the CPU with the server it measures. A blocking
// thread per connection pays two context switches per request, which took about a quarter of
// the machine from the server at 15k requests/s; one event loop keeps the client's share small,
// as wrk does. Responses must be framed by Content-Length (chunked replies count as errors).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_connection.hpp"

namespace fogbank::bench {

class EventClient {
 public:
  using Clock = std::chrono::steady_clock;
  /// The bytes of request `iteration` on `connection` (head and body), or nullopt to stop that
  /// connection.
  using NextRequest = std::function<std::optional<std::string>(int connection, std::uint64_t iteration)>;
  /// A reply arrived (`sent` is when its request started going out).
  using OnReply = std::function<void(int connection, std::uint64_t iteration, Reply reply, Clock::time_point sent)>;
  /// A request failed at the transport (connection refused or closed mid-reply, bad framing); the
  /// connection is reopened for the next one. Returns false to stop that connection.
  using OnError = std::function<bool(int connection, const std::string& what)>;

  EventClient(std::string host, std::uint16_t port, int connections);
  ~EventClient();
  EventClient(const EventClient&) = delete;
  EventClient& operator=(const EventClient&) = delete;

  /// Runs until every connection has stopped.
  void run(const NextRequest& next, const OnReply& on_reply, const OnError& on_error);

  [[nodiscard]] std::uint64_t connects() const { return connects_; }

 private:
  struct Conn;
  bool start(Conn& c, const NextRequest& next);
  bool flush(Conn& c);
  bool open(Conn& c);
  void close(Conn& c);
  void watch(Conn& c, bool want_write);
  /// Parses as many complete replies as are buffered; 0 = need more, 1 = one done, -1 = error.
  int take_reply(Conn& c, Reply& reply, bool& close_after, std::string& error);

  std::string host_;
  std::uint16_t port_;
  int epoll_fd_ = -1;
  std::uint64_t connects_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
};

}  // namespace fogbank::bench
