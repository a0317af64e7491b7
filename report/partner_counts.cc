#include "report/partner_counts.h"

#include <algorithm>

#include "report/field_value.h"

namespace tlsgate::report {
std::uint32_t PartnerCounts::list_of(std::string_view column) {
  bool added = false;
  const std::uint32_t list = lists_.intern(column, &added);
  if (!added) return list;
  std::vector<std::uint32_t>& members = members_.emplace_back();
  std::size_t start = 0;
  while (start <= column.size()) {
    const std::size_t comma = std::min(column.find(',', start), column.size());
    const std::string_view name = column.substr(start, comma - start);
    start = comma + 1;
    if (name.empty()) continue;
    bool new_name = false;
    const std::uint32_t partner = names_.intern(name, &new_name);
    if (new_name) tallies_.emplace_back();
    if (std::find(members.begin(), members.end(), partner) == members.end()) {
      members.push_back(partner);
    }
  }
  return list;
}

void PartnerCounts::count_decision(std::uint32_t list, Action action, std::uint32_t reason,
                                   std::uint32_t client) {
  for (const std::uint32_t partner : members_[list]) {
    Tally& t = tallies_[partner];
    t.count_decision(action, reason);
    if (clients_.insert(partner, client)) ++t.clients;
  }
}

void PartnerCounts::take_back_accept(std::uint32_t list) {
  for (const std::uint32_t partner : members_[list]) {
    tallies_[partner].take_back_accept();
  }
}

void PartnerCounts::count_message(std::uint32_t list, std::uint32_t tls, bool secure) {
  for (const std::uint32_t partner : members_[list]) {
    tallies_[partner].count_message(tls, secure);
  }
}

std::vector<SourceSummary> PartnerCounts::summarize(const StringTable& reasons,
                                                    const StringTable& tls_texts) const {
  std::vector<SourceSummary> out;
  for (std::uint32_t partner = 0; partner < tallies_.size(); ++partner) {
    const Tally& t = tallies_[partner];
    SourceSummary& s = out.emplace_back();
    s.name = displayable(names_.text(partner));
    t.fill(s, reasons, tls_texts);
    s.clients = t.clients;
  }
  std::sort(out.begin(), out.end(), [](const SourceSummary& a, const SourceSummary& b) {
    return a.decisions != b.decisions ? a.decisions > b.decisions : a.name < b.name;
  });
  return out;
}

}  // namespace tlsgate::report
