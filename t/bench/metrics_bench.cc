// What counting a decision costs (engine/metrics.h): Metrics::count_decision as the
// session calls it once per logged decision, from 1 and from N threads at once (one
// lock for all counters, so threads contend), and one exposition() (the writer
// thread's work every metrics_interval) with S sources. Prints ns per call.
//   build/metrics_bench [THREADS [SOURCES]]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "engine/metrics.h"

namespace {

using Clock = std::chrono::steady_clock;
using tlsgate::engine::Metrics;

double ns_per_count(Metrics& m, const std::vector<std::string>& sources, unsigned threads,
                    unsigned per_thread) {
  tlsgate::policy::Decision refused;
  refused.verdict = tlsgate::policy::Verdict::reject;
  refused.reason = tlsgate::policy::Reason::starttls_required;
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (unsigned i = 0; i < per_thread; ++i) {
        const std::string& source = sources[(i + t) % sources.size()];
        if (i % 4 == 0) {
          m.count_decision(source, "", refused, std::nullopt);
        } else {
          m.count_decision(source, "", {}, tlsgate::policy::TlsVersion::tls1_3);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  const std::chrono::duration<double, std::nano> took = Clock::now() - start;
  return took.count() / (static_cast<double>(threads) * per_thread);
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned threads = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 2;
  const unsigned source_count = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 5;
  std::vector<std::string> sources;
  for (unsigned i = 0; i < source_count; ++i) sources.push_back("source-" + std::to_string(i));
  Metrics m;
  m.policy_loaded(sources, 7, 0);
  constexpr unsigned kCounts = 2'000'000;
  std::printf("count_decision, 1 thread: %.1f ns\n", ns_per_count(m, sources, 1, kCounts));
  std::printf("count_decision, %u threads at once: %.1f ns a call\n", threads,
              ns_per_count(m, sources, threads, kCounts / threads));
  const auto start = Clock::now();
  std::size_t bytes = 0;
  for (int i = 0; i < 1000; ++i) bytes += m.exposition().size();
  const std::chrono::duration<double, std::micro> took = Clock::now() - start;
  std::printf("exposition, %u sources: %.1f us, %zu bytes\n", source_count, took.count() / 1000,
              bytes / 1000);
  return 0;
}
