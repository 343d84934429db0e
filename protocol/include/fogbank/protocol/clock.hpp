#pragma once
// The one clock every service reads, and the scheduler that runs timed and blocking work.
//
// Services never call std::chrono::system_clock themselves: visibility timeouts, delays,
// retention, token and presigned-URL expiry, long-poll deadlines and scheduled work all follow
// Clock::now_ms(). The system clock is the default; `--clock virtual` installs a VirtualClock that
// tests set and advance through /_fogbank/clock. SigV4's 15-minute skew check stays on real time
// (clients sign with their own clocks).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace fogbank::protocol {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Milliseconds since the Unix epoch.
  [[nodiscard]] virtual std::int64_t now_ms() const = 0;
  [[nodiscard]] std::int64_t now_seconds() const { return now_ms() / 1000; }
  [[nodiscard]] virtual bool is_virtual() const { return false; }

  /// Registers `on_change`, called (from the thread that moved the clock) after every set or
  /// advance of a virtual clock; never called for the system clock. Returns an id for unsubscribe.
  virtual std::uint64_t subscribe(std::function<void()> on_change) { return 0; }
  virtual void unsubscribe(std::uint64_t id) {}
};

/// The process-wide system clock.
Clock& system_clock();

/// A clock that stands still until told otherwise. Starts at the real time of its creation.
class VirtualClock final : public Clock {
 public:
  VirtualClock();
  ~VirtualClock() override;
  [[nodiscard]] std::int64_t now_ms() const override;
  [[nodiscard]] bool is_virtual() const override { return true; }
  std::uint64_t subscribe(std::function<void()> on_change) override;
  void unsubscribe(std::uint64_t id) override;

  /// Moves the clock (backwards too) and notifies subscribers.
  void set_ms(std::int64_t unix_ms);
  void advance_ms(std::int64_t delta_ms);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Timers on the Clock and a bounded pool for blocking work. No thread is created per request:
/// read-ahead, MD5 workers, large copies and memtable flushes all run on the pool.
class Scheduler {
 public:
  using TimerId = std::uint64_t;

  /// `pool_threads` workers run post()ed work; one timer thread fires due timers.
  Scheduler(Clock& clock, std::size_t pool_threads);
  ~Scheduler();  ///< stops the threads; pending timers are dropped, queued work is run first
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  [[nodiscard]] Clock& clock() const;

  /// Runs `fn` on the timer thread once clock().now_ms() >= due_ms (at once if already due). A
  /// virtual clock's advance fires everything that became due immediately. `fn` must be short.
  TimerId at(std::int64_t due_ms, std::function<void()> fn);
  TimerId after(std::int64_t delay_ms, std::function<void()> fn) { return at(clock().now_ms() + delay_ms, std::move(fn)); }
  /// Cancels a timer that has not fired; returns whether it was still pending.
  bool cancel(TimerId id);

  /// Runs blocking `work` on the pool (FIFO). Never runs it on the caller's thread.
  void post(std::function<void()> work);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace fogbank::protocol
