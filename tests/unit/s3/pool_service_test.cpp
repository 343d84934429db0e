// Blocking S3 work on the platform's pool: a large upload's commit, CopyObject, long reads. The
// handlers answer with a deferred response; these tests play the server's part (start, poll on
// wake, cancel) and check what the client would get.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fogbank/protocol/clock.hpp"
#include "fogbank/protocol/crypto.hpp"
#include "fogbank/protocol/platform.hpp"
#include "fogbank/s3/s3_service.hpp"
#include "fogbank/storage/store.hpp"
#include "s3_internal.hpp"

namespace fogbank::s3 {
namespace {

constexpr std::string_view kAccount = "111122223333";

class NoKeys final : public protocol::sigv4::CredentialLookup {
 public:
  std::optional<protocol::sigv4::Credential> find(std::string_view) const override { return std::nullopt; }
};

std::string body_of(std::size_t n, std::uint64_t seed) {
  std::string s(n, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

/// Waits for a deferred response as the server does: start(wake), poll after each wake, cancel.
Response settle(Response r) {
  if (!r.pending) {
    return r;
  }
  auto pending = r.pending;
  std::mutex mutex;
  std::condition_variable cv;
  bool woken = false;
  pending->start([&] {
    std::lock_guard lock(mutex);
    woken = true;
    cv.notify_all();
  });
  for (;;) {
    {
      std::unique_lock lock(mutex);
      woken = false;
    }
    if (auto out = pending->poll(false)) {
      pending->cancel();
      return std::move(*out);
    }
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return woken; })) {
      ADD_FAILURE() << "no wake within 30 s";
      auto out = pending->poll(true);
      pending->cancel();
      return std::move(*out);
    }
  }
}

std::string drain(Response& r) {
  if (!r.producer) {
    return r.body;
  }
  std::string out;
  std::vector<char> buf(200000);
  while (std::size_t n = r.producer->read(buf.data(), buf.size())) {
    out.append(buf.data(), n);
  }
  return out;
}

class PoolServiceTest : public ::testing::Test {
 protected:
  PoolServiceTest() {
    storage::Options options;
    options.in_memory = true;
    storage::Status status;
    store_ = storage::Store::open(options, status);
    EXPECT_TRUE(status.is_ok()) << status.message();
    platform_ = std::make_unique<protocol::Platform>(
        protocol::Platform{*store_, clock_, scheduler_, std::make_shared<NoKeys>(), nullptr});
    s3_ = make_s3_service(*platform_);
    EXPECT_EQ(call("PUT", "/bkt").status, 200);
  }

  /// One request's head and context, alive until the test ends (as the server keeps them until
  /// the response is sent).
  RequestContext& context(std::string method, std::string target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto head = std::make_unique<protocol::RequestHead>();
    head->method = std::move(method);
    head->target = std::move(target);
    head->headers.add("Host", "localhost:4566");
    for (auto& [n, v] : headers) {
      head->headers.add(n, v);
    }
    head->split_target();
    auto ctx = std::make_shared<RequestContext>(*head);
    ctx->account_id = std::string(kAccount);
    ctx->region = "us-east-1";
    ctx->request_id = "REQ" + std::to_string(heads_.size());
    ctx->now_ms = clock_.now_ms();
    ctx->now = ctx->now_ms / 1000;
    ctx->clock = &clock_;
    ctx->authenticated = true;
    heads_.push_back(std::move(head));
    contexts_.push_back(ctx);
    return *ctx;
  }

  Response call(std::string method, std::string target, std::string body = {},
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    auto& ctx = context(std::move(method), std::move(target), std::move(headers));
    return s3_->handle(ctx, std::move(body));
  }

  /// A streaming PUT; `deferred` tells whether finish() answered with a placeholder.
  Response put(std::string target, const std::string& body, bool* deferred = nullptr) {
    context("PUT", std::move(target), {{"Content-Length", std::to_string(body.size())}});
    auto sink = s3_->begin_stream(contexts_.back());
    for (std::size_t at = 0; at < body.size(); at += 256 << 10) {
      sink->write(std::string_view(body).substr(at, 256 << 10));
    }
    Response r = sink->finish();
    if (deferred != nullptr) {
      *deferred = r.pending != nullptr;
    }
    Response out = settle(std::move(r));
    sinks_.push_back(std::move(sink));
    return out;
  }

  std::unique_ptr<storage::Store> store_;
  protocol::VirtualClock clock_{1'700'000'000'000};
  protocol::Scheduler scheduler_{clock_, 2};
  std::unique_ptr<protocol::Platform> platform_;
  std::shared_ptr<protocol::Service> s3_;
  std::vector<std::unique_ptr<protocol::RequestHead>> heads_;
  std::vector<std::shared_ptr<RequestContext>> contexts_;
  std::vector<std::unique_ptr<protocol::BodySink>> sinks_;
};

TEST_F(PoolServiceTest, LargePutCommitsOnThePoolSmallPutInline) {
  const std::string big = body_of((3u << 20) + 5, 1);
  bool deferred = false;
  Response r = put("/bkt/big", big, &deferred);
  EXPECT_TRUE(deferred);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("ETag").value_or(""), "\"" + protocol::hex(protocol::md5(big)) + "\"");
  EXPECT_TRUE(r.headers.has("x-amz-request-id"));  // added to the pool's answer, not just the placeholder

  const std::string small = body_of(4096, 2);
  r = put("/bkt/small", small, &deferred);
  EXPECT_FALSE(deferred);
  EXPECT_EQ(r.status, 200);

  Response got = call("GET", "/bkt/big");  // 4 chunks: read ahead on the pool
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(drain(got), big);
  got = call("GET", "/bkt/small");
  EXPECT_EQ(drain(got), small);
}

TEST_F(PoolServiceTest, CopyObjectRunsOnThePool) {
  const std::string big = body_of((2u << 20) + 99, 3);
  ASSERT_EQ(put("/bkt/src", big).status, 200);
  Response placeholder = call("PUT", "/bkt/dst", {}, {{"x-amz-copy-source", "/bkt/src"}});
  ASSERT_TRUE(placeholder.pending);
  Response r = settle(std::move(placeholder));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<CopyObjectResult"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(protocol::hex(protocol::md5(big))), std::string::npos) << r.body;
  EXPECT_TRUE(r.headers.has("x-amz-request-id"));
  Response got = call("GET", "/bkt/dst");
  EXPECT_EQ(drain(got), big);
}

TEST_F(PoolServiceTest, ErrorsOnThePoolAreRenderedAsS3s) {
  Response r = settle(call("PUT", "/bkt/dst", {}, {{"x-amz-copy-source", "/bkt/missing"}}));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("<Code>NoSuchKey</Code>"), std::string::npos) << r.body;
  EXPECT_EQ(r.headers.get("x-amz-request-id").value_or(""), contexts_.back()->request_id);
}

TEST_F(PoolServiceTest, LargePutWithAWrongContentMd5FailsFromThePool) {
  const std::string big = body_of(2u << 20, 4);
  context("PUT", "/bkt/bad", {{"Content-Length", std::to_string(big.size())},
                              {"Content-MD5", protocol::base64_encode(std::string(16, 'x'))}});
  auto sink = s3_->begin_stream(contexts_.back());
  sink->write(big);
  Response r = settle(sink->finish());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("<Code>BadDigest</Code>"), std::string::npos) << r.body;
  EXPECT_THROW(call("HEAD", "/bkt/bad"), AwsError);  // nothing was committed
}

TEST_F(PoolServiceTest, ResolutionNamesTheOperationItsIamActionAndStreaming) {
  auto resolve = [&](std::string method, std::string target, std::vector<std::pair<std::string, std::string>> h = {}) {
    return s3_->resolve(context(std::move(method), std::move(target), std::move(h)).head, nullptr);
  };
  auto put = resolve("PUT", "/bkt/a/b.txt");
  EXPECT_EQ(put.operation, "PutObject");
  EXPECT_EQ(put.iam_action, "s3:PutObject");
  EXPECT_TRUE(put.streams_body);
  auto list = resolve("GET", "/bkt?list-type=2&prefix=a");
  EXPECT_EQ(list.operation, "ListObjectsV2");
  EXPECT_EQ(list.iam_action, "s3:ListBucket");
  EXPECT_FALSE(list.streams_body);
  auto copy = resolve("PUT", "/bkt/c", {{"x-amz-copy-source", "/bkt/a"}});
  EXPECT_EQ(copy.operation, "CopyObject");
  EXPECT_EQ(copy.iam_action, "s3:PutObject");
  EXPECT_FALSE(copy.streams_body);
  EXPECT_EQ(resolve("GET", "/bkt/a?tagging").iam_action, "s3:GetObjectTagging");
  // Subresources fogbank does not serve resolve to nothing: the handler answers NotImplemented.
  EXPECT_EQ(resolve("PUT", "/bkt?versioning").operation, "PutBucketVersioning");
  EXPECT_EQ(resolve("PUT", "/bkt?object-lock").iam_action, "s3:PutBucketObjectLockConfiguration");
  EXPECT_EQ(resolve("PUT", "/bkt?torrent").operation, "");
  try {
    (void)call("PUT", "/bkt?torrent");
    ADD_FAILURE() << "PUT ?torrent answered";
  } catch (const AwsError& e) {
    EXPECT_EQ(e.status, 501);
  }
}

TEST(BlobIdsTest, StayInOrderUnderAClockThatStandsStill) {
  storage::Options options;
  options.in_memory = true;
  storage::Status status;
  auto store = storage::Store::open(options, status);
  ASSERT_TRUE(status.is_ok());
  protocol::VirtualClock clock(1'700'000'000'000);
  BlobStore blobs(*store, clock);
  std::string previous;
  for (int i = 0; i < 50; ++i) {
    auto w = blobs.new_writer();
    EXPECT_GT(w->blob(), previous);
    previous = w->blob();
    if (i == 25) {
      clock.set_ms(1'600'000'000'000);  // set back: ids still sort after the older ones
    }
  }
}

}  // namespace
}  // namespace fogbank::s3
