// A load driver that speaks the milter protocol (version 6) directly, so that a
// milter's own cost is measured without an MTA in front of it.
//   build/milter_load HOST:PORT CONCURRENCY SESSIONS [--hold PID] [--allow-reject]
//
// CONCURRENCY threads each run sessions one after the other, SESSIONS in all: per
// session one connection, OPTNEG (the milter's protocol flags are honoured: a step it
// asked to skip is not sent, a step marked "no reply" is not waited for), then per
// stage the 'D' macro packet and the command: C (IPv4 client address, one of the
// example configuration's netblocks in turn), H, M with the TLS and AUTH macros, R,
// DATA/EOH/body only if not skipped, E with {i}, then Q. Every reply must be
// "continue" (or "accept" at EOM): anything else is counted as an error, and the
// driver exits 1 if there was one. --allow-reject: a reject or tempfail reply
// (another configuration than the example's) ends the session like an MTA would
// (Q), counted as refused=, not as an error.
//
// Prints one line:
//   result: sessions=N errors=E wall_s=... sessions_per_s=... connect_p50_us=...
//           connect_p99_us=... helo_... mail_... rcpt_... eom_... session_p50_us=...
// Latency of a stage = from sending its command to reading the reply.
//
// --hold PID: CONCURRENCY sessions, each stops after RCPT with the connection open;
// when all are there, prints "hold: sessions=N vmrss_kib=K threads=T" for process PID
// (from /proc/PID/status), then finishes them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// libmilter/mfdef.h values, spelled out so that the driver needs no libmilter.
constexpr uint32_t kVersion = 6;
constexpr uint32_t kActions = 0x1FF;  // every action incl. SMFIF_SETSYMLIST
constexpr uint32_t kNoConnect = 0x1, kNoHelo = 0x2, kNoMail = 0x4, kNoRcpt = 0x8, kNoBody = 0x10,
                   kNoEoh = 0x40, kNoData = 0x200, kNrConn = 0x1000, kNrHelo = 0x2000,
                   kNrMail = 0x4000, kNrRcpt = 0x8000, kNrData = 0x10000, kNrEoh = 0x40000,
                   kNrBody = 0x80000;
constexpr uint32_t kProtocol = 0x1FFFFF;  // all steps may be skipped / not replied to

enum Stage { kConnect, kHelo, kMail, kRcpt, kEom, kStages };
const char* const kStageNames[kStages + 1] = {"connect", "helo", "mail", "rcpt", "eom", "data"};

struct Target {
  sockaddr_in addr{};
};

// Client addresses from etc/tlsgate.ini's netblocks, with TLS facts each accepts.
struct Client {
  const char* addr;
  const char* tls_version;
  const char* cipher;
  const char* bits;
  const char* auth;  // "" = none
};
const Client kClients[] = {
    {"192.0.2.10", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "256", ""},              // partners
    {"198.51.100.7", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128", "PLAIN"},  // submission
    {"203.0.113.5", "", "", "", ""},                                             // default
    {"198.18.7.7", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "128", ""},              // default
};

class Conn {
 public:
  explicit Conn(const Target& t) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&t.addr), sizeof t.addr) != 0)
      throw std::runtime_error(std::string("connect: ") + strerror(errno));
  }
  ~Conn() {
    if (fd_ >= 0) close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void send(char cmd, const std::string& data) {
    std::string p(5, '\0');
    const uint32_t len = htonl(static_cast<uint32_t>(data.size() + 1));
    memcpy(p.data(), &len, 4);
    p[4] = cmd;
    p += data;
    const char* b = p.data();
    size_t left = p.size();
    while (left > 0) {
      ssize_t n = write(fd_, b, left);
      if (n <= 0) throw std::runtime_error("write");
      b += n;
      left -= static_cast<size_t>(n);
    }
  }
  // Reads one packet; returns its command, data in `data`.
  char recv(std::string& data) {
    unsigned char h[5];
    read_all(h, 5);
    uint32_t len;
    memcpy(&len, h, 4);
    len = ntohl(len);
    if (len == 0 || len > 1 << 20) throw std::runtime_error("bad packet length");
    data.resize(len - 1);
    if (len > 1) read_all(data.data(), len - 1);
    return static_cast<char>(h[4]);
  }

 private:
  void read_all(void* p, size_t n) {
    char* b = static_cast<char*>(p);
    while (n > 0) {
      ssize_t r = read(fd_, b, n);
      if (r <= 0) throw std::runtime_error("read: connection closed");
      b += r;
      n -= static_cast<size_t>(r);
    }
  }
  int fd_ = -1;
};

std::string z(const char* s) { return std::string(s) + '\0'; }
std::string macros(char stage, std::initializer_list<std::pair<const char*, const char*>> kv) {
  std::string d(1, stage);
  for (auto& [k, v] : kv) d += z(k) + z(v);
  return d;
}
uint32_t be32(const std::string& d, size_t at) {
  uint32_t v;
  memcpy(&v, d.data() + at, 4);
  return ntohl(v);
}

struct Stats {
  std::vector<uint32_t> ns[kStages];
  std::vector<uint32_t> session_ns;
  long errors = 0;
  long sessions = 0;
  long refused = 0;  // sessions the milter rejected or tempfailed (with --allow-reject)
  long replies = 0;  // packets the milter sent, the negotiation reply included: counted
};

bool allow_reject = false;

struct Hold {
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  bool release = false;
};

// One session. Returns false on an unexpected reply (counted in stats.errors).
bool run_session(const Target& t, long serial, Stats& st, Hold* hold) {
  const Client& c = kClients[serial % (sizeof kClients / sizeof kClients[0])];
  const auto s0 = Clock::now();
  Conn conn(t);
  std::string d;
  {
    std::string o(12, '\0');
    uint32_t v[3] = {htonl(kVersion), htonl(kActions), htonl(kProtocol)};
    memcpy(o.data(), v, 12);
    conn.send('O', o);
  }
  if (conn.recv(d) != 'O' || d.size() < 12) {
    ++st.errors;
    return false;
  }
  ++st.replies;
  const uint32_t proto = be32(d, 8);
  bool ok = true;
  bool refused = false;  // a reject or tempfail reply: the MTA would end the transaction
  // Sends a stage's command; waits for and checks the reply unless told not to.
  auto step = [&](Stage stage, char cmd, const std::string& data, uint32_t no_reply) {
    const auto t0 = Clock::now();
    conn.send(cmd, data);
    if (proto & no_reply) return;
    std::string r;
    char rc = conn.recv(r);
    ++st.replies;
    const auto t1 = Clock::now();
    if (stage < kStages)
      st.ns[stage].push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    if (allow_reject && (rc == 'y' || rc == 'r' || rc == 't')) {
      refused = true;
    } else if (rc != 'c' && !(stage == kEom && rc == 'a')) {
      if (ok)
        fprintf(stderr, "milter_load: %s from %s: reply '%c' %s\n", kStageNames[stage], c.addr, rc,
                r.c_str());
      ok = false;
    }
  };
  auto finish = [&] {
    conn.send('Q', "");
    st.session_ns.push_back(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s0).count()));
    ++st.sessions;
    if (refused) ++st.refused;
    if (!ok) ++st.errors;
    return ok;
  };
  const std::string qid = "4Q" + std::to_string(serial);
  if (!(proto & kNoConnect)) {
    conn.send('D', macros('C', {{"j", "mx.example.test"},
                                {"{daemon_name}", "smtpd"},
                                {"v", "Postfix 3.7"},
                                {"_", "client.example.test [127.0.0.1]"}}));
    uint16_t port = htons(static_cast<uint16_t>(40000 + serial % 20000));
    std::string data = z("client.example.test") + '4';
    data.append(reinterpret_cast<const char*>(&port), 2);
    data += z(c.addr);
    step(kConnect, 'C', data, kNrConn);
  }
  if (!(proto & kNoHelo)) {
    conn.send('D', macros('H', {{"{tls_version}", c.tls_version},
                                {"{cipher}", c.cipher},
                                {"{cipher_bits}", c.bits}}));
    step(kHelo, 'H', z("client.example.test"), kNrHelo);
  }
  if (!(proto & kNoMail)) {
    conn.send('D', macros('M', {{"{tls_version}", c.tls_version},
                                {"{cipher}", c.cipher},
                                {"{cipher_bits}", c.bits},
                                {"{auth_type}", c.auth},
                                {"{auth_authen}", *c.auth ? "alice" : ""},
                                {"{mail_addr}", "sender@example.test"},
                                {"{i}", qid.c_str()},
                                // as Postfix sends them where the milter asks at MAIL
                                // (it does when it left CONNECT out)
                                {"{client_addr}", c.addr},
                                {"v", "Postfix 3.7"}}));
    step(kMail, 'M', z("<sender@example.test>") + z("SIZE=100"), kNrMail);
  }
  if (!(proto & kNoRcpt) && !refused) {
    conn.send('D', macros('R', {{"{rcpt_addr}", "rcpt@sink.test"}, {"{i}", qid.c_str()}}));
    step(kRcpt, 'R', z("<rcpt@sink.test>"), kNrRcpt);
  }
  if (hold != nullptr) {  // a session refused at MAIL arrives too, already closed
    std::unique_lock lk(hold->m);
    ++hold->arrived;
    hold->cv.notify_all();
    hold->cv.wait(lk, [&] { return hold->release; });
  }
  if (refused) return finish();
  if (!(proto & kNoData)) step(kStages, 'T', "", kNrData);
  if (!(proto & kNoEoh)) step(kStages, 'N', "", kNrEoh);
  if (!(proto & kNoBody)) step(kStages, 'B', "Hello.\r\n", kNrBody);
  conn.send('D', macros('E', {{"{i}", qid.c_str()}}));
  if (!refused) step(kEom, 'E', "", 0);
  return finish();
}

double pct(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i] / 1000.0;
}

long vm_field(long pid, const char* name) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const size_t n = strlen(name);
  while (std::getline(f, line))
    if (line.compare(0, n, name) == 0 && line[n] == ':') return atol(line.c_str() + n + 1);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && strcmp(argv[argc - 1], "--allow-reject") == 0) {
    allow_reject = true;
    --argc;
  }
  if (argc != 4 && !(argc == 6 && strcmp(argv[4], "--hold") == 0)) {
    fprintf(stderr,
            "usage: milter_load HOST:PORT CONCURRENCY SESSIONS [--hold PID] [--allow-reject]\n");
    return 2;
  }
  Target t;
  std::string hp = argv[1];
  const size_t colon = hp.rfind(':');
  t.addr.sin_family = AF_INET;
  t.addr.sin_port = htons(static_cast<uint16_t>(atoi(hp.c_str() + colon + 1)));
  if (colon == std::string::npos ||
      inet_pton(AF_INET, hp.substr(0, colon).c_str(), &t.addr.sin_addr) != 1) {
    fprintf(stderr, "milter_load: bad address %s\n", argv[1]);
    return 2;
  }
  const int conc = atoi(argv[2]);
  const long total = atol(argv[3]);
  const long hold_pid = argc == 6 ? atol(argv[5]) : 0;
  if (conc < 1 || total < conc) {
    fprintf(stderr, "milter_load: need 1 <= CONCURRENCY <= SESSIONS\n");
    return 2;
  }

  std::vector<Stats> stats(static_cast<size_t>(conc));
  std::atomic<long> next{0};
  std::atomic<long> failures{0};
  Hold hold;
  const auto t0 = Clock::now();
  {
    std::vector<std::thread> threads;
    for (int i = 0; i < conc; ++i) {
      threads.emplace_back([&, i] {
        Stats& st = stats[static_cast<size_t>(i)];
        for (;;) {
          const long serial = next++;
          if (serial >= total) break;
          try {
            run_session(t, serial, st, hold_pid && serial < conc ? &hold : nullptr);
          } catch (const std::exception& e) {
            if (failures++ < 5) fprintf(stderr, "milter_load: session %ld: %s\n", serial, e.what());
            ++st.errors;
            if (hold_pid && serial < conc) {  // do not leave the others waiting
              std::lock_guard lk(hold.m);
              ++hold.arrived;
              hold.cv.notify_all();
            }
          }
        }
      });
    }
    if (hold_pid) {
      std::unique_lock lk(hold.m);
      hold.cv.wait(lk, [&] { return hold.arrived >= conc; });
      // Let the milter's threads settle before reading its RSS.
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      printf("hold: sessions=%d vmrss_kib=%ld threads=%ld\n", conc, vm_field(hold_pid, "VmRSS"),
             vm_field(hold_pid, "Threads"));
      fflush(stdout);
      lk.lock();
      hold.release = true;
      hold.cv.notify_all();
    }
    for (auto& th : threads) th.join();
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();

  Stats all;
  for (auto& s : stats) {
    for (int k = 0; k < kStages; ++k)
      all.ns[k].insert(all.ns[k].end(), s.ns[k].begin(), s.ns[k].end());
    all.session_ns.insert(all.session_ns.end(), s.session_ns.begin(), s.session_ns.end());
    all.errors += s.errors;
    all.sessions += s.sessions;
    all.refused += s.refused;
    all.replies += s.replies;
  }
  printf(
      "result: sessions=%ld errors=%ld refused=%ld wall_s=%.3f sessions_per_s=%.0f "
      "replies_per_session=%.2f",
      all.sessions, all.errors, all.refused, wall, static_cast<double>(all.sessions) / wall,
      all.sessions > 0 ? static_cast<double>(all.replies) / static_cast<double>(all.sessions)
                       : 0.0);
  for (int k = 0; k < kStages; ++k)
    printf(" %s_p50_us=%.1f %s_p99_us=%.1f", kStageNames[k], pct(all.ns[k], 0.5), kStageNames[k],
           pct(all.ns[k], 0.99));
  printf(" session_p50_us=%.1f session_p99_us=%.1f\n", pct(all.session_ns, 0.5),
         pct(all.session_ns, 0.99));
  return all.errors == 0 && all.sessions == total ? 0 : 1;
}
