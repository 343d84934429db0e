#include "http_connection.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace fogbank::bench {
namespace {

constexpr std::size_t kRecvPiece = 64 * 1024;
constexpr std::size_t kScratchSize = 1024 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

HttpConnection::HttpConnection(std::string host, std::uint16_t port)
    : host_(std::move(host)), port_(port), authority_(host_ + ":" + std::to_string(port)) {}

HttpConnection::~HttpConnection() { close(); }

void HttpConnection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  in_.clear();
  in_pos_ = 0;
}

void HttpConnection::ensure_connected() {
  if (fd_ >= 0) {
    return;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(port_);
  if (::getaddrinfo(host_.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    throw std::runtime_error("cannot resolve " + host_);
  }
  int fd = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0) {
    ::freeaddrinfo(found);
    fail("socket");
  }
  const int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (rc != 0) {
    ::close(fd);
    fail("connect " + authority_);
  }
  // Small requests must not wait for Nagle's delayed-ACK interplay: that alone caps a keep-alive
  // connection at ~25 requests/s.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
  ++connects_;
}

void HttpConnection::send_all(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("send");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool HttpConnection::fill() {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  }
  const std::size_t old = in_.size();
  in_.resize(old + kRecvPiece);
  ssize_t n = 0;
  do {
    n = ::recv(fd_, in_.data() + old, kRecvPiece, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    in_.resize(old);
    fail("recv");
  }
  in_.resize(old + static_cast<std::size_t>(n));
  return n > 0;
}

std::string HttpConnection::read_line() {
  for (;;) {
    const std::size_t eol = in_.find("\r\n", in_pos_);
    if (eol != std::string::npos) {
      std::string line = in_.substr(in_pos_, eol - in_pos_);
      in_pos_ = eol + 2;
      return line;
    }
    if (!fill()) {
      throw std::runtime_error("connection closed mid-response");
    }
  }
}

void HttpConnection::consume_body(std::uint64_t n, std::string* keep) {
  while (n > 0) {
    const std::size_t buffered = in_.size() - in_pos_;
    if (buffered > 0) {
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, buffered));
      if (keep != nullptr) {
        keep->append(in_, in_pos_, take);
      }
      in_pos_ += take;
      n -= take;
      continue;
    }
    if (keep != nullptr) {
      if (!fill()) {
        throw std::runtime_error("connection closed mid-body");
      }
      continue;
    }
    // Discarded bodies bypass in_: received straight into one reused buffer.
    if (scratch_.empty()) {
      scratch_.resize(kScratchSize);
    }
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, scratch_.size()));
    const ssize_t got = ::recv(fd_, scratch_.data(), want, 0);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      throw std::runtime_error("connection closed mid-body");
    }
    n -= static_cast<std::uint64_t>(got);
  }
}

std::string head_bytes(const protocol::RequestHead& head) {
  std::string wire;
  wire.reserve(1024);
  wire += head.method;
  wire += ' ';
  wire += head.target;
  wire += " HTTP/1.1\r\n";
  for (const auto& [name, value] : head.headers.items()) {
    wire += name;
    wire += ": ";
    wire += value;
    wire += "\r\n";
  }
  wire += "\r\n";
  return wire;
}

std::string request_bytes(const protocol::RequestHead& head, std::string_view body) {
  std::string wire = head_bytes(head);
  wire += body;
  return wire;
}

namespace {

/// Bodies up to this size go out in the same send() as the head, as Python's http.client and
/// most SDKs do: one segment instead of two for the server to receive.
constexpr std::size_t kCoalesceBodyBytes = 64 * 1024;

}  // namespace

void HttpConnection::send_head(const protocol::RequestHead& head) {
  ensure_connected();
  send_all(head_bytes(head));
}

void HttpConnection::send_body(std::string_view piece) { send_all(piece); }

Reply HttpConnection::read_reply(bool keep_body) {
  Reply reply;
  std::string status_line;
  // Skip interim 1xx responses (100 Continue) until the final status.
  for (;;) {
    status_line = read_line();
    if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) {
      throw std::runtime_error("bad status line: " + status_line);
    }
    std::from_chars(status_line.data() + 9, status_line.data() + 12, reply.status);
    if (reply.status >= 200 || reply.status == 101) {
      break;
    }
    while (!read_line().empty()) {
    }
  }
  const bool http10 = status_line.starts_with("HTTP/1.0");
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool close_after = http10;
  for (;;) {
    const std::string line = read_line();
    if (line.empty()) {
      break;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    const std::string name = lower(std::string_view(line).substr(0, colon));
    const std::string_view value = trim(std::string_view(line).substr(colon + 1));
    if (name == "content-length") {
      std::uint64_t v = 0;
      std::from_chars(value.data(), value.data() + value.size(), v);
      content_length = v;
    } else if (name == "transfer-encoding") {
      chunked = lower(value).find("chunked") != std::string::npos;
    } else if (name == "connection") {
      const std::string v = lower(value);
      close_after = v.find("close") != std::string::npos ? true
                    : v.find("keep-alive") != std::string::npos ? false
                                                                : close_after;
    }
  }
  std::string* keep = keep_body ? &reply.body : nullptr;
  if (chunked) {
    for (;;) {
      const std::string size_line = read_line();
      std::uint64_t size = 0;
      std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
      if (size == 0) {
        while (!read_line().empty()) {  // trailers
        }
        break;
      }
      consume_body(size, keep);
      reply.body_bytes += size;
      read_line();  // CRLF after the chunk
    }
  } else if (content_length) {
    consume_body(*content_length, keep);
    reply.body_bytes = *content_length;
  } else if (reply.status != 204 && reply.status != 304) {
    // No framing: the body runs to EOF (HTTP/1.0 style servers).
    for (;;) {
      const std::size_t buffered = in_.size() - in_pos_;
      if (keep != nullptr) {
        keep->append(in_, in_pos_, buffered);
      }
      reply.body_bytes += buffered;
      in_pos_ = in_.size();
      if (!fill()) {
        break;
      }
    }
    close_after = true;
  }
  if (close_after) {
    close();
  }
  return reply;
}

Reply HttpConnection::round_trip(const protocol::RequestHead& head, std::string_view body, bool keep_body) {
  // A keep-alive connection the server closed while idle shows up as a failed send or an EOF
  // before the status line; retry such a request once on a fresh connection.
  for (int attempt = 0;; ++attempt) {
    const bool reused = fd_ >= 0;
    try {
      if (!body.empty() && body.size() <= kCoalesceBodyBytes) {
        ensure_connected();
        send_all(request_bytes(head, body));
      } else {
        send_head(head);
        if (!body.empty()) {
          send_body(body);
        }
      }
      return read_reply(keep_body);
    } catch (const std::runtime_error&) {
      close();
      if (!reused || attempt > 0) {
        throw;
      }
    }
  }
}

}  // namespace fogbank::bench
