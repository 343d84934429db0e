// The server's wait for a deferred response (long polls) on the Clock: a virtual clock moved past
// the deadline answers at once, a wake answers before it, the system clock's deadline passes by
// itself. A real HttpServer on a loopback port, driven through a plain socket.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "fogbank/protocol/clock.hpp"
// HttpServer is internal to fogbank_server (only app.cpp uses it).
#include "http_server.hpp"

namespace fogbank::server {
namespace {

constexpr int kPatienceMs = 5000;  // bounds a failing test's wait; a passing one never waits it out

// A long poll: empty until woken with a message or asked at its deadline.
class FakePoll final : public protocol::PendingResponse {
 public:
  explicit FakePoll(std::int64_t deadline_ms) : deadline_ms_(deadline_ms) {}

  void start(std::function<void()> wake) override {
    {
      std::lock_guard lock(mutex_);
      wake_ = std::move(wake);
    }
    started_.set_value();
  }
  std::optional<protocol::Response> poll(bool at_deadline) override {
    std::lock_guard lock(mutex_);
    if (!message_.empty()) {
      return protocol::Response(200, message_, "text/plain");
    }
    if (at_deadline) {
      return protocol::Response(200, "deadline", "text/plain");
    }
    return std::nullopt;
  }
  [[nodiscard]] std::int64_t deadline_ms() const override { return deadline_ms_; }
  void cancel() noexcept override {
    std::lock_guard lock(mutex_);
    wake_ = nullptr;
    cancelled_ = true;
  }

  /// What a service does when something arrives: from its own thread.
  void deliver(std::string message) {
    std::function<void()> wake;
    {
      std::lock_guard lock(mutex_);
      message_ = std::move(message);
      wake = wake_;
    }
    if (wake) {
      wake();
    }
  }
  bool wait_started() { return started_.get_future().wait_for(std::chrono::milliseconds(kPatienceMs)) == std::future_status::ready; }
  bool cancelled() {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

 private:
  const std::int64_t deadline_ms_;
  std::promise<void> started_;
  std::mutex mutex_;
  std::function<void()> wake_;
  std::string message_;
  bool cancelled_ = false;
};

class FinishWith final : public protocol::BodySink {
 public:
  explicit FinishWith(std::shared_ptr<FakePoll> poll) : poll_(std::move(poll)) {}
  void write(std::string_view) override {}
  protocol::Response finish() override {
    protocol::Response r;
    r.pending = poll_;
    return r;
  }

 private:
  std::shared_ptr<FakePoll> poll_;
};

// Every request becomes a long poll `wait_ms` from the clock's now.
class PollHandler final : public RequestHandler {
 public:
  PollHandler(const protocol::Clock& clock, std::int64_t wait_ms) : clock_(clock), wait_ms_(wait_ms) {}
  protocol::Exchange begin(protocol::RequestHead) override {
    auto poll = std::make_shared<FakePoll>(clock_.now_ms() + wait_ms_);
    {
      std::lock_guard lock(mutex_);
      last_ = poll;
    }
    made_.notify_all();
    protocol::Exchange ex;
    ex.info = std::make_shared<protocol::RequestInfo>();
    ex.sink = std::make_unique<FinishWith>(poll);
    ex.body_limit = 1024;
    return ex;
  }
  /// The poll of the request sent last, once the server waits for it (null if it never does).
  std::shared_ptr<FakePoll> await_poll() {
    std::unique_lock lock(mutex_);
    made_.wait_for(lock, std::chrono::milliseconds(kPatienceMs), [&] { return last_ != nullptr; });
    auto poll = last_;
    lock.unlock();
    return poll && poll->wait_started() ? poll : nullptr;
  }

 private:
  const protocol::Clock& clock_;
  const std::int64_t wait_ms_;
  std::mutex mutex_;
  std::condition_variable made_;
  std::shared_ptr<FakePoll> last_;
};

class Server {
 public:
  Server(protocol::Scheduler& scheduler, RequestHandler& handler) {
    ServerOptions o;
    o.io_threads = 1;
    o.scheduler = &scheduler;
    server_ = std::make_unique<HttpServer>(o);
    port_ = server_->listen("127.0.0.1", 0, handler, false);
    thread_ = std::thread([this] { server_->run(); });
  }
  ~Server() {
    server_->stop();
    thread_.join();
  }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  bool send_request() {
    const std::string req = "POST /poll HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n";
    return connected_ && ::send(fd_, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size());
  }
  /// Whether response bytes arrive within `timeout_ms`.
  bool readable(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
  }
  /// Reads until the body (which follows the blank line) is complete or the patience runs out.
  std::string read_response() {
    std::string data;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kPatienceMs);
    while (std::chrono::steady_clock::now() < deadline) {
      auto head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        auto cl = data.find("Content-Length: ");
        if (cl != std::string::npos && data.size() >= head_end + 4 + std::stoul(data.substr(cl + 16))) {
          return data;
        }
      }
      if (!readable(kPatienceMs)) {
        break;
      }
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      data.append(buf, static_cast<std::size_t>(n));
    }
    return data;
  }

 private:
  int fd_;
  bool connected_ = false;
};

std::string body_of(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

TEST(DeferredWaitTest, VirtualClockPastTheDeadlineAnswersAtOnce) {
  protocol::VirtualClock clock;
  protocol::Scheduler scheduler(clock, 1);
  PollHandler handler(clock, 20'000);
  Server server(scheduler, handler);
  Client client(server.port());
  ASSERT_TRUE(client.send_request());
  auto poll = handler.await_poll();
  ASSERT_TRUE(poll);
  EXPECT_FALSE(client.readable(0));
  clock.advance_ms(19'999);
  EXPECT_FALSE(client.readable(0));  // advance returns after the due timers ran: none was due
  clock.advance_ms(1);
  auto response = client.read_response();
  EXPECT_NE(response.find("HTTP/1.1 200"), std::string::npos) << response;
  EXPECT_EQ(body_of(response), "deadline");
  EXPECT_TRUE(poll->cancelled());
}

TEST(DeferredWaitTest, ClockSetBackAfterTheDeadlineFiredWaitsForItAgain) {
  protocol::VirtualClock clock;
  protocol::Scheduler scheduler(clock, 1);
  PollHandler handler(clock, 20'000);
  Server server(scheduler, handler);
  Client client(server.port());
  ASSERT_TRUE(client.send_request());
  auto poll = handler.await_poll();
  ASSERT_TRUE(poll);
  const auto start = clock.now_ms();
  // The deadline timer fires, but the session may poll only after the clock went back: it must
  // then wait for the deadline again instead of for nothing.
  clock.advance_ms(20'000);
  clock.set_ms(start);
  clock.advance_ms(20'000);
  auto response = client.read_response();
  EXPECT_EQ(body_of(response), "deadline");
}

TEST(DeferredWaitTest, WakeAnswersBeforeTheDeadline) {
  protocol::VirtualClock clock;
  protocol::Scheduler scheduler(clock, 1);
  PollHandler handler(clock, 20'000);
  Server server(scheduler, handler);
  Client client(server.port());
  ASSERT_TRUE(client.send_request());
  auto poll = handler.await_poll();
  ASSERT_TRUE(poll);
  std::thread([&] { poll->deliver("message"); }).join();
  auto response = client.read_response();
  EXPECT_EQ(body_of(response), "message");
  EXPECT_TRUE(poll->cancelled());
  clock.advance_ms(60'000);  // the deadline timer was cancelled with the wait: nothing to fire into
}

TEST(DeferredWaitTest, SystemClockDeadlinePassesByItself) {
  protocol::Scheduler scheduler(protocol::system_clock(), 1);
  PollHandler handler(protocol::system_clock(), 5);
  Server server(scheduler, handler);
  Client client(server.port());
  ASSERT_TRUE(client.send_request());
  auto response = client.read_response();
  EXPECT_EQ(body_of(response), "deadline");
}

TEST(DeferredWaitTest, ShutdownAnswersAWaitingPoll) {
  protocol::VirtualClock clock;
  protocol::Scheduler scheduler(clock, 1);
  PollHandler handler(clock, 20'000);
  std::optional<Server> server;
  server.emplace(scheduler, handler);
  Client client(server->port());
  ASSERT_TRUE(client.send_request());
  ASSERT_TRUE(handler.await_poll());
  auto reader = std::async(std::launch::async, [&] { return client.read_response(); });
  server.reset();  // a graceful stop: the waiting poll is asked for its answer now
  EXPECT_EQ(body_of(reader.get()), "deadline");
}

}  // namespace
}  // namespace fogbank::server
