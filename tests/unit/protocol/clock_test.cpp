#include "fogbank/protocol/clock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace fogbank::protocol {
namespace {

using namespace std::chrono_literals;

// Bounded waits for things that happen on another thread: they return as soon as the event
// happens, so a passing test never sleeps; the bound only limits how long a failing one hangs.
constexpr auto kPatience = 5s;

std::int64_t real_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Records the order timers fire in; safe to call from the timer thread.
struct Fired {
  std::mutex mutex;
  std::vector<int> order;
  void add(int v) {
    std::lock_guard lock(mutex);
    order.push_back(v);
  }
  std::vector<int> get() {
    std::lock_guard lock(mutex);
    return order;
  }
};

TEST(ClockTest, SystemClockIsRealTime) {
  Clock& c = system_clock();
  EXPECT_FALSE(c.is_virtual());
  EXPECT_LE(std::abs(c.now_ms() - real_ms()), 1000);
  EXPECT_EQ(c.now_seconds(), c.now_ms() / 1000);
  EXPECT_EQ(&c, &system_clock());
  EXPECT_EQ(c.subscribe([] {}), 0u);  // it never moves by command, so nobody is told
}

TEST(ClockTest, VirtualClockStartsAtRealTimeAndStandsStill) {
  VirtualClock c;
  EXPECT_TRUE(c.is_virtual());
  EXPECT_LE(std::abs(c.now_ms() - real_ms()), 1000);
  const auto t = c.now_ms();
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(c.now_ms(), t);
}

TEST(ClockTest, VirtualClockSetsAndAdvancesBothWays) {
  VirtualClock c(1'000'000);
  EXPECT_EQ(c.now_ms(), 1'000'000);
  c.advance_ms(1500);
  EXPECT_EQ(c.now_ms(), 1'001'500);
  EXPECT_EQ(c.now_seconds(), 1001);
  c.set_ms(42);
  EXPECT_EQ(c.now_ms(), 42);
  c.advance_ms(-2);
  EXPECT_EQ(c.now_ms(), 40);
}

TEST(ClockTest, VirtualClockNotifiesSubscribersUntilUnsubscribed) {
  VirtualClock c(0);
  int a = 0;
  int b = 0;
  std::int64_t seen = -1;
  auto ida = c.subscribe([&] {
    ++a;
    seen = c.now_ms();
  });
  auto idb = c.subscribe([&] { ++b; });
  EXPECT_NE(ida, idb);
  c.advance_ms(10);
  EXPECT_EQ(seen, 10);  // notified after the move, synchronously
  c.set_ms(5);
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 2);
  c.unsubscribe(ida);
  c.advance_ms(1);
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 3);
  c.unsubscribe(idb);
  c.unsubscribe(12345);  // unknown ids are ignored
}

TEST(ClockTest, SubscriberMayUnsubscribeItself) {
  VirtualClock c(0);
  int calls = 0;
  std::uint64_t id = 0;
  id = c.subscribe([&] {
    ++calls;
    c.unsubscribe(id);
  });
  c.advance_ms(1);
  c.advance_ms(1);
  EXPECT_EQ(calls, 1);
}

TEST(SchedulerTest, VirtualAdvanceFiresDueTimersBeforeReturning) {
  VirtualClock clock(10'000);
  Scheduler s(clock, 1);
  EXPECT_EQ(&s.clock(), &clock);
  Fired fired;
  s.at(11'500, [&] { fired.add(3); });
  s.at(11'200, [&] { fired.add(2); });
  s.after(200, [&] { fired.add(1); });  // 10'200
  s.at(13'000, [&] { fired.add(4); });
  s.at(11'200, [&] { fired.add(5); });  // same due time: after the first one scheduled for it
  EXPECT_TRUE(fired.get().empty());
  clock.advance_ms(1'500);  // 11'500: no waiting, the advance returns after they ran
  EXPECT_EQ(fired.get(), (std::vector<int>{1, 2, 5, 3}));
  clock.advance_ms(1'499);
  EXPECT_EQ(fired.get().size(), 4u);
  clock.set_ms(20'000);
  EXPECT_EQ(fired.get(), (std::vector<int>{1, 2, 5, 3, 4}));
}

TEST(SchedulerTest, SettingTheClockBackDelaysTimers) {
  VirtualClock clock(5'000);
  Scheduler s(clock, 1);
  Fired fired;
  s.at(6'000, [&] { fired.add(1); });
  clock.set_ms(1'000);
  clock.advance_ms(4'999);
  EXPECT_TRUE(fired.get().empty());
  clock.advance_ms(1);
  EXPECT_EQ(fired.get(), std::vector<int>{1});
}

TEST(SchedulerTest, TimerAlreadyDueFiresWithoutAMove) {
  VirtualClock clock(1'000);
  Scheduler s(clock, 1);
  std::promise<std::thread::id> ran;
  auto f = ran.get_future();
  s.at(500, [&] { ran.set_value(std::this_thread::get_id()); });
  ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
  EXPECT_NE(f.get(), std::this_thread::get_id());
}

TEST(SchedulerTest, SystemClockTimerFiresAtItsTime) {
  Scheduler s(system_clock(), 1);
  std::promise<std::int64_t> ran;
  auto f = ran.get_future();
  const auto due = system_clock().now_ms() + 3;
  s.at(due, [&] { ran.set_value(system_clock().now_ms()); });
  ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
  EXPECT_GE(f.get(), due);
}

TEST(SchedulerTest, EarlierTimerShortensTheSleep) {
  // The timer thread sleeps for the far timer; a nearer one scheduled later must still fire.
  Scheduler s(system_clock(), 1);
  s.after(3'600'000, [] {});
  std::promise<void> ran;
  auto f = ran.get_future();
  s.after(1, [&] { ran.set_value(); });
  EXPECT_EQ(f.wait_for(kPatience), std::future_status::ready);
}

TEST(SchedulerTest, CancelledTimerNeverFires) {
  VirtualClock clock(0);
  Scheduler s(clock, 1);
  Fired fired;
  auto a = s.at(100, [&] { fired.add(1); });
  auto b = s.at(100, [&] { fired.add(2); });
  EXPECT_NE(a, 0u);
  EXPECT_TRUE(s.cancel(a));
  EXPECT_FALSE(s.cancel(a));
  EXPECT_FALSE(s.cancel(999'999));
  clock.advance_ms(100);
  EXPECT_EQ(fired.get(), std::vector<int>{2});
  EXPECT_FALSE(s.cancel(b));  // already fired
}

TEST(SchedulerTest, CancelReleasesTheCallbackAtOnce) {
  VirtualClock clock(0);
  Scheduler s(clock, 1);
  auto held = std::make_shared<int>(7);
  auto id = s.at(1'000'000, [held] {});
  EXPECT_EQ(held.use_count(), 2);
  EXPECT_TRUE(s.cancel(id));
  EXPECT_EQ(held.use_count(), 1);
}

TEST(SchedulerTest, ManyCancelledTimersLeaveTheRestInOrder) {
  VirtualClock clock(0);
  Scheduler s(clock, 1);
  Fired fired;
  std::vector<Scheduler::TimerId> ids;
  for (int i = 0; i < 1000; ++i) {
    ids.push_back(s.at(1000 - i, [&fired, i] { fired.add(i); }));
  }
  for (int i = 0; i < 1000; ++i) {
    if (i % 100 != 0) {
      EXPECT_TRUE(s.cancel(ids[static_cast<std::size_t>(i)]));
    }
  }
  clock.advance_ms(1000);
  EXPECT_EQ(fired.get(), (std::vector<int>{900, 800, 700, 600, 500, 400, 300, 200, 100, 0}));
}

TEST(SchedulerTest, CancelWaitsForARunningCallback) {
  VirtualClock clock(0);
  Scheduler s(clock, 1);
  std::promise<void> started;
  std::promise<void> release;
  auto release_f = release.get_future().share();
  std::atomic<bool> finished{false};
  auto id = s.at(10, [&, release_f] {
    started.set_value();
    release_f.wait();
    finished = true;
  });
  // The advance returns only after the callback, so it runs on its own thread here.
  std::thread mover([&] { clock.advance_ms(10); });
  ASSERT_EQ(started.get_future().wait_for(kPatience), std::future_status::ready);
  auto cancelled = std::async(std::launch::async, [&] { return s.cancel(id); });
  EXPECT_EQ(cancelled.wait_for(5ms), std::future_status::timeout);
  release.set_value();
  ASSERT_EQ(cancelled.wait_for(kPatience), std::future_status::ready);
  EXPECT_FALSE(cancelled.get());
  EXPECT_TRUE(finished.load());  // cancel returned after the callback did
  mover.join();
}

TEST(SchedulerTest, CallbackMayCancelItselfAndOthers) {
  VirtualClock clock(0);
  Scheduler s(clock, 1);
  Fired fired;
  Scheduler::TimerId self = 0;
  Scheduler::TimerId other = 0;
  std::mutex ids;
  {
    std::lock_guard lock(ids);
    self = s.at(5, [&] {
      std::lock_guard l(ids);
      fired.add(s.cancel(self) ? 1 : 0);
      fired.add(s.cancel(other) ? 1 : 0);
    });
    other = s.at(6, [&] { fired.add(9); });
  }
  clock.advance_ms(10);
  EXPECT_EQ(fired.get(), (std::vector<int>{0, 1}));
}

TEST(SchedulerTest, CallbackMayScheduleAndMoveTheClock) {
  VirtualClock clock(0);
  Scheduler s(clock, 1);
  std::promise<void> last;
  auto f = last.get_future();
  Fired fired;
  s.at(10, [&] {
    fired.add(1);
    s.at(15, [&] { fired.add(2); });  // due already: this pass picks it up
    clock.advance_ms(1000);           // from the timer thread: must not wait for itself
    s.at(500, [&] {
      fired.add(3);
      last.set_value();
    });
  });
  clock.advance_ms(20);
  ASSERT_EQ(f.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(fired.get(), (std::vector<int>{1, 2, 3}));
}

TEST(SchedulerTest, ThrowingCallbackDoesNotStopTheTimers) {
  VirtualClock clock(0);
  Scheduler s(clock, 1);
  Fired fired;
  s.at(1, [] { throw std::runtime_error("expected by the test"); });
  s.at(2, [&] { fired.add(2); });
  s.post([] { throw std::runtime_error("expected by the test"); });
  clock.advance_ms(2);
  EXPECT_EQ(fired.get(), std::vector<int>{2});
  std::promise<void> ran;
  s.post([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(kPatience), std::future_status::ready);
}

TEST(SchedulerTest, PoolRunsWorkOffTheCallersThreadOnAllWorkers) {
  Scheduler s(system_clock(), 3);
  std::mutex mutex;
  std::condition_variable cv;
  int arrived = 0;
  std::vector<std::thread::id> threads;
  // Three items that each wait for the other two can only finish if three workers run at once.
  for (int i = 0; i < 3; ++i) {
    s.post([&] {
      std::unique_lock lock(mutex);
      threads.push_back(std::this_thread::get_id());
      ++arrived;
      cv.notify_all();
      cv.wait_for(lock, kPatience, [&] { return arrived == 3; });
    });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(cv.wait_for(lock, kPatience, [&] { return arrived == 3; }));
  for (auto id : threads) {
    EXPECT_NE(id, std::this_thread::get_id());
  }
  std::sort(threads.begin(), threads.end());
  EXPECT_EQ(std::unique(threads.begin(), threads.end()), threads.end());
}

TEST(SchedulerTest, ZeroPoolThreadsStillRunsWork) {
  Scheduler s(system_clock(), 0);
  std::promise<void> ran;
  s.post([&] { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(kPatience), std::future_status::ready);
}

TEST(SchedulerTest, DestructorRunsQueuedWorkAndDropsPendingTimers) {
  VirtualClock clock(0);
  std::atomic<int> done{0};
  auto held = std::make_shared<int>(1);
  {
    Scheduler s(clock, 1);
    for (int i = 0; i < 200; ++i) {
      s.post([&] { ++done; });
    }
    s.at(1'000'000, [held, &done] { done += 1000; });
  }
  EXPECT_EQ(done.load(), 200);
  EXPECT_EQ(held.use_count(), 1);
  clock.advance_ms(2'000'000);  // the scheduler unsubscribed: nothing left to call
  EXPECT_EQ(done.load(), 200);
}

TEST(SchedulerTest, ConcurrentScheduleCancelAndAdvance) {
  VirtualClock clock(0);
  std::atomic<int> fired{0};
  std::atomic<int> cancelled{0};
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  {
    Scheduler s(clock, 2);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          auto id = s.at(clock.now_ms() + (i % 7), [&] { ++fired; });
          if ((i + t) % 3 == 0 && s.cancel(id)) {
            ++cancelled;
          }
          if (i % 50 == 0) {
            clock.advance_ms(3);
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    clock.advance_ms(100);
    EXPECT_EQ(fired.load() + cancelled.load(), kThreads * kPerThread);
  }
}

}  // namespace
}  // namespace fogbank::protocol
