// How many milter sessions are open (from connect to close), so that a stop can
// wait for them. libmilter-free: the callbacks count, the daemon waits.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>

namespace tlsgate::engine {

class LiveSessions {
 public:
  void opened() noexcept { count_.fetch_add(1, std::memory_order_relaxed); }
  void closed() noexcept { count_.fetch_sub(1, std::memory_order_relaxed); }
  std::size_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

  // Until no session is open or `timeout` has passed, calls `pause(interval)` (by
  // default a sleep) between two looks; returns how many are still open.
  using Pause = std::function<void(std::chrono::milliseconds)>;
  std::size_t wait_until_none(std::chrono::milliseconds timeout, std::chrono::milliseconds interval,
                              const Pause& pause = sleep) const;
  static void sleep(std::chrono::milliseconds interval);

 private:
  std::atomic<std::size_t> count_{0};
};

// The process's sessions, counted by milter/callbacks.cc.
LiveSessions& live_sessions();

}  // namespace tlsgate::engine
