#include "engine/live_sessions.h"

#include <algorithm>
#include <thread>

namespace tlsgate::engine {

void LiveSessions::sleep(std::chrono::milliseconds interval) {
  std::this_thread::sleep_for(interval);
}

std::size_t LiveSessions::wait_until_none(std::chrono::milliseconds timeout,
                                          std::chrono::milliseconds interval,
                                          const Pause& pause) const {
  using std::chrono::steady_clock;
  const auto deadline = steady_clock::now() + timeout;
  for (;;) {
    const std::size_t open = count();
    if (open == 0) return 0;
    const auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) return open;
    pause(std::min(interval, std::chrono::ceil<std::chrono::milliseconds>(left)));
  }
}

LiveSessions& live_sessions() {
  static LiveSessions sessions;
  return sessions;
}

}  // namespace tlsgate::engine
