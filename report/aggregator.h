// The counting: rows in, tallies per source, per client and per day out. Memory
// grows with distinct clients (and users, certificates) and with days x sources,
// never with rows; the would-reject/accept pairs waiting to be linked are bounded
// by one window of rows (transaction_linker.h).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/address.h"
#include "policy/decision.h"
#include "policy/huge_pages.h"
#include "report/client_table.h"
#include "report/columns.h"
#include "report/decision_tally.h"
#include "report/partner_counts.h"
#include "report/replay.h"
#include "report/row.h"
#include "report/sender_domains.h"
#include "report/string_table.h"
#include "report/summary.h"
#include "report/transaction_linker.h"

namespace tlsgate::report {

struct Selection {
  std::optional<std::int64_t> since;  // rows with since <= time < until
  std::optional<std::int64_t> until;
  std::vector<std::string> sources;  // empty: every source
};

class Aggregator {
  static constexpr std::uint32_t kNone = 0xffffffff;

 public:
  // `replay` (--what-if), if given, judges every decision again; it must outlive this.
  explicit Aggregator(Selection selection, Replay* replay = nullptr);

  // The next rows come from another file, with these columns.
  void begin_file(const ColumnMap& columns);

  // What add() needs to look up, fetched a few rows ahead: a row's client table
  // slot, then its tallies, each stage once the previous one's memory has arrived
  // (hash lookups over 100,000 clients miss the CPU caches; overlapped, they cost
  // little). Optional: add() does what the stages did not.
  struct Lookahead {
    std::uint64_t client_hash = 0;
    std::uint64_t domain_hash = 0;  // an accept row's sender_domain, if it has one
  };
  void look_ahead_client(const Row& row, Lookahead& ahead) const;  // its slot
  void look_ahead_pair(const Row& row, const Lookahead& ahead);    // its pair's counts

  // Counts a parsed row (or passes it over: outside the selection). false with
  // `error` set: the row cannot be counted (its client is not an address).
  bool add(const Row& row, std::string& error, const Lookahead* ahead = nullptr);

  std::uint64_t counted_rows() const { return counted_; }
  std::uint64_t filtered_rows() const { return filtered_; }

  // The report: every list cut to `top` entries.
  Summary summarize(std::size_t top) const;

 private:
  static constexpr std::size_t kReasonSlots = policy::kReasonCount;

  struct DayCell {
    std::uint64_t accepted = 0;
    std::uint64_t tls = 0;
  };
  struct SourceTally : DecisionTally {
    bool selected = true;
    std::uint64_t rows = 0;
    std::array<std::uint64_t, kBitBuckets.size()> bits{};
    std::uint64_t certificates = 0;
    std::uint64_t credentials_exposed = 0;
    std::map<std::int64_t, DayCell> days;
    std::int64_t cached_day = 0;
    DayCell* cached_cell = nullptr;
  };
  // What rows rarely touch about a client (the hot part is its ClientTable slot).
  struct ClientCold {
    std::optional<policy::Address> address;  // nullopt: "unknown"
    std::uint32_t candidate_rule = kNone;    // --what-if
    std::uint64_t newly_refused = 0;
    std::array<std::uint64_t, kReasonSlots> new_reasons{};
  };
  // One client in one source: the counts every decision row bumps...
  struct PairCounts {
    std::uint64_t decisions = 0;
    std::uint64_t refusals = 0;  // reject, tempfail, would-reject
    bool ever_tls = false;
  };
  // ... and the rest: its refusals by reason, the first two in place, so that a
  // refusal row touches one cache line (fetched ahead), more in a vector.
  struct alignas(64) PairCold {
    std::uint32_t source = 0;
    std::uint32_t client = 0;
    std::array<std::pair<std::uint32_t, std::uint64_t>, 2> first_reasons{{{kNone, 0}, {kNone, 0}}};
    std::vector<std::pair<std::uint32_t, std::uint64_t>> more_reasons;

    template <typename F>
    void each_reason(F f) const {
      for (const auto& [reason, n] : first_reasons) {
        if (reason != kNone) f(reason, n);
      }
      for (const auto& [reason, n] : more_reasons) f(reason, n);
    }
  };
  struct WhatIfTally {
    std::uint64_t newly_refused = 0;
    std::uint64_t newly_passed = 0;
    std::array<std::uint64_t, kReasonSlots> reasons{};
  };
  struct NewlyRefused {  // a client's sessions one candidate partner refuses
    std::uint64_t count = 0;
    std::array<std::uint64_t, kReasonSlots> reasons{};
  };

  std::uint32_t source_of(std::string_view name);
  ClientTable::Slot& client_of(std::string_view text, std::uint64_t hash);
  std::uint32_t pair_of(std::uint32_t source, ClientTable::Slot& client);
  std::uint32_t pair_of(std::uint32_t source, std::uint32_t client);
  std::uint32_t tls_text_of(std::string_view text);
  void count_message(const Row& row, SourceTally& s, std::uint32_t tls);
  // An accepted message's partners and sender domain, where the row has them.
  void count_envelope(const Row& row, std::uint32_t client, std::uint32_t tls,
                      const Lookahead* ahead);
  void count_what_if(const Row& row, ClientCold& c, std::uint32_t client, AcceptedDecision& d);
  AcceptedDecision count_decision(const Row& row, std::uint32_t source, std::uint32_t client,
                                  std::uint32_t pair);
  void refused(PairCold& p, std::uint32_t reason);
  std::uint32_t count_exposure(const Row& row, std::uint32_t source);  // the user's number
  void take_back(const AcceptedDecision& d);
  std::string_view link_key(const Row& row, bool& unique);

  // summarize() helpers (summarize.cc).
  SourceSummary source_summary(std::uint32_t source, std::size_t top) const;
  SourceSummary total_summary(std::size_t top) const;
  WhatIfSummary what_if_summary(std::size_t top) const;
  std::vector<WhatIfSource> what_if_partners(std::size_t top) const;
  void fill_exposures(SourceSummary& out, std::optional<std::uint32_t> source,
                      std::size_t top) const;
  void fill_certificates(SourceSummary& out, std::optional<std::uint32_t> source,
                         std::size_t top) const;

  Selection selection_;
  Replay* replay_;
  bool has_transaction_ = false;
  TransactionLinker linker_;
  std::string stand_in_key_;

  StringTable sources_;
  std::vector<SourceTally> source_tallies_;
  ClientTable clients_;
  std::vector<ClientCold> client_cold_;
  // Read at random, row after row: huge pages (see ClientTable).
  std::vector<PairCounts, policy::HugePageAllocator<PairCounts>> pair_counts_;
  std::vector<PairCold> pairs_;
  std::unordered_map<std::uint64_t, std::uint32_t> pair_index_;
  StringTable reasons_;
  StringTable tls_texts_;  // 0-3 the TLS versions newest first, 4 "none"
  StringTable users_;
  std::unordered_map<std::uint64_t, std::uint64_t> exposures_;           // source << 32 | user
  StringTable certificates_;                                             // subject \0 issuer
  std::unordered_map<std::uint64_t, std::uint64_t> certificate_counts_;  // source << 32 | cert

  PartnerCounts partners_;
  SenderDomainCounts sender_domains_;
  // By client: 1 + its SenderDomainCounts::network_of, 0 until needed (apart from
  // ClientCold, which files without sender domains then do not grow).
  std::vector<std::uint32_t> client_networks_;

  std::vector<WhatIfTally> what_if_;                                 // by the candidate's source
  std::vector<WhatIfTally> what_if_partners_;                        // by the candidate's partner
  std::unordered_map<std::uint64_t, NewlyRefused> partner_clients_;  // partner << 32 | client
  std::uint64_t replayed_ = 0;

  std::uint64_t counted_ = 0;
  std::uint64_t filtered_ = 0;
  std::optional<std::int64_t> first_;
  std::optional<std::int64_t> last_;
};

}  // namespace tlsgate::report
