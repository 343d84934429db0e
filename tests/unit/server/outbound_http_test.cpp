// The outbound HTTP client against a one-connection socket server in the test.

#include "outbound_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace fogbank::server {
namespace {

using namespace std::chrono_literals;

/// Listens on 127.0.0.1 (any port); serve() accepts one connection, records the request and
/// answers `reply` (or nothing, when empty, until the client gives up).
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes an accept() no client came to
    if (thread_.joinable()) {
      thread_.join();
    }
    ::close(fd_);
  }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void serve(std::string reply) {
    thread_ = std::thread([this, reply = std::move(reply)] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        return;
      }
      std::string got;
      char buf[4096];
      while (got.find("\r\n\r\n") == std::string::npos || got.size() < expected_size(got)) {
        auto n = ::read(c, buf, sizeof buf);
        if (n <= 0) {
          break;
        }
        got.append(buf, static_cast<std::size_t>(n));
      }
      request_ = got;
      if (!reply.empty()) {
        (void)::write(c, reply.data(), reply.size());
      } else {
        while (::read(c, buf, sizeof buf) > 0) {
        }
      }
      ::close(c);
    });
  }
  [[nodiscard]] const std::string& request() const { return request_; }

 private:
  static std::size_t expected_size(const std::string& got) {
    auto head_end = got.find("\r\n\r\n");
    auto cl = got.find("Content-Length: ");
    if (cl == std::string::npos) {
      return head_end + 4;
    }
    return head_end + 4 + std::stoul(got.substr(cl + 16));
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::string request_;
};

protocol::OutboundResponse send(OutboundHttp& client, protocol::OutboundRequest request) {
  std::promise<protocol::OutboundResponse> answer;
  auto got = answer.get_future();
  client.send(std::move(request), [&](protocol::OutboundResponse r) { answer.set_value(std::move(r)); });
  EXPECT_EQ(got.wait_for(10s), std::future_status::ready);
  return got.get();
}

TEST(OutboundHttpTest, PostsAndReadsTheAnswer) {
  OneShotServer server;
  server.serve("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  OutboundHttp client({});
  protocol::OutboundRequest req;
  req.url = server.url("/hook?x=1");
  req.headers = {{"x-amz-sns-message-type", "Notification"}, {"Content-Type", "text/plain; charset=UTF-8"}};
  req.body = "{\"Type\":\"Notification\"}";
  auto r = send(client, req);
  EXPECT_EQ(r.status, 201) << r.error;
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(server.request().rfind("POST /hook?x=1 HTTP/1.1\r\n", 0), 0u) << server.request();
  EXPECT_NE(server.request().find("x-amz-sns-message-type: Notification\r\n"), std::string::npos);
  EXPECT_NE(server.request().find("\r\n\r\n{\"Type\":\"Notification\"}"), std::string::npos);
}

TEST(OutboundHttpTest, NoAnswerIsStatusZeroWithAReason) {
  OutboundHttp client({});
  for (std::string bad : {"ftp://127.0.0.1/", "http://", "http://[::1/", "http://h:99999/", "notaurl"}) {
    protocol::OutboundRequest req;
    req.url = bad;
    auto r = send(client, req);
    EXPECT_EQ(r.status, 0) << bad;
    EXPECT_FALSE(r.error.empty()) << bad;
  }
  protocol::OutboundRequest req;
  req.url = "http://127.0.0.1:1/";  // nothing listens on port 1
  auto r = send(client, req);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("connect"), std::string::npos) << r.error;
}

TEST(OutboundHttpTest, SilentEndpointTimesOut) {
  OneShotServer server;
  server.serve("");
  OutboundHttp client({});
  protocol::OutboundRequest req;
  req.url = server.url("/");
  req.timeout = 300ms;
  auto started = std::chrono::steady_clock::now();
  auto r = send(client, req);
  EXPECT_EQ(r.status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  client.shutdown();
}

TEST(OutboundHttpTest, ShutdownDropsWhatIsInFlight) {
  OneShotServer server;
  server.serve("");
  auto client = std::make_unique<OutboundHttp>(OutboundOptions{});
  protocol::OutboundRequest req;
  req.url = server.url("/");
  req.timeout = 2s;
  bool called = false;
  client->send(req, [&](protocol::OutboundResponse) { called = true; });
  client->shutdown();
  client.reset();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace fogbank::server
