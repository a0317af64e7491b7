// One decision per transaction. In monitor mode tlsgate writes a would-reject row at
// MAIL and, when the message arrives, an accept row at its end: one session, which
// counts once (as the would-reject: refused today). Both rows carry the same
// `transaction` ("PROCESS.SESSION.N"); files written before that column existed are
// linked by a stand-in key (client, source and TLS/AUTH facts), first in first out.
//
// The two rows of a session are minutes apart at most, so only the would-rejects of
// the last `window` seconds wait for their accept: memory is bounded by the rows of
// one window, not by the file. Files may come in any order (logrotate's .1, .2.gz
// are older): an accept read within `window` of its file's first row, and matching
// no would-reject yet, is remembered, so that a would-reject read later from another
// file can take its decision back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tlsgate::report {

// What an accept row added as a decision, so that it can be taken back.
struct AcceptedDecision {
  static constexpr std::uint32_t kNone = 0xffffffff;
  std::uint32_t source = 0;
  std::uint32_t client = 0;
  std::uint32_t exposed_user = kNone;  // credentials_exposed: the user's number
  std::uint32_t certificate = kNone;   // a verified client certificate's number
  std::uint32_t partners = kNone;      // its partner column's number (PartnerCounts)
  // --what-if: the candidate refused it (a newly refused session), and why.
  bool newly_refused = false;
  std::uint8_t new_reason = 0;
  std::uint32_t candidate_source = 0;
  std::uint32_t candidate_partner = kNone;  // the candidate's partner that refused
};

class TransactionLinker {
 public:
  // Rows of one session further apart than this are not linked.
  static constexpr std::int64_t kDefaultWindow = 3600;

  explicit TransactionLinker(std::int64_t window = kDefaultWindow) : window_(window) {}

  // The next rows come from another file.
  void begin_file();

  // A would-reject row of `client` (the aggregator's number); false: it continues a
  // decision already counted (the same transaction refused again at RCPT). `unique`:
  // `key` is a transaction id (a stand-in key may name several sessions).
  // `taken_back` gets the decision of an accept row read earlier that belongs to
  // this session.
  bool would_reject(std::string_view key, bool unique, std::uint32_t client, std::int64_t time,
                    std::optional<AcceptedDecision>& taken_back);

  // A row of the session of `key` (the would-reject just passed to would_reject(), or
  // one it continues) says credentials_exposed: true the first time for the session,
  // so that the exposure counts once whichever of its rows says it.
  bool first_exposure(std::string_view key);

  // Whether an accept row of `client` may end a waiting session: if not, accept()
  // need not be asked (nor its key built), unless the row is near its file's start.
  bool waiting_for(std::uint32_t client) const {
    return client < waiting_per_client_.size() && waiting_per_client_[client] > 0;
  }
  // waiting_for(client) is asked of every accept row: its count fetched ahead.
  void prefetch(std::uint32_t client) const {
    if (client < waiting_per_client_.size()) __builtin_prefetch(&waiting_per_client_[client]);
  }
  // The time of the current file's first row; an accept within `window` of it
  // must go through accept().
  bool near_file_start(std::int64_t time) const {
    return !file_start_ || time - *file_start_ <= window_;
  }

  enum class Accept {
    ends_session,  // it ends a would-reject's session: not a decision of its own
    decision,      // a decision
    remember,      // a decision near its file's start: remember() it
  };
  // `exposure_counted` tells, for ends_session, whether first_exposure() was true for
  // that session already.
  Accept accept(std::string_view key, bool unique, std::uint32_t client, std::int64_t time,
                bool& exposure_counted);
  void remember(std::string_view key, std::int64_t time, const AcceptedDecision& decision);

  // What is held in memory (for tests of the bound).
  std::size_t waiting() const { return expiry_.size(); }
  std::size_t remembered() const { return early_count_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename T>
  using Map = std::unordered_map<std::string, T, Hash, std::equal_to<>>;
  struct Early {
    std::size_t file;
    AcceptedDecision decision;
  };

  void at_time(std::int64_t time);
  void forget_one(std::uint32_t client) { --waiting_per_client_[client]; }

  struct Waiting {
    std::int64_t time;
    std::uint32_t client;
    bool exposed;  // an exposed credential of the session was counted
  };
  std::int64_t window_;
  std::size_t file_ = 0;
  std::optional<std::int64_t> file_start_;
  Map<std::deque<Waiting>> open_;  // would-rejects waiting, by key
  std::deque<std::pair<std::string, std::int64_t>> expiry_;
  std::vector<std::uint32_t> waiting_per_client_;
  Map<std::vector<Early>> early_;
  std::size_t early_count_ = 0;
  // Per file, the times of its remembered accepts: a would-reject can end only an
  // accept at most `window` after it, so most need not look.
  struct Span {
    std::size_t file;
    std::int64_t first, last;
  };
  std::vector<Span> early_spans_;
};

}  // namespace tlsgate::report
