// The count of open milter sessions a stop waits for (engine/live_sessions.h).
#include "engine/live_sessions.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace tlsgate::engine {
namespace {

using namespace std::chrono_literals;

TEST(LiveSessions, CountsOpenedAndClosed) {
  LiveSessions s;
  EXPECT_EQ(s.count(), 0u);
  s.opened();
  s.opened();
  EXPECT_EQ(s.count(), 2u);
  s.closed();
  EXPECT_EQ(s.count(), 1u);
}

TEST(LiveSessions, CountsFromManyThreads) {
  LiveSessions s;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&s] {
      for (int i = 0; i < 10'000; ++i) {
        s.opened();
        s.closed();
      }
      s.opened();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(s.count(), 8u);
}

TEST(LiveSessions, NoSessionNoWait) {
  LiveSessions s;
  int pauses = 0;
  EXPECT_EQ(s.wait_until_none(10s, 50ms, [&](std::chrono::milliseconds) { ++pauses; }), 0u);
  EXPECT_EQ(pauses, 0);
}

TEST(LiveSessions, WaitsUntilTheLastOneCloses) {
  LiveSessions s;
  s.opened();
  s.opened();
  std::vector<std::chrono::milliseconds> pauses;
  const std::size_t left = s.wait_until_none(10s, 50ms, [&](std::chrono::milliseconds d) {
    pauses.push_back(d);
    if (pauses.size() == 2 || pauses.size() == 3) s.closed();  // one per look
  });
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(pauses, (std::vector<std::chrono::milliseconds>{50ms, 50ms, 50ms}));
}

TEST(LiveSessions, GivesUpAfterTheTimeoutWithTheCountLeft) {
  LiveSessions s;
  s.opened();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(s.wait_until_none(120ms, 50ms), 1u) << "the default pause sleeps";
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 120ms);
  EXPECT_LT(took, 5s);
}

TEST(LiveSessions, ThePauseNeverOvershootsTheDeadline) {
  LiveSessions s;
  s.opened();
  std::chrono::milliseconds longest{0};
  s.wait_until_none(30ms, 1000ms, [&](std::chrono::milliseconds d) {
    longest = std::max(longest, d);
    std::this_thread::sleep_for(d);
  });
  EXPECT_LE(longest, 30ms);
}

}  // namespace
}  // namespace tlsgate::engine
