// Writes a benchmark accounting file for tlsgate report, a fixed seed, and the
// counts a correct report must give for it.
//   build/gen_accounting ROWS DIR ADDRESSES EXPECTED [CLIENTS]
//
// ADDRESSES and EXPECTED are gen_networks' addresses.txt and expected.txt: the first
// CLIENTS (default 100,000) addresses are the clients, each logged under the source
// gen_networks says governs it. Clients are drawn with a Zipf-like popularity (a
// few big senders, a long tail), each with a fixed profile: TLS 1.3 (60 %), TLS 1.2
// (28 %), TLS 1.0 (2 %) or plaintext (10 %); 8 % authenticate (PLAIN), 1 % show a
// verified client certificate. Sessions are spread over 30 days from 2026-11-01. A
// plaintext session is logged as a would-reject plus the accept of its message (one
// session, two rows, one transaction) in half the cases, refused (reject) in a fifth,
// accepted in the rest; a PLAIN password in clear is credentials_exposed.
//
// DIR gets accounting.csv (rows as engine/log_format writes them: the same code) and
// expected.txt: "rows N", "decisions N", then "source NAME ROWS DECISIONS WOULD_REJECT"
// per source, for t/bench/report.sh to check the report against.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/log_format.h"

namespace {

struct Client {
  std::string address;
  std::string source;
  int tls;  // 0 plaintext, 10 TLSv1, 12 TLSv1.2, 13 TLSv1.3
  bool auth;
  bool cert;
};

struct Tally {
  std::uint64_t rows = 0, decisions = 0, would_reject = 0;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "gen_accounting: %s\n", why.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) die("usage: gen_accounting ROWS DIR ADDRESSES EXPECTED [CLIENTS]");
  const std::uint64_t rows = std::strtoull(argv[1], nullptr, 10);
  const std::filesystem::path dir = argv[2];
  const std::size_t wanted = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 100000;
  std::ifstream addresses(argv[3]), expected(argv[4]);
  if (!addresses || !expected) die("cannot read gen_networks' addresses.txt / expected.txt");

  std::mt19937_64 rng(2026);
  auto chance = [&rng](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  std::vector<Client> clients;
  std::string address, source, depth;
  while (clients.size() < wanted && addresses >> address && expected >> source >> depth) {
    Client c{address, source, 13, chance(0.08), false};
    const double t = std::uniform_real_distribution<double>(0, 1)(rng);
    c.tls = t < 0.60 ? 13 : t < 0.88 ? 12 : t < 0.90 ? 10 : 0;
    c.cert = c.tls != 0 && chance(0.01);
    clients.push_back(std::move(c));
  }
  if (clients.empty()) die("no clients");
  // Zipf-like popularity: the client of rank k is drawn with weight 1 / (k + 10).
  std::vector<double> weights(clients.size());
  for (std::size_t k = 0; k < weights.size(); ++k) weights[k] = 1.0 / static_cast<double>(k + 10);
  std::discrete_distribution<std::size_t> pick(weights.begin(), weights.end());

  std::filesystem::create_directories(dir);
  std::FILE* out = std::fopen((dir / "accounting.csv").c_str(), "wb");
  if (out == nullptr) die("cannot write " + (dir / "accounting.csv").string());
  std::vector<char> buffer(1 << 20);
  std::setvbuf(out, buffer.data(), _IOFBF, buffer.size());
  const std::string header = tlsgate::engine::csv_header();
  std::fwrite(header.data(), 1, header.size(), out);

  std::map<std::string, Tally> tally;
  Tally total;
  const std::time_t start = 1793491200;  // 2026-11-01T00:00:00Z
  const double step = 30.0 * 86400 / static_cast<double>(rows);
  std::uint64_t written = 0, session = 0;
  auto write = [&](const tlsgate::engine::LogRecord& r, std::uint64_t n) {
    const auto when = start + static_cast<std::time_t>(static_cast<double>(n) * step);
    const std::string row = tlsgate::engine::format_csv_row(r, when);
    std::fwrite(row.data(), 1, row.size(), out);
    ++tally[std::string(r.source)].rows;
    ++total.rows;
  };
  while (written < rows) {
    const Client& c = clients[pick(rng)];
    const std::string transaction = "6a1b2c3d4e.12345." + std::to_string(++session) + ".1";
    const std::string qid = "4Xk" + std::to_string(100000000 + session);
    tlsgate::engine::LogRecord r;
    r.client = c.address;
    r.source = c.source;
    r.transaction = transaction;
    r.queue_id = qid;
    r.action = "accept";
    if (c.tls == 13) {
      r.tls = "TLSv1.3";
      r.cipher = "TLS_AES_256_GCM_SHA384";
      r.bits = "256";
    } else if (c.tls == 12) {
      r.tls = "TLSv1.2";
      r.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
      r.bits = "128";
    } else if (c.tls == 10) {
      r.tls = "TLSv1";
      r.cipher = "ECDHE-RSA-AES256-SHA";
      r.bits = "256";
    }
    std::string user;  // r holds views: the texts live until the row is written
    if (c.auth) {
      user = "user" + std::to_string(session % 5000) + "@example.test";
      r.auth = "PLAIN";
      r.auth_user = user;
      r.credentials_exposed = c.tls == 0;
    }
    if (c.cert) {
      r.cert_subject = "mx.client.example";
      r.cert_issuer = "Example Partner CA";
    }
    Tally& t = tally[c.source];
    ++t.decisions;
    ++total.decisions;
    if (c.tls == 0) {
      const double d = std::uniform_real_distribution<double>(0, 1)(rng);
      const std::string_view reason = c.auth ? "plaintext_auth" : "starttls_required";
      if (d < 0.5 && written + 2 <= rows) {  // monitor mode: would-reject, then the message
        tlsgate::engine::LogRecord w = r;
        w.queue_id = "";
        w.action = "would-reject";
        w.reason = reason;
        write(w, written++);
        write(r, written++);
        ++t.would_reject;
        ++total.would_reject;
        continue;
      }
      if (d < 0.7) {
        r.queue_id = "";
        r.action = "reject";
        r.reason = reason;
      }
    }
    write(r, written++);
  }
  if (std::fclose(out) != 0) die("write failed");

  std::FILE* exp = std::fopen((dir / "expected.txt").c_str(), "w");
  if (exp == nullptr) die("cannot write expected.txt");
  std::fprintf(exp, "rows %llu\ndecisions %llu\nwould_reject %llu\n",
               static_cast<unsigned long long>(total.rows),
               static_cast<unsigned long long>(total.decisions),
               static_cast<unsigned long long>(total.would_reject));
  for (const auto& [name, t] : tally) {
    std::fprintf(exp, "source %s %llu %llu %llu\n", name.c_str(),
                 static_cast<unsigned long long>(t.rows),
                 static_cast<unsigned long long>(t.decisions),
                 static_cast<unsigned long long>(t.would_reject));
  }
  std::fclose(exp);
  std::printf(
      "gen_accounting: %llu rows (%llu decisions, %llu would-reject + accept pairs), %zu "
      "clients, in %s\n",
      static_cast<unsigned long long>(total.rows), static_cast<unsigned long long>(total.decisions),
      static_cast<unsigned long long>(total.would_reject), clients.size(),
      (dir / "accounting.csv").c_str());
  return 0;
}
