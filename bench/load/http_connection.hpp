#pragma once
// A minimal blocking HTTP/1.1 client connection for the load tool.
//
// One object is one persistent keep-alive TCP connection, used by one thread. Requests are
// written whole (head + body) or as a head followed by streamed body pieces; responses are read
// with Content-Length or chunked framing, their body either kept or only counted (large GETs
// stay at one fixed buffer of memory). If the server closes the connection (or asks to), the
// next request reconnects transparently; the number of reconnects is reported so a benchmark can
// tell keep-alive was really in use. Errors throw std::runtime_error.

#include <cstdint>
#include <string>
#include <string_view>

#include "fogbank/protocol/http.hpp"

namespace fogbank::bench {

struct Reply {
  int status = 0;
  std::string body;             ///< empty when the body was discarded
  std::uint64_t body_bytes = 0; ///< bytes of body received (kept or not)
};

/// The request line and headers of `head`, ending with the blank line.
std::string head_bytes(const protocol::RequestHead& head);
/// head_bytes(head) followed by `body`: the whole request as it goes on the wire.
std::string request_bytes(const protocol::RequestHead& head, std::string_view body);

class HttpConnection {
 public:
  HttpConnection(std::string host, std::uint16_t port);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  /// "host:port", the value for the Host header (and therefore what gets signed).
  [[nodiscard]] const std::string& authority() const { return authority_; }

  /// Sends head (which must carry Content-Length if there is a body) and body, reads the reply.
  Reply round_trip(const protocol::RequestHead& head, std::string_view body, bool keep_body = true);

  /// Streaming: send_head(), then send_body() any number of times, then read_reply().
  void send_head(const protocol::RequestHead& head);
  void send_body(std::string_view piece);
  Reply read_reply(bool keep_body = true);

  [[nodiscard]] std::uint64_t connects() const { return connects_; }

 private:
  void ensure_connected();
  void close();
  void send_all(std::string_view data);
  /// Reads more bytes into in_; false on orderly EOF.
  bool fill();
  /// Takes up to n buffered-or-received body bytes, keeping them in `keep` if non-null.
  void consume_body(std::uint64_t n, std::string* keep);
  std::string read_line();

  std::string host_;
  std::uint16_t port_;
  std::string authority_;
  int fd_ = -1;
  std::uint64_t connects_ = 0;
  std::string in_;         // received, not yet consumed bytes start at in_pos_
  std::size_t in_pos_ = 0;
  std::string scratch_;    // recv buffer for discarded bodies
};

}  // namespace fogbank::bench
