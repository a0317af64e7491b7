// The tallies of each [partner NAME], from the rows whose partner column names it:
// a refusal names the partner that made it, an accept every partner that applied
// (comma-separated). Like a source's, but only its decisions, reasons, accepted
// messages by TLS version and clients. Memory grows with distinct partner columns
// and (partner, client) pairs, not with rows.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "report/decision_tally.h"
#include "report/id_pair_set.h"
#include "report/row.h"
#include "report/string_table.h"
#include "report/summary.h"

namespace tlsgate::report {

class PartnerCounts {
 public:
  // The number of a non-empty partner column's text (the partners it names).
  std::uint32_t list_of(std::string_view column);

  // A decision of `client` (the aggregator's number); `reason`: the aggregator's
  // number of the row's reason, DecisionTally::kNoReason for none.
  void count_decision(std::uint32_t list, Action action, std::uint32_t reason,
                      std::uint32_t client);
  // An accept counted by count_decision that turned out to end a would-reject's session.
  void take_back_accept(std::uint32_t list);
  // An accepted message; `tls`: the aggregator's TLS text number.
  void count_message(std::uint32_t list, std::uint32_t tls, bool secure);

  // Most decisions first; names of reasons and TLS texts from the aggregator's tables.
  std::vector<SourceSummary> summarize(const StringTable& reasons,
                                       const StringTable& tls_texts) const;

 private:
  struct Tally : DecisionTally {
    std::uint64_t clients = 0;
  };

  StringTable names_;                                // partner names, numbered
  std::vector<Tally> tallies_;                       // by partner number
  StringTable lists_;                                // partner column texts, numbered
  std::vector<std::vector<std::uint32_t>> members_;  // by list number: partner numbers
  IdPairSet clients_;                                // (partner, client)
};

}  // namespace tlsgate::report
