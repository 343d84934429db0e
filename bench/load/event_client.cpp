#include "event_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace fogbank::bench {
namespace {

constexpr std::size_t kRecvPiece = 64 * 1024;

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = line[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
    if (c != name[i]) {
      return false;
    }
  }
  return true;
}

std::string_view header_value(std::string_view line, std::size_t name_size) {
  std::string_view v = line.substr(name_size);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) {
    v.remove_prefix(1);
  }
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  return v;
}

}  // namespace

struct EventClient::Conn {
  int index = 0;
  int fd = -1;
  bool stopped = false;
  bool writing = false;       // EPOLLOUT registered
  std::uint64_t iteration = 0;
  std::string out;
  std::size_t out_pos = 0;
  std::string in;
  Clock::time_point sent{};
};

EventClient::EventClient(std::string host, std::uint16_t port, int connections)
    : host_(std::move(host)), port_(port) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  }
  for (int i = 0; i < connections; ++i) {
    auto c = std::make_unique<Conn>();
    c->index = i;
    conns_.push_back(std::move(c));
  }
}

EventClient::~EventClient() {
  for (auto& c : conns_) {
    close(*c);
  }
  ::close(epoll_fd_);
}

bool EventClient::open(Conn& c) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(port_);
  if (::getaddrinfo(host_.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return false;
  }
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol);
  // Blocking connect (loopback: immediate), then non-blocking for the exchanges.
  const bool ok = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  ::freeaddrinfo(found);
  if (!ok) {
    if (fd >= 0) {
      ::close(fd);
    }
    return false;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &c;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  c.fd = fd;
  c.writing = false;
  c.in.clear();
  ++connects_;
  return true;
}

void EventClient::close(Conn& c) {
  if (c.fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
  }
}

void EventClient::watch(Conn& c, bool want_write) {
  if (c.writing == want_write) {
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  ev.data.ptr = &c;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.writing = want_write;
}

bool EventClient::flush(Conn& c) {
  while (c.out_pos < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      watch(c, true);
      return true;
    }
    return false;
  }
  watch(c, false);
  return true;
}

bool EventClient::start(Conn& c, const NextRequest& next) {
  std::optional<std::string> request = next(c.index, c.iteration);
  if (!request) {
    c.stopped = true;
    close(c);
    return false;
  }
  if (c.fd < 0 && !open(c)) {
    return false;
  }
  c.out = std::move(*request);
  c.out_pos = 0;
  c.sent = Clock::now();
  return flush(c);
}

int EventClient::take_reply(Conn& c, Reply& reply, bool& close_after, std::string& error) {
  const std::size_t head_end = c.in.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return 0;
  }
  std::string_view head(c.in.data(), head_end);
  if (head.size() < 12 || !head.starts_with("HTTP/1.")) {
    error = "bad status line";
    return -1;
  }
  reply.status = 0;
  std::from_chars(head.data() + 9, head.data() + 12, reply.status);
  close_after = head.starts_with("HTTP/1.0");
  std::optional<std::uint64_t> length;
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    const std::size_t start = pos + 2;
    std::size_t eol = head.find("\r\n", start);
    const std::string_view line = head.substr(start, eol == std::string_view::npos ? head.size() - start : eol - start);
    if (iequals_prefix(line, "content-length:")) {
      const std::string_view v = header_value(line, 15);
      std::uint64_t n = 0;
      std::from_chars(v.data(), v.data() + v.size(), n);
      length = n;
    } else if (iequals_prefix(line, "transfer-encoding:")) {
      error = "chunked replies are not supported by the event-loop client";
      return -1;
    } else if (iequals_prefix(line, "connection:")) {
      close_after = iequals_prefix(header_value(line, 11), "close");
    }
    pos = eol;
  }
  if (reply.status < 200) {
    error = "interim responses are not supported by the event-loop client";
    return -1;
  }
  const std::uint64_t body = (reply.status == 204 || reply.status == 304) ? 0 : length.value_or(0);
  if (!length && body == 0 && reply.status != 204 && reply.status != 304) {
    close_after = true;  // no framing: only an empty body is accepted
  }
  const std::size_t total = head_end + 4 + static_cast<std::size_t>(body);
  if (c.in.size() < total) {
    return 0;
  }
  reply.body.assign(c.in, head_end + 4, static_cast<std::size_t>(body));
  reply.body_bytes = body;
  c.in.erase(0, total);
  return 1;
}

void EventClient::run(const NextRequest& next, const OnReply& on_reply, const OnError& on_error) {
  std::size_t active = 0;
  // A failed start is a transport error on that connection; it retries while on_error allows.
  const auto begin = [&](Conn& c) {
    while (!c.stopped) {
      if (start(c, next)) {
        return;
      }
      if (c.stopped) {
        break;
      }
      close(c);
      if (!on_error(c.index, "cannot send the request to " + host_ + ":" + std::to_string(port_))) {
        c.stopped = true;
      }
    }
    --active;
  };
  for (auto& c : conns_) {
    ++active;
    begin(*c);
  }
  std::vector<epoll_event> events(conns_.size() + 1);
  std::string piece(kRecvPiece, '\0');
  while (active > 0) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 1000);
    if (n < 0 && errno != EINTR) {
      throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int k = 0; k < n; ++k) {
      Conn& c = *static_cast<Conn*>(events[static_cast<std::size_t>(k)].data.ptr);
      if (c.fd < 0 || c.stopped) {
        continue;
      }
      std::string error;
      if ((events[static_cast<std::size_t>(k)].events & EPOLLOUT) != 0 && !flush(c)) {
        error = "send failed";
      }
      bool replied = false;
      bool close_after = false;
      Reply reply;
      if (error.empty() && (events[static_cast<std::size_t>(k)].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        for (;;) {
          const ssize_t got = ::recv(c.fd, piece.data(), piece.size(), 0);
          if (got > 0) {
            c.in.append(piece.data(), static_cast<std::size_t>(got));
            if (static_cast<std::size_t>(got) < piece.size()) {
              break;
            }
            continue;
          }
          if (got < 0 && errno == EINTR) {
            continue;
          }
          if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
          }
          error = "connection closed mid-reply";
          break;
        }
        const int parsed = take_reply(c, reply, close_after, error);
        if (parsed == 1) {
          replied = true;
          error.clear();  // a reply followed by the server closing is a complete exchange
        } else if (parsed == -1 && error.empty()) {
          error = "bad reply";
        }
      }
      if (replied) {
        on_reply(c.index, c.iteration, std::move(reply), c.sent);
        ++c.iteration;
        if (close_after) {
          close(c);
        }
        begin(c);
      } else if (!error.empty()) {
        close(c);
        ++c.iteration;
        if (!on_error(c.index, error)) {
          c.stopped = true;
          --active;
        } else {
          begin(c);
        }
      }
    }
  }
}

}  // namespace fogbank::bench
