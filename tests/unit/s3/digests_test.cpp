// PayloadDigests hands MD5 to the platform's pool after the first MiB. The digest must not depend
// on where or in how many tasks the blocks were hashed, and a busy pool must neither stall the
// upload nor be needed to finish it.

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {
namespace {

std::string body_of(std::size_t n) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

/// One upload's request: a head, its context and the Call handlers see.
struct Upload {
  protocol::RequestHead head;
  RequestContext ctx{head};
  Call call{ctx};

  explicit Upload(protocol::Scheduler* pool) { call.scheduler = pool; }
};

std::string md5_through(PayloadDigests& digests, const Call& call, std::string_view body, std::size_t piece) {
  for (std::size_t at = 0; at < body.size(); at += piece) {
    digests.update(body.substr(at, piece));
  }
  digests.verify(call);
  return digests.md5_hex;
}

/// A one-thread pool kept busy until release(): the drain tasks queue up behind the blocker.
struct BusyPool {
  protocol::Scheduler scheduler{protocol::system_clock(), 1};
  std::promise<void> gate;
  BusyPool() {
    scheduler.post([f = gate.get_future().share()] { f.wait(); });
  }
  void release() { gate.set_value(); }
};

TEST(PayloadDigestsTest, Md5OnThePoolMatchesTheOneShotDigest) {
  protocol::Scheduler pool(protocol::system_clock(), 3);
  const std::string body = body_of((9u << 20) + 123);
  const std::string expected = protocol::hex(protocol::md5(body));
  for (std::size_t piece : {std::size_t{1000}, std::size_t{256 << 10}, std::size_t{(1 << 20) + 1}, body.size()}) {
    Upload up(&pool);
    PayloadDigests digests(up.call);
    EXPECT_EQ(md5_through(digests, up.call, body, piece), expected) << piece;
  }
}

TEST(PayloadDigestsTest, WithoutAPoolMd5StaysOnTheCaller) {
  const std::string body = body_of(3u << 20);
  Upload up(nullptr);
  PayloadDigests digests(up.call);
  EXPECT_EQ(md5_through(digests, up.call, body, 64 << 10), protocol::hex(protocol::md5(body)));
}

TEST(PayloadDigestsTest, ABusyPoolNeitherStallsNorIsNeededToFinish) {
  // The drain task never starts while the upload runs: push() hashes the oldest block itself when
  // the queue is full, and verify() hashes the rest, instead of waiting for the pool.
  BusyPool busy;
  const std::string body = body_of(12u << 20);
  Upload up(&busy.scheduler);
  PayloadDigests digests(up.call);
  auto done = std::async(std::launch::async, [&] { return md5_through(digests, up.call, body, 100000); });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(done.get(), protocol::hex(protocol::md5(body)));
  busy.release();  // the queued task then finds nothing to do
}

TEST(PayloadDigestsTest, AnAbandonedUploadLeavesItsTaskHarmless) {
  BusyPool busy;
  {
    const std::string body = body_of(5u << 20);
    Upload up(&busy.scheduler);
    PayloadDigests digests(up.call);
    for (std::size_t at = 0; at < body.size(); at += 300000) {
      digests.update(std::string_view(body).substr(at, 300000));
    }
    // Dropped without verify(): the client went away mid-body.
  }
  busy.release();  // the drain task runs after the upload's objects are gone
}

TEST(PayloadDigestsTest, ContentMd5IsCheckedAgainstThePoolsDigest) {
  protocol::Scheduler pool(protocol::system_clock(), 2);
  const std::string body = body_of((2u << 20) + 7);
  const std::string right = protocol::base64_encode(std::string_view(
      reinterpret_cast<const char*>(protocol::md5(body).data()), 16));
  {
    Upload up(&pool);
    up.head.headers.add("Content-MD5", right);
    PayloadDigests digests(up.call);
    EXPECT_EQ(md5_through(digests, up.call, body, 500000), protocol::hex(protocol::md5(body)));
  }
  {
    Upload up(&pool);
    up.head.headers.add("Content-MD5", protocol::base64_encode(std::string(16, 'x')));
    PayloadDigests digests(up.call);
    try {
      md5_through(digests, up.call, body, 500000);
      FAIL() << "BadDigest expected";
    } catch (const AwsError& e) {
      EXPECT_EQ(e.code, "BadDigest");
    }
  }
}

}  // namespace
}  // namespace fogbank::s3
