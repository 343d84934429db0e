#include "fogbank/protocol/deferred.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fogbank/protocol/aws_error.hpp"
#include "fogbank/protocol/clock.hpp"

namespace fogbank::protocol {
namespace {

/// Tasks run when the test says so: a pool that has not got to them yet.
struct HeldTasks {
  std::vector<std::function<void()>> tasks;
  PoolExecutor executor() {
    return [this](std::function<void()> task) { tasks.push_back(std::move(task)); };
  }
  void run_all() {
    auto now = std::move(tasks);
    tasks.clear();
    for (auto& t : now) {
      t();
    }
  }
};

Response render_code(const AwsError& e) { return Response(e.status, e.code); }

Response ok(std::string body) { return Response(200, std::move(body)); }

/// Waits (briefly) for a placeholder's answer, as the server's poll loop would.
std::optional<Response> settle_now(Response& placeholder) {
  placeholder.pending->start([] {});
  for (int i = 0; i < 10000; ++i) {
    if (auto r = placeholder.pending->poll(false)) {
      placeholder.pending->cancel();
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto r = placeholder.pending->poll(true);
  placeholder.pending->cancel();
  return r;
}

TEST(DeferredTest, PlaceholderCompletesWhenThePoolHasRunTheWork) {
  HeldTasks pool;
  int wakes = 0;
  Response placeholder = run_on_pool(pool.executor(), 0, [] { return ok("copied"); }, render_code);
  ASSERT_TRUE(placeholder.pending);
  ASSERT_EQ(pool.tasks.size(), 1u);
  auto& pending = *placeholder.pending;
  pending.start([&] { ++wakes; });
  EXPECT_FALSE(pending.poll(false));
  pool.run_all();
  EXPECT_EQ(wakes, 1);
  auto r = pending.poll(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "copied");
  pending.cancel();
}

TEST(DeferredTest, WorkThatFinishedBeforeStartWakesAtOnce) {
  HeldTasks pool;
  Response placeholder = run_on_pool(pool.executor(), 0, [] { return ok("early"); }, render_code);
  pool.run_all();
  int wakes = 0;
  placeholder.pending->start([&] { ++wakes; });
  EXPECT_EQ(wakes, 1);
  auto r = placeholder.pending->poll(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "early");
  placeholder.pending->cancel();
}

TEST(DeferredTest, ErrorsAreRenderedByTheCallersRenderer) {
  HeldTasks pool;
  Response aws = run_on_pool(
      pool.executor(), 0, []() -> Response { throw AwsError("NoSuchKey", 404, "gone"); }, render_code);
  Response other = run_on_pool(
      pool.executor(), 0, []() -> Response { throw std::runtime_error("disk"); }, render_code);
  Response broken = run_on_pool(
      pool.executor(), 0, []() -> Response { throw std::runtime_error("disk"); },
      [](const AwsError&) -> Response { throw std::runtime_error("renderer"); });
  pool.run_all();
  for (auto* p : {&aws, &other, &broken}) {
    p->pending->start([] {});
  }
  auto a = aws.pending->poll(false);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 404);
  EXPECT_EQ(a->body, "NoSuchKey");
  auto o = other.pending->poll(false);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->status, 500);
  EXPECT_EQ(o->body, errors::internal_failure().code);
  auto b = broken.pending->poll(false);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, 500);  // a throwing renderer still answers
}

TEST(DeferredTest, PollAtTheDeadlineRunsWorkNoPoolThreadTook) {
  // Shutdown: the server asks for the answer now. Work still queued runs on the caller's thread,
  // once; the pool's task, when it finally runs, finds nothing to do.
  HeldTasks pool;
  int runs = 0;
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  Response placeholder = run_on_pool(pool.executor(), 0, [&] {
    ++runs;
    ran_on = std::this_thread::get_id();
    return ok("inline");
  }, render_code);
  placeholder.pending->start([] {});
  auto r = placeholder.pending->poll(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "inline");
  EXPECT_EQ(ran_on, caller);
  pool.run_all();
  EXPECT_EQ(runs, 1);
  placeholder.pending->cancel();
}

TEST(DeferredTest, PollAtTheDeadlineWaitsForRunningWork) {
  std::promise<void> started;
  std::promise<void> release;
  std::thread worker;
  PoolExecutor on_thread = [&](std::function<void()> task) { worker = std::thread(std::move(task)); };
  Response placeholder = run_on_pool(on_thread, 0, [&] {
    started.set_value();
    release.get_future().wait();
    return ok("slow");
  }, render_code);
  placeholder.pending->start([] {});
  started.get_future().wait();
  auto answer = std::async(std::launch::async, [&] { return placeholder.pending->poll(true); });
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  release.set_value();
  auto r = answer.get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "slow");
  worker.join();
  placeholder.pending->cancel();
}

TEST(DeferredTest, CancelBeforeTheWorkStartedDropsItAndItsCaptures) {
  HeldTasks pool;
  auto request_state = std::make_shared<int>(7);
  std::weak_ptr<int> watch = request_state;
  bool ran = false;
  int wakes = 0;
  {
    Response placeholder = run_on_pool(pool.executor(), 0, [&ran, state = std::move(request_state)] {
      ran = true;
      return ok(std::to_string(*state));
    }, render_code);
    placeholder.pending->start([&] { ++wakes; });
    placeholder.pending->cancel();
    EXPECT_TRUE(watch.expired());  // released by cancel(), on the caller's thread
  }
  pool.run_all();
  EXPECT_FALSE(ran);
  EXPECT_EQ(wakes, 0);
}

TEST(DeferredTest, CancelWaitsForRunningWorkAndNoWakeFollowsIt) {
  std::promise<void> started;
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  std::atomic<int> wakes{0};
  std::thread worker;
  PoolExecutor on_thread = [&](std::function<void()> task) { worker = std::thread(std::move(task)); };
  Response placeholder = run_on_pool(on_thread, 0, [&] {
    started.set_value();
    while (!release) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    finished = true;
    return ok("late");
  }, render_code);
  placeholder.pending->start([&] { ++wakes; });
  started.get_future().wait();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    release = true;
  });
  placeholder.pending->cancel();
  EXPECT_TRUE(finished);  // cancel() returned only after the work did
  EXPECT_EQ(wakes, 0);    // and the wake registered before it was never called
  releaser.join();
  worker.join();
}

TEST(DeferredTest, DestroyingThePlaceholderCancels) {
  HeldTasks pool;
  bool ran = false;
  { (void)run_on_pool(pool.executor(), 0, [&] { ran = true; return ok(""); }, render_code); }
  pool.run_all();
  EXPECT_FALSE(ran);
}

TEST(DeferredTest, ARefusingPoolRunsTheWorkOnTheCaller) {
  PoolExecutor refuses = [](std::function<void()>) { throw std::runtime_error("stopped"); };
  Response placeholder = run_on_pool(refuses, 0, [] { return ok("here"); }, render_code);
  placeholder.pending->start([] {});
  auto r = placeholder.pending->poll(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "here");
}

TEST(DeferredTest, TheDeadlineIsADayAwayOnTheSchedulersClock) {
  // Far enough that only shutdown cuts the wait short, in Clock time (virtual clocks too).
  VirtualClock clock(5'000'000);
  Scheduler scheduler(clock, 1);
  HeldTasks held;
  EXPECT_EQ(run_on_pool(held.executor(), 1234, [] { return ok(""); }, render_code).pending->deadline_ms(), 1234);
  Response placeholder = run_on_pool(scheduler, [] { return ok(""); }, render_code);
  EXPECT_EQ(placeholder.pending->deadline_ms(), 5'000'000 + kDeferredWorkDeadlineMs);
  (void)settle_now(placeholder);
}

TEST(DeferredTest, RunsOnTheSchedulersPool) {
  VirtualClock clock(1'000'000);
  Scheduler scheduler(clock, 2);
  std::promise<std::thread::id> ran_on;
  std::promise<void> woken;
  Response placeholder = run_on_pool(scheduler, [&] {
    ran_on.set_value(std::this_thread::get_id());
    return ok("pooled");
  }, render_code);
  placeholder.pending->start([&] { woken.set_value(); });
  EXPECT_EQ(woken.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_NE(ran_on.get_future().get(), std::this_thread::get_id());
  auto r = placeholder.pending->poll(false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "pooled");
  placeholder.pending->cancel();
}

}  // namespace
}  // namespace fogbank::protocol
