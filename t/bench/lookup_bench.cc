// Netblock lookup benchmark: loads a configuration through the real loader, as
// tlsgate does (so the build time is the time to load its networks_files), then times
// the lookups of the addresses in a file, and checks every answer.
//   build/lookup_bench CONFIG ADDRESSES [EXPECTED]
// ADDRESSES: one address a line (see gen_networks). EXPECTED: per address, the source
// that must govern it, then anything; a wrong answer fails the run (exit 1).
//
// Printed: load time (wall and CPU), VmRSS before and after the load and VmHWM (from
// /proc/self/status), then ns per lookup (Policy::rule_for, what the milter calls),
// timed per batch of 1,000 lookups (steady_clock; a thread CPU clock costs a system
// call, which here weighed more than the 1,000 lookups):
//   cold  every address in the file's (shuffled) order, 3 passes, so that the
//         lookups spread over the whole table: p50 and p99 of the batches, the mean
//   warm  the first 1,000 addresses again and again (all in cache): p50, p99
//   parse the text of every address to Address, then the lookup, 3 passes: the mean
//         (what a peer that reads text keys does per key)
// The last line, "result: key=value ...", is for t/bench/lookup.sh.
//
//   build/lookup_bench --partners CONFIG DOMAINS [EXPECTED]
// Partner domains (issue 21): loads a configuration of [partner NAME] sections (see
// gen_partners), then times Policy::partners_for_sender (what the session calls at
// MAIL) on the domains in a file, each already parsed as envelope_domain gives it:
// cold (the file's order, 3 passes), warm (the first 1,000 again and again), and
// parse + lookup (envelope_domain of "<postmaster@DOMAIN>", then the lookup).
// EXPECTED: per domain, the partners that must match, comma-separated, or "-".
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/address.h"
#include "policy/domain.h"
#include "policy/loader.h"

using namespace tlsgate::policy;

namespace {

// A field of /proc/self/status in KiB ("VmRSS", "VmHWM"), or -1.
long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

using Clock = std::chrono::steady_clock;
double ns_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

std::vector<std::string> read_lines(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::perror(path);
    std::exit(1);
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct Stats {
  double p50, p99, mean;
};

// Times `lookup(i % n)` for i in [0, passes * n) in batches of `batch` (which
// divides n); ns per lookup per batch.
template <class Lookup>
Stats time_batches(std::size_t n, std::size_t passes, std::size_t batch, const Lookup& lookup) {
  std::vector<double> per_batch;
  double total = 0;
  for (std::size_t pass = 0; pass < passes; ++pass) {
    for (std::size_t s = 0; s + batch <= n; s += batch) {
      const auto t0 = Clock::now();
      for (std::size_t i = s; i < s + batch; ++i) lookup(i);
      const double ns = ns_since(t0);
      total += ns;
      per_batch.push_back(ns / static_cast<double>(batch));
    }
  }
  std::sort(per_batch.begin(), per_batch.end());
  return {per_batch[per_batch.size() / 2], per_batch[per_batch.size() * 99 / 100],
          total / static_cast<double>(per_batch.size() * batch)};
}

struct Loaded {
  std::shared_ptr<const Policy> policy;
  double wall_ms, cpu_ms;
  long rss_before, rss_after, hwm;
};

Loaded load_timed(const char* config) {
  Loaded l{};
  l.rss_before = status_kib("VmRSS");
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  const LoadResult loaded = load_policy(config);
  l.wall_ms = ns_since(t0) / 1e6;
  l.cpu_ms = (cpu_seconds() - cpu0) * 1e3;
  l.rss_after = status_kib("VmRSS");
  l.hwm = status_kib("VmHWM");
  if (!loaded.policy) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    std::exit(1);
  }
  l.policy = loaded.policy;
  return l;
}

// The partners whose sender_domains match, in file order, comma-separated; "-" for none.
std::string names_of(const SenderPartners& s) {
  std::vector<const Rule*> all = s.for_transaction;
  all.insert(all.end(), s.for_recipients.begin(), s.for_recipients.end());
  std::sort(all.begin(), all.end(), std::less<>());
  std::string out;
  for (const Rule* r : all) out += (out.empty() ? "" : ",") + r->partner;
  return out.empty() ? "-" : out;
}

int partner_main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: lookup_bench --partners CONFIG DOMAINS [EXPECTED]\n");
    return 2;
  }
  const Loaded l = load_timed(argv[2]);
  const Policy& policy = *l.policy;
  const std::vector<std::string> texts = read_lines(argv[3]);
  std::vector<std::string> addresses;
  std::vector<EnvelopeDomain> domains;
  for (const std::string& t : texts) {
    addresses.push_back("<postmaster@" + t + ">");
    domains.push_back(envelope_domain(addresses.back()));
    if (!domains.back().has_domain()) {
      std::fprintf(stderr, "%s: not a domain: %s\n", argv[3], t.c_str());
      return 1;
    }
  }
  if (domains.empty()) {
    std::fprintf(stderr, "%s: no domains\n", argv[3]);
    return 1;
  }
  if (argc > 4) {
    const std::vector<std::string> expected = read_lines(argv[4]);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < domains.size(); ++i) {
      const std::string want = i < expected.size() ? expected[i] : "(missing)";
      const std::string got = names_of(policy.partners_for_sender(domains[i]));
      if (got != want && ++wrong <= 5) {
        std::fprintf(stderr, "%s: partners %s, expected %s\n", texts[i].c_str(), got.c_str(),
                     want.c_str());
      }
    }
    if (wrong > 0) {
      std::fprintf(stderr, "lookup_bench: %zu of %zu lookups wrong\n", wrong, domains.size());
      return 1;
    }
  }
  std::size_t sink = 0;
  const std::size_t batch = std::min<std::size_t>(1000, domains.size());
  const std::size_t n = domains.size() / batch * batch;
  const auto lookup = [&](std::size_t i) {
    const SenderPartners s = policy.partners_for_sender(domains[i]);
    sink += s.for_transaction.size() + s.for_recipients.size();
  };
  const Stats cold = time_batches(n, 3, batch, lookup);
  const std::size_t rounds = std::max<std::size_t>(1000, n / batch);
  const Stats warm = time_batches(batch, rounds, batch, lookup);
  const Stats parse = time_batches(n, 3, batch, [&](std::size_t i) {
    const SenderPartners s = policy.partners_for_sender(envelope_domain(addresses[i]));
    sink += s.for_transaction.size();
  });
  const std::size_t patterns = policy.sender_index().domain_count();
  const std::size_t index_bytes =
      policy.sender_index().memory_bytes() + policy.recipient_index().memory_bytes();

  std::printf("command: build/lookup_bench --partners %s %s%s%s\n", argv[2], argv[3],
              argc > 4 ? " " : "", argc > 4 ? argv[4] : "");
  std::printf(
      "load: %zu partners, %zu sender + %zu recipient domains, indexes %.1f MiB; %.0f ms wall, "
      "%.0f ms CPU\n",
      policy.partners().size(), patterns, policy.recipient_index().domain_count(),
      static_cast<double>(index_bytes) / (1 << 20), l.wall_ms, l.cpu_ms);
  std::printf("memory: VmRSS %.1f MiB before the load, %.1f MiB after; VmHWM %.1f MiB\n",
              l.rss_before / 1024.0, l.rss_after / 1024.0, l.hwm / 1024.0);
  std::printf(
      "lookup ns (4-label domains): cold p50 %.1f p99 %.1f mean %.1f (%zu domains x 3%s); "
      "warm p50 %.1f p99 %.1f (%zu domains x %zu); parse+lookup mean %.1f\n",
      cold.p50, cold.p99, cold.mean, n, argc > 4 ? ", every answer checked" : "", warm.p50,
      warm.p99, batch, rounds, parse.mean);
  std::printf(
      "result: partners=%zu domains=%zu load_ms=%.1f load_cpu_ms=%.1f rss_before_kib=%ld "
      "rss_after_kib=%ld hwm_kib=%ld index_bytes=%zu cold_p50=%.1f cold_p99=%.1f "
      "cold_mean=%.1f warm_p50=%.1f warm_p99=%.1f parse_mean=%.1f queries=%zu\n",
      policy.partners().size(), patterns + policy.recipient_index().domain_count(), l.wall_ms,
      l.cpu_ms, l.rss_before, l.rss_after, l.hwm, index_bytes, cold.p50, cold.p99, cold.mean,
      warm.p50, warm.p99, parse.mean, n);
  return sink == 0x5eed ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--partners") return partner_main(argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: lookup_bench CONFIG ADDRESSES [EXPECTED]\n");
    return 2;
  }
  const long rss_before = status_kib("VmRSS");
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  const LoadResult loaded = load_policy(argv[1]);
  const double load_ms = ns_since(t0) / 1e6;
  const double load_cpu_ms = (cpu_seconds() - cpu0) * 1e3;
  const long rss_after = status_kib("VmRSS");
  const long hwm = status_kib("VmHWM");
  if (!loaded.policy) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 1;
  }
  const Policy& policy = *loaded.policy;

  const std::vector<std::string> texts = read_lines(argv[2]);
  std::vector<Address> addresses;
  addresses.reserve(texts.size());
  for (const std::string& t : texts) {
    const auto a = Address::parse(t);
    if (!a) {
      std::fprintf(stderr, "%s: not an address: %s\n", argv[2], t.c_str());
      return 1;
    }
    addresses.push_back(*a);
  }
  if (addresses.empty()) {
    std::fprintf(stderr, "%s: no addresses\n", argv[2]);
    return 1;
  }
  if (argc > 3) {
    const std::vector<std::string> expected = read_lines(argv[3]);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
      const std::string want =
          i < expected.size() ? expected[i].substr(0, expected[i].find(' ')) : "(missing)";
      const std::string& got = policy.rule_for(addresses[i]).source;
      if (got != want && ++wrong <= 5) {
        std::fprintf(stderr, "%s: source=%s, expected %s\n", texts[i].c_str(), got.c_str(),
                     want.c_str());
      }
    }
    if (wrong > 0) {
      std::fprintf(stderr, "lookup_bench: %zu of %zu lookups wrong\n", wrong, addresses.size());
      return 1;
    }
  }

  std::uintptr_t sink = 0;
  const std::size_t batch = std::min<std::size_t>(1000, addresses.size());
  const std::size_t n = addresses.size() / batch * batch;
  const Stats cold = time_batches(n, 3, batch, [&](std::size_t i) {
    sink += reinterpret_cast<std::uintptr_t>(&policy.rule_for(addresses[i]));
  });
  const std::size_t rounds = std::max<std::size_t>(1000, n / batch);
  const Stats warm = time_batches(batch, rounds, batch, [&](std::size_t i) {
    sink += reinterpret_cast<std::uintptr_t>(&policy.rule_for(addresses[i]));
  });
  const Stats parse = time_batches(n, 3, batch, [&](std::size_t i) {
    sink += reinterpret_cast<std::uintptr_t>(&policy.rule_for(Address::parse(texts[i])));
  });

  std::printf("command: build/lookup_bench %s %s%s%s\n", argv[1], argv[2], argc > 3 ? " " : "",
              argc > 3 ? argv[3] : "");
  std::printf(
      "load: %zu netblocks, %zu sources, %zu ranges, table %.1f MiB; %.0f ms wall, %.0f ms "
      "CPU\n",
      policy.netblock_count(), policy.source_count(), policy.table().range_count(),
      static_cast<double>(policy.table().memory_bytes()) / (1 << 20), load_ms, load_cpu_ms);
  std::printf("memory: VmRSS %.1f MiB before the load, %.1f MiB after; VmHWM %.1f MiB\n",
              rss_before / 1024.0, rss_after / 1024.0, hwm / 1024.0);
  std::printf(
      "lookup ns: cold p50 %.1f p99 %.1f mean %.1f (%zu addresses x 3%s); warm p50 %.1f "
      "p99 %.1f (%zu addresses x %zu); parse+lookup mean %.1f\n",
      cold.p50, cold.p99, cold.mean, n, argc > 3 ? ", every answer checked" : "", warm.p50,
      warm.p99, batch, rounds, parse.mean);
  std::printf(
      "result: netblocks=%zu load_ms=%.1f load_cpu_ms=%.1f rss_before_kib=%ld rss_after_kib=%ld "
      "hwm_kib=%ld table_bytes=%zu cold_p50=%.1f cold_p99=%.1f cold_mean=%.1f warm_p50=%.1f "
      "warm_p99=%.1f parse_mean=%.1f addresses=%zu\n",
      policy.netblock_count(), load_ms, load_cpu_ms, rss_before, rss_after, hwm,
      policy.table().memory_bytes(), cold.p50, cold.p99, cold.mean, warm.p50, warm.p99, parse.mean,
      n);
  return sink == 0x5eed ? 3 : 0;
}
