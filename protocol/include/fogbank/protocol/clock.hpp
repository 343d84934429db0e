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
#include <utility>

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
  /// Callbacks may run concurrently when two threads move the clock at once.
  virtual std::uint64_t subscribe(std::function<void()> on_change) { return 0; }
  /// After this returns, the callback is not running (unless on this very thread) and never runs again.
  virtual void unsubscribe(std::uint64_t id) {}
};

/// The process-wide system clock.
Clock& system_clock();

/// A clock that stands still until told otherwise. Starts at the real time of its creation (or
/// at `start_ms`). Must outlive its subscribers (a Scheduler built on it).
class VirtualClock final : public Clock {
 public:
  VirtualClock();
  explicit VirtualClock(std::int64_t start_ms);
  ~VirtualClock() override;
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  [[nodiscard]] std::int64_t now_ms() const override;
  [[nodiscard]] bool is_virtual() const override { return true; }
  std::uint64_t subscribe(std::function<void()> on_change) override;
  void unsubscribe(std::uint64_t id) override;

  /// Moves the clock (backwards too) and notifies subscribers before returning; with a Scheduler
  /// subscribed, every timer due at the new time has run when this returns (called from a timer
  /// callback, it cannot wait for its own thread: those timers run right after that callback).
  void set_ms(std::int64_t unix_ms);
  void advance_ms(std::int64_t delta_ms);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Timers on the Clock and a bounded pool for blocking work. No thread is created per request:
/// read-ahead, MD5 workers, large copies and memtable flushes all run on the pool.
///
/// Timer callbacks run one at a time on the timer thread, in due-time order (ties: the order they
/// were scheduled in). An exception escaping a callback or a work item is reported on stderr and
/// otherwise ignored, so one faulty task cannot stop every timer.
class Scheduler {
 public:
  using TimerId = std::uint64_t;

  /// `pool_threads` workers (at least one) run post()ed work; one timer thread fires due timers.
  /// `clock` must outlive the scheduler.
  Scheduler(Clock& clock, std::size_t pool_threads);
  ~Scheduler();  ///< stops the threads; pending timers are dropped, queued work is run first
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  [[nodiscard]] Clock& clock() const;

  /// Runs `fn` on the timer thread once clock().now_ms() >= due_ms (at once if already due). A
  /// virtual clock's advance fires everything that became due immediately. `fn` must be short and
  /// must not block (post() blocking work): every other timer, and whoever moves a virtual clock,
  /// waits for it.
  /// Ids are never 0 and never reused.
  TimerId at(std::int64_t due_ms, std::function<void()> fn);
  TimerId after(std::int64_t delay_ms, std::function<void()> fn) { return at(clock().now_ms() + delay_ms, std::move(fn)); }
  /// Cancels a timer that has not fired; returns whether it was still pending. If its callback is
  /// running on the timer thread right now, waits for it to return (unless called from that
  /// callback), so after cancel() the callback neither runs nor will run: it may then free what
  /// the callback uses. Hence never cancel while holding a lock the callback takes.
  bool cancel(TimerId id);

  /// Runs blocking `work` on the pool (FIFO). Never runs it on the caller's thread.
  void post(std::function<void()> work);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace fogbank::protocol
