// Writes a benchmark configuration with N distinct netblocks, a fixed seed, and the
// addresses to look up in it, with the answer each must get.
//   build/gen_networks N DIR [ADDRESSES]
//
// The netblocks: ~70 % IPv4 (/8-/32), ~30 % IPv6 (/16-/128), lengths weighted like a
// routing table plus host entries (mostly /24 and /48, then /22, /23, /32, /44, /64,
// /128, ...). About a quarter are nested inside an earlier netblock (at any depth);
// the others are placed at random and nest by chance.
//
// DIR gets:
//   tlsgate.ini      [source bulk] networks_file = networks.txt (the top-level blocks),
//                    [source n1] .. [source n7] networks_file = nested-K.txt (the nested
//                    blocks: each in a source other than its parent's), each source
//                    with a different rule
//   postfix.cidr     the same netblocks for Postfix's cidr: table, longest first (cidr
//                    tables are first-match, so this gives the longest match)
//   addresses.txt    ADDRESSES addresses (default 1,000,000), shuffled: inside top-level
//                    and nested blocks, at their first and last address, and misses
//   expected.txt     per address: the source that must govern it (default for a miss)
//                    and how many listed netblocks contain it
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

using U128 = unsigned __int128;

constexpr unsigned kSources = 8;  // 0: bulk, 1..7: n1..n7

// Relative weight of each prefix length (index = length).
std::array<unsigned, 33> v4_weights() {
  std::array<unsigned, 33> w{};
  const unsigned table[] = {
      // 8     9    10   11   12   13   14   15   16   17   18   19   20   21    22   23
      1, 1, 2, 4, 8, 15, 30, 40, 150, 80, 150, 300, 400, 450, 1100, 1000,
      // 24  25  26  27  28  29  30  31  32
      5500, 60, 70, 70, 80, 90, 90, 20, 800};
  for (unsigned len = 8; len <= 32; ++len) w[len] = table[len - 8];
  return w;
}

std::array<unsigned, 129> v6_weights() {
  std::array<unsigned, 129> w{};
  for (unsigned len = 16; len <= 128; ++len) w[len] = 3;  // every length occurs
  w[20] = w[24] = w[28] = 10;
  w[29] = 300;
  w[32] = 1000;
  w[36] = 250;
  w[40] = 450;
  w[44] = 700;
  w[45] = w[46] = w[47] = 150;
  w[48] = 4500;
  w[52] = 60;
  w[56] = 300;
  w[60] = 40;
  w[64] = 600;
  w[96] = 20;
  w[112] = 20;
  w[127] = 20;
  w[128] = 500;
  return w;
}

struct Prefix {
  U128 key;  // the first address as a `width`-bit number
  std::uint8_t length;
  bool v6;
  std::uint8_t source;
};

unsigned width_of(bool v6) { return v6 ? 128 : 32; }

U128 host_mask(unsigned length, unsigned width) {
  if (length >= width) return 0;
  return (U128{1} << (width - length)) - 1;
}

// The netblocks by (family, length, key), for the longest-match answers: open addressing.
class PrefixSet {
 public:
  explicit PrefixSet(std::size_t n) {
    std::size_t cap = 16;
    while (cap < 2 * n + 16) cap *= 2;
    slots_.resize(cap);
  }
  // False if it was there already.
  bool insert(const Prefix& p) {
    Slot& s = find(p.key, p.length, p.v6);
    if (s.used) return false;
    s = {p.key, p.length, p.v6, p.source, true};
    return true;
  }
  // The block's source, or -1 if it is not listed.
  int source(U128 key, unsigned length, bool v6) {
    const Slot& s = find(key, length, v6);
    return s.used ? s.source : -1;
  }

 private:
  struct Slot {
    U128 key;
    std::uint8_t length;
    bool v6;
    std::uint8_t source;
    bool used;
  };
  Slot& find(U128 key, unsigned length, bool v6) {
    std::uint64_t h = static_cast<std::uint64_t>(key) ^ static_cast<std::uint64_t>(key >> 64) ^
                      (std::uint64_t{length} << 1 | v6) * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (!s.used || (s.key == key && s.length == length && s.v6 == v6)) return s;
    }
  }
  std::vector<Slot> slots_;
};

std::string address_text(U128 key, bool v6) {
  char buf[INET6_ADDRSTRLEN];
  std::uint8_t bytes[16];
  const unsigned n = v6 ? 16 : 4;
  for (unsigned i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(key >> (8 * (n - 1 - i)));
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, buf, sizeof buf);
  return buf;
}

std::string source_name(unsigned s) { return s == 0 ? "bulk" : "n" + std::to_string(s); }

FILE* open_out(const std::filesystem::path& p) {
  FILE* f = std::fopen(p.c_str(), "w");
  if (f == nullptr) {
    std::perror(p.c_str());
    std::exit(1);
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: gen_networks N DIR [ADDRESSES]\n");
    return 2;
  }
  const std::size_t n = std::strtoull(argv[1], nullptr, 10);
  const std::filesystem::path dir = argv[2];
  const std::size_t n_addresses = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1000000;
  std::filesystem::create_directories(dir);

  std::mt19937_64 rng(2026);
  auto uniform = [&](std::uint64_t bound) { return rng() % bound; };
  auto random128 = [&] { return (U128{rng()} << 64) | rng(); };
  const auto w4 = v4_weights();
  const auto w6 = v6_weights();
  // A length in [lo, hi] drawn with the family's weights.
  auto pick_length = [&](bool v6, unsigned lo, unsigned hi) {
    const unsigned* w = v6 ? w6.data() : w4.data();
    std::uint64_t total = 0;
    for (unsigned l = lo; l <= hi; ++l) total += w[l] + 1;
    std::uint64_t x = uniform(total);
    for (unsigned l = lo; l <= hi; ++l) {
      if (x < w[l] + 1) return l;
      x -= w[l] + 1;
    }
    return hi;
  };
  // A random address where top-level blocks go: IPv4 1.0.0.0-223.255.255.255, IPv6 2000::/3.
  auto random_address = [&](bool v6) -> U128 {
    if (v6) return (U128{1} << 125) | (random128() & ((U128{1} << 125) - 1));
    return ((1 + uniform(223)) << 24) | (rng() & 0xffffff);
  };

  std::vector<Prefix> prefixes;
  std::vector<std::uint32_t> top;  // indexes of the top-level blocks
  std::vector<std::uint32_t> nested;
  prefixes.reserve(n);
  PrefixSet set(n);
  std::vector<std::uint32_t> by_family[2];  // indexes of blocks that can have children
  while (prefixes.size() < n) {
    const bool v6 = prefixes.size() % 10 >= 7;
    const unsigned width = width_of(v6);
    auto& parents = by_family[v6];
    Prefix p{};
    p.v6 = v6;
    const bool is_nested = !parents.empty() && uniform(4) == 0;
    if (is_nested) {
      const Prefix& parent = prefixes[parents[uniform(parents.size())]];
      p.length = static_cast<std::uint8_t>(pick_length(v6, parent.length + 1, width));
      p.key = parent.key | (random128() & host_mask(parent.length, width));
      p.source = static_cast<std::uint8_t>(
          parent.source == 0 ? 1 + uniform(kSources - 1)
                             : 1 + (parent.source + uniform(kSources - 2)) % (kSources - 1));
    } else {
      p.length = static_cast<std::uint8_t>(pick_length(v6, v6 ? 16 : 8, width));
      p.key = random_address(v6);
      p.source = 0;
    }
    p.key &= ~host_mask(p.length, width);
    if (!set.insert(p)) continue;  // drawn before: draw again
    const auto index = static_cast<std::uint32_t>(prefixes.size());
    prefixes.push_back(p);
    (is_nested ? nested : top).push_back(index);
    if (p.length < width) parents.push_back(index);
  }

  // Which lengths occur, per family, longest first: the longest-match probe order.
  bool used[2][129] = {};
  for (const Prefix& p : prefixes) used[p.v6][p.length] = true;
  std::vector<unsigned> lengths[2];
  for (int v6 = 0; v6 < 2; ++v6) {
    for (int len = static_cast<int>(width_of(v6)); len >= 0; --len) {
      if (used[v6][len]) lengths[v6].push_back(static_cast<unsigned>(len));
    }
  }
  struct Match {
    int source;  // -1: none
    unsigned depth;
  };
  auto match = [&](U128 key, bool v6) {
    Match m{-1, 0};
    const unsigned width = width_of(v6);
    for (unsigned len : lengths[v6]) {
      const int source = set.source(key & ~host_mask(len, width), len, v6);
      if (source >= 0) {
        if (m.source < 0) m.source = source;
        ++m.depth;
      }
    }
    return m;
  };

  // The addresses: 3/10 inside a top-level block, 3/10 inside a nested one, 1/10 at a
  // block's first address, 1/10 at its last, 2/10 misses (a random address that no
  // block contains, else the address after a block's end, else one outside the space
  // the blocks are drawn from).
  struct Query {
    U128 key;
    bool v6;
  };
  std::vector<Query> queries;
  queries.reserve(n_addresses);
  std::size_t far_misses = 0;
  for (std::size_t i = 0; i < n_addresses; ++i) {
    const bool v6 = uniform(10) >= 7;
    const unsigned width = width_of(v6);
    auto pick = [&](const std::vector<std::uint32_t>& from) -> const Prefix& {
      for (int tries = 0; tries < 64; ++tries) {
        const Prefix& p =
            prefixes[from.empty() ? uniform(prefixes.size()) : from[uniform(from.size())]];
        if (p.v6 == v6) return p;
      }
      return prefixes[v6 ? 7 % prefixes.size() : 0];
    };
    const unsigned kind = static_cast<unsigned>(i % 10);
    U128 key = 0;
    bool fam = v6;
    if (kind <= 5) {
      const Prefix& p = pick(kind <= 2 ? top : nested);
      key = p.key | (random128() & host_mask(p.length, width_of(p.v6)));
      fam = p.v6;
    } else if (kind <= 7) {
      const Prefix& p = pick(top);
      key = kind == 6 ? p.key : p.key | host_mask(p.length, width_of(p.v6));
      fam = p.v6;
    } else {
      bool found = false;
      for (int tries = 0; tries < 32 && !found; ++tries) {
        key = random_address(v6);
        found = match(key, v6).source < 0;
      }
      for (int tries = 0; tries < 32 && !found; ++tries) {
        const Prefix& p = pick(top);
        const U128 last = p.key | host_mask(p.length, width);
        if (p.v6 != v6 || last == (v6 ? ~U128{0} : U128{0xffffffff})) continue;
        key = last + 1;
        found = match(key, v6).source < 0;
      }
      if (!found) {  // IPv4 240.0.0.0/4, IPv6 4000::/3: never drawn from
        key = v6 ? (U128{2} << 125) | (random128() & ((U128{1} << 125) - 1))
                 : (U128{0xf} << 28) | (rng() & 0xfffffff);
        ++far_misses;
      }
    }
    queries.push_back({key, fam});
  }
  std::shuffle(queries.begin(), queries.end(), rng);

  // The files.
  FILE* files[kSources];
  for (unsigned s = 0; s < kSources; ++s) {
    files[s] = open_out(
        dir / (s == 0 ? std::string("networks.txt") : "nested-" + std::to_string(s) + ".txt"));
    std::fprintf(files[s], "# generated by gen_networks %zu (seed 2026): [source %s]\n", n,
                 source_name(s).c_str());
  }
  std::vector<std::size_t> per_source(kSources);
  for (const Prefix& p : prefixes) {
    FILE* f = files[p.source];
    const std::size_t count = ++per_source[p.source];
    // Now and then a trailing comment, as hand-kept lists have.
    std::fprintf(f, count % 100 == 0 ? "%s/%u  # entry %zu\n" : "%s/%u\n",
                 address_text(p.key, p.v6).c_str(), p.length, count);
  }
  for (FILE* f : files) std::fclose(f);

  FILE* ini = open_out(dir / "tlsgate.ini");
  std::fprintf(ini,
               "; generated by gen_networks %zu (seed 2026)\n"
               "[milter]\nmode = enforce\n\n"
               "[source default]\nrequire_starttls = no\n\n",
               n);
  const char* rules[kSources] = {
      "require_starttls = yes\nmin_tls_version = TLSv1.2",
      "require_starttls = no",
      "min_cipher_bits = 128",
      "action = tempfail",
      "mode = monitor",
      "min_tls_version = TLSv1.3",
      "require_client_cert = yes",
      "allow_unencrypted_plain_auth = yes\nrequire_starttls_before_auth = no"};
  for (unsigned s = 0; s < kSources; ++s) {
    std::fprintf(ini, "[source %s]\nnetworks_file = %s\n%s\n\n", source_name(s).c_str(),
                 s == 0 ? "networks.txt" : ("nested-" + std::to_string(s) + ".txt").c_str(),
                 rules[s]);
  }
  std::fclose(ini);

  std::vector<std::uint32_t> order(prefixes.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return prefixes[a].length > prefixes[b].length;
  });
  FILE* cidr = open_out(dir / "postfix.cidr");
  std::fprintf(cidr, "# generated by gen_networks %zu (seed 2026), longest first\n", n);
  for (std::uint32_t i : order) {
    const Prefix& p = prefixes[i];
    std::fprintf(cidr, "%s/%u\t%s\n", address_text(p.key, p.v6).c_str(), p.length,
                 source_name(p.source).c_str());
  }
  std::fclose(cidr);

  FILE* addresses = open_out(dir / "addresses.txt");
  FILE* expected = open_out(dir / "expected.txt");
  std::size_t by_depth[4] = {};
  for (const Query& q : queries) {
    const Match m = match(q.key, q.v6);
    ++by_depth[std::min(m.depth, 3u)];
    std::fprintf(addresses, "%s\n", address_text(q.key, q.v6).c_str());
    std::fprintf(expected, "%s %u\n", m.source < 0 ? "default" : source_name(m.source).c_str(),
                 m.depth);
  }
  std::fclose(addresses);
  std::fclose(expected);

  std::size_t v6_count = 0;
  for (const Prefix& p : prefixes) v6_count += p.v6;
  auto pct = [&](std::size_t x) { return queries.empty() ? 0.0 : 100.0 * x / queries.size(); };
  std::printf(
      "gen_networks: %zu netblocks (IPv4 %zu, IPv6 %zu; %zu placed nested) in %s; %zu "
      "addresses: miss %.0f %% (%zu outside the drawn space), inside 1 block %.0f %%, 2 "
      "blocks %.0f %%, 3+ %.0f %%\n",
      prefixes.size(), prefixes.size() - v6_count, v6_count, nested.size(), dir.c_str(),
      queries.size(), pct(by_depth[0]), far_misses, pct(by_depth[1]), pct(by_depth[2]),
      pct(by_depth[3]));
  return 0;
}
