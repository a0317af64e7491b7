#include "report/decision_tally.h"

#include "report/ranking.h"

namespace tlsgate::report {

void DecisionTally::fill(SourceSummary& out, const StringTable& reason_names,
                         const StringTable& tls_texts) const {
  out.decisions = decisions;
  out.accept = actions[static_cast<std::size_t>(Action::accept)];
  out.reject = actions[static_cast<std::size_t>(Action::reject)];
  out.tempfail = actions[static_cast<std::size_t>(Action::tempfail)];
  out.would_reject = actions[static_cast<std::size_t>(Action::would_reject)];
  for (std::uint32_t r = 0; r < reasons.size(); ++r) {
    if (reasons[r] > 0) out.reasons.push_back({reason_label(reason_names.text(r)), reasons[r]});
  }
  rank(out.reasons);
  out.accepted_by_tls_version = versions_in_order(accepted_by_tls, tls_texts);
  out.accepted = accepted;
  out.accepted_tls = accepted_tls;
}

}  // namespace tlsgate::report
