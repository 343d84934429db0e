#pragma once
// The whole fogbank process behind a Beast-free interface: storage, services, listeners.

#include <cstdint>
#include <memory>

#include "fogbank/server/config.hpp"

namespace fogbank::server {

/// Starts fogbank with `config`. Lifecycle: construct (opens storage, binds the ports: throws
/// std::runtime_error with a readable message on failure), then run() blocks until stop() or
/// SIGINT/SIGTERM, then storage is flushed and closed.
class App {
 public:
  /// `handle_signals` turns SIGINT/SIGTERM into a graceful stop (installed before the
  /// "listening" line is logged, so an early signal is never lost).
  explicit App(Config config, bool handle_signals = true);
  ~App();
  /// Serves until stopped.
  void run();
  /// Thread-safe: begins a graceful shutdown.
  void stop();
  /// The bound API port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fogbank::server
