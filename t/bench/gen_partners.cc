// Writes a benchmark configuration with N partner domain patterns, a fixed seed, and
// the 4-label domains to look up in it, with the partners each must find.
//   build/gen_partners N DIR [QUERIES]
//
// The partners: one per 5 patterns, [partner pK], each listing pK.example,
// *.pK.example, pK-mail.example, *.pK-mail.example and pK.example.net: 80 % by
// sender_domains, 15 % by recipient_domains, 5 % by both (the same list), one in
// ten with networks (a /24 and a /48), each requiring STARTTLS.
//
// DIR gets:
//   tlsgate.ini   [source default] and the partners
//   domains.txt   QUERIES domains (default 1,000,000), 4 labels each, shuffled: half
//                 under a partner's "*." pattern (a.mx.pK.example, a.mx.pK-mail.example),
//                 half misses (a.mx.qK.example, and look-alikes a.mx.notpK.example)
//   expected.txt  per domain: the partners whose sender_domains match it, in file
//                 order, comma-separated; "-" for none
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

enum class Keys { sender, recipient, both };

struct Query {
  std::string domain;
  std::string expected;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: gen_partners N DIR [QUERIES]\n");
    return 2;
  }
  const std::size_t patterns = std::strtoul(argv[1], nullptr, 10);
  const std::filesystem::path dir = argv[2];
  const std::size_t queries = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 1000000;
  const std::size_t partners = std::max<std::size_t>(1, patterns / 5);
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(2026);

  std::vector<Keys> keys(partners);
  std::FILE* ini = std::fopen((dir / "tlsgate.ini").c_str(), "w");
  if (ini == nullptr) {
    std::perror("tlsgate.ini");
    return 1;
  }
  std::fprintf(ini, "; %zu partners, %zu domain patterns (t/bench/gen_partners)\n", partners,
               partners * 5);
  std::fprintf(ini, "[source default]\nrequire_starttls = no\n");
  for (std::size_t k = 0; k < partners; ++k) {
    const unsigned roll = static_cast<unsigned>(rng() % 100);
    keys[k] = roll < 80 ? Keys::sender : roll < 95 ? Keys::recipient : Keys::both;
    const std::string list = "p" + std::to_string(k) + ".example, *.p" + std::to_string(k) +
                             ".example, p" + std::to_string(k) + "-mail.example, *.p" +
                             std::to_string(k) + "-mail.example, p" + std::to_string(k) +
                             ".example.net";
    std::fprintf(ini, "\n[partner p%zu]\n", k);
    if (keys[k] != Keys::recipient) std::fprintf(ini, "sender_domains = %s\n", list.c_str());
    if (keys[k] != Keys::sender) std::fprintf(ini, "recipient_domains = %s\n", list.c_str());
    if (keys[k] != Keys::recipient && k % 10 == 0) {
      std::fprintf(ini, "networks = 10.%zu.%zu.0/24, 2001:db8:%zx::/48\n", (k >> 8) & 0xff,
                   k & 0xff, k & 0xffff);
    }
    std::fprintf(ini, "require_starttls = yes\n");
  }
  std::fclose(ini);

  std::vector<Query> out;
  out.reserve(queries);
  for (std::size_t i = 0; i < queries; ++i) {
    const std::size_t k = rng() % partners;
    const std::string host = "a" + std::to_string(rng() % 10) + ".mx";
    const bool by_sender = keys[k] != Keys::recipient;
    switch (rng() % 4) {
      case 0:
        out.push_back({host + ".p" + std::to_string(k) + ".example",
                       by_sender ? "p" + std::to_string(k) : "-"});
        break;
      case 1:
        out.push_back({host + ".p" + std::to_string(k) + "-mail.example",
                       by_sender ? "p" + std::to_string(k) : "-"});
        break;
      case 2: out.push_back({host + ".q" + std::to_string(k) + ".example", "-"}); break;
      default: out.push_back({host + ".notp" + std::to_string(k) + ".example", "-"}); break;
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  std::FILE* domains = std::fopen((dir / "domains.txt").c_str(), "w");
  std::FILE* expected = std::fopen((dir / "expected.txt").c_str(), "w");
  if (domains == nullptr || expected == nullptr) {
    std::perror("domains.txt");
    return 1;
  }
  for (const Query& q : out) {
    std::fprintf(domains, "%s\n", q.domain.c_str());
    std::fprintf(expected, "%s\n", q.expected.c_str());
  }
  std::fclose(domains);
  std::fclose(expected);
  std::printf("gen_partners: %zu partners, %zu patterns, %zu queries in %s\n", partners,
              partners * 5, queries, dir.c_str());
  return 0;
}
