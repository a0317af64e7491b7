// What a source and a partner both count: decisions by action and by reason, and
// accepted messages by TLS version; and how that becomes a SourceSummary's figures.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "report/row.h"
#include "report/string_table.h"
#include "report/summary.h"
#include "report/vector_index.h"

namespace tlsgate::report {

struct DecisionTally {
  static constexpr std::uint32_t kNoReason = 0xffffffff;

  std::uint64_t decisions = 0;
  std::array<std::uint64_t, 4> actions{};      // by Action
  std::vector<std::uint64_t> reasons;          // by the aggregator's reason number
  std::vector<std::uint64_t> accepted_by_tls;  // by the aggregator's TLS text number
  std::uint64_t accepted = 0;
  std::uint64_t accepted_tls = 0;

  // `reason`: kNoReason for a row without one.
  void count_decision(Action action, std::uint32_t reason) {
    ++decisions;
    ++actions[static_cast<std::size_t>(action)];
    if (reason != kNoReason) ++grow_to(reasons, reason);
  }
  // An accept counted as a decision that turned out to end a would-reject's session.
  void take_back_accept() {
    --decisions;
    --actions[static_cast<std::size_t>(Action::accept)];
  }
  void count_message(std::uint32_t tls, bool secure) {
    ++accepted;
    ++grow_to(accepted_by_tls, tls);
    if (secure) ++accepted_tls;
  }

  // Sets `out`'s decisions, actions, reasons and accepted messages (the names of
  // reasons and TLS texts from the aggregator's tables).
  void fill(SourceSummary& out, const StringTable& reason_names,
            const StringTable& tls_texts) const;
};

}  // namespace tlsgate::report
