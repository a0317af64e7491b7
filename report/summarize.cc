// Aggregator::summarize: the tallies turned into the report's lists.
#include <algorithm>
#include <map>

#include "policy/decision.h"
#include "report/aggregator.h"
#include "report/client_network.h"
#include "report/field_value.h"
#include "report/ranking.h"
#include "report/timestamp.h"

namespace tlsgate::report {
namespace {

// Counts by policy::Reason number as named counts, largest first.
std::vector<NamedCount> reason_counts(const std::array<std::uint64_t, policy::kReasonCount>& by) {
  std::vector<NamedCount> out;
  for (std::size_t r = 0; r < by.size(); ++r) {
    if (by[r] > 0)
      out.push_back({std::string(policy::reason_name(static_cast<policy::Reason>(r))), by[r]});
  }
  rank(out);
  return out;
}

std::vector<NetworkGroup> ranked_groups(const std::map<std::string, NetworkGroup>& groups,
                                        std::size_t top) {
  std::vector<NetworkGroup> v;
  v.reserve(groups.size());
  for (const auto& [name, g] : groups) v.push_back(g);
  std::sort(v.begin(), v.end(), [](const NetworkGroup& a, const NetworkGroup& b) {
    if (a.clients != b.clients) return a.clients > b.clients;
    if (a.decisions != b.decisions) return a.decisions > b.decisions;
    return a.network < b.network;
  });
  if (v.size() > top) v.resize(top);
  return v;
}

}  // namespace

void Aggregator::fill_exposures(SourceSummary& out, std::optional<std::uint32_t> source,
                                std::size_t top) const {
  std::map<std::uint32_t, std::uint64_t> by_user;
  for (const auto& [key, count] : exposures_) {
    if (count == 0 || (source && key >> 32 != *source)) continue;
    by_user[static_cast<std::uint32_t>(key)] += count;
  }
  out.credentials_exposed_users = by_user.size();
  for (const auto& [user, count] : by_user) {
    const std::string_view name = users_.text(user);
    out.exposed_users.push_back({name.empty() ? "(no user name)" : displayable(name), count});
  }
  rank(out.exposed_users, top);
}

void Aggregator::fill_certificates(SourceSummary& out, std::optional<std::uint32_t> source,
                                   std::size_t top) const {
  std::map<std::uint32_t, std::uint64_t> by_cert;
  for (const auto& [key, count] : certificate_counts_) {
    if (count == 0 || (source && key >> 32 != *source)) continue;
    by_cert[static_cast<std::uint32_t>(key)] += count;
  }
  out.distinct_certificates = by_cert.size();
  for (const auto& [cert, count] : by_cert) {
    const std::string_view text = certificates_.text(cert);
    const std::size_t nul = text.find('\0');
    out.certificates.push_back(
        {displayable(text.substr(0, nul)), displayable(text.substr(nul + 1)), count});
  }
  std::sort(out.certificates.begin(), out.certificates.end(),
            [](const Certificate& a, const Certificate& b) {
              if (a.count != b.count) return a.count > b.count;
              return a.subject != b.subject ? a.subject < b.subject : a.issuer < b.issuer;
            });
  if (out.certificates.size() > top) out.certificates.resize(top);
}

SourceSummary Aggregator::source_summary(std::uint32_t source, std::size_t top) const {
  const SourceTally& t = source_tallies_[source];
  SourceSummary s;
  s.name = displayable(sources_.text(source));
  t.fill(s, reasons_, tls_texts_);
  s.cipher_bits = t.bits;
  s.certificate_decisions = t.certificates;
  s.credentials_exposed = t.credentials_exposed;
  for (const auto& [day, cell] : t.days)
    s.days.push_back({format_day(day), cell.accepted, cell.tls});

  std::map<std::string, NetworkGroup> groups;
  for (std::uint32_t i = 0; i < pairs_.size(); ++i) {
    const PairCold& p = pairs_[i];
    const PairCounts& n = pair_counts_[i];
    if (p.source != source) continue;
    ++s.clients;
    if (n.refusals > 0) {
      ClientCount c{std::string(clients_.text(p.client)), n.refusals, {}};
      p.each_reason([&](std::uint32_t reason, std::uint64_t n) {
        c.reasons.push_back({reason_label(reasons_.text(reason)), n});
      });
      rank(c.reasons);
      s.top_refused.push_back(std::move(c));
    }
    if (!n.ever_tls) {
      ++s.plaintext_only_clients;
      const std::string network = client_network(client_cold_[p.client].address);
      NetworkGroup& g = groups[network];
      g.network = network;
      ++g.clients;
      g.decisions += n.decisions;
    }
  }
  rank(s.top_refused, top);
  s.plaintext_networks = groups.size();
  s.plaintext_only_networks = ranked_groups(groups, top);
  fill_exposures(s, source, top);
  fill_certificates(s, source, top);
  return s;
}

SourceSummary Aggregator::total_summary(std::size_t top) const {
  SourceSummary s;
  s.name = "total";
  std::map<std::string, std::uint64_t> reasons, versions;
  std::map<std::string, DayShare> days;
  for (std::uint32_t id = 0; id < source_tallies_.size(); ++id) {
    if (source_tallies_[id].rows == 0) continue;
    const SourceSummary one = source_summary(id, 0);
    s.decisions += one.decisions;
    s.accept += one.accept;
    s.reject += one.reject;
    s.tempfail += one.tempfail;
    s.would_reject += one.would_reject;
    for (const auto& r : one.reasons) reasons[r.name] += r.count;
    for (const auto& v : one.accepted_by_tls_version) versions[v.name] += v.count;
    s.accepted += one.accepted;
    s.accepted_tls += one.accepted_tls;
    for (std::size_t b = 0; b < s.cipher_bits.size(); ++b) s.cipher_bits[b] += one.cipher_bits[b];
    s.certificate_decisions += one.certificate_decisions;
    s.credentials_exposed += one.credentials_exposed;
    for (const auto& d : one.days) {
      DayShare& day = days[d.date];
      day.date = d.date;
      day.accepted += d.accepted;
      day.tls += d.tls;
    }
  }
  for (const auto& [name, n] : reasons) s.reasons.push_back({name, n});
  rank(s.reasons);
  // The same order as a source's: known versions, none, then the others by count.
  std::vector<NamedCount> others;
  for (std::uint32_t v = 0; v <= 4; ++v) {
    const auto it = versions.find(std::string(tls_texts_.text(v)));
    if (it != versions.end()) s.accepted_by_tls_version.push_back({it->first, it->second});
  }
  for (const auto& [name, n] : versions) {
    if (!tls_texts_.find(name) || *tls_texts_.find(name) > 4) others.push_back({name, n});
  }
  rank(others);
  s.accepted_by_tls_version.insert(s.accepted_by_tls_version.end(), others.begin(), others.end());
  for (const auto& [date, d] : days) s.days.push_back(d);

  // Clients across sources: refusals summed, TLS seen in any.
  const std::size_t clients = clients_.size();
  const std::vector<std::uint8_t> flags = clients_.flags_by_id();
  std::vector<std::uint64_t> refusals(clients), decisions(clients);
  std::vector<std::map<std::uint32_t, std::uint64_t>> client_reasons(clients);
  for (std::uint32_t i = 0; i < pairs_.size(); ++i) {
    const PairCold& p = pairs_[i];
    refusals[p.client] += pair_counts_[i].refusals;
    decisions[p.client] += pair_counts_[i].decisions;
    p.each_reason(
        [&](std::uint32_t reason, std::uint64_t n) { client_reasons[p.client][reason] += n; });
  }
  std::map<std::string, NetworkGroup> groups;
  for (std::uint32_t id = 0; id < clients; ++id) {
    if ((flags[id] & ClientTable::kCounted) == 0) continue;
    ++s.clients;
    if (refusals[id] > 0) {
      ClientCount cc{std::string(clients_.text(id)), refusals[id], {}};
      for (const auto& [reason, n] : client_reasons[id]) {
        cc.reasons.push_back({reason_label(reasons_.text(reason)), n});
      }
      rank(cc.reasons);
      s.top_refused.push_back(std::move(cc));
    }
    if ((flags[id] & ClientTable::kEverTls) == 0) {
      ++s.plaintext_only_clients;
      const std::string network = client_network(client_cold_[id].address);
      NetworkGroup& g = groups[network];
      g.network = network;
      ++g.clients;
      g.decisions += decisions[id];
    }
  }
  rank(s.top_refused, top);
  s.plaintext_networks = groups.size();
  s.plaintext_only_networks = ranked_groups(groups, top);
  fill_exposures(s, std::nullopt, top);
  fill_certificates(s, std::nullopt, top);
  return s;
}

WhatIfSummary Aggregator::what_if_summary(std::size_t top) const {
  WhatIfSummary w;
  w.config = replay_->path();
  w.sessions = replayed_;
  w.total.name = "total";
  std::vector<WhatIfSource> sources(replay_->source_count());
  for (std::uint32_t id = 0; id < sources.size(); ++id) {
    sources[id].name = replay_->source_name(id);
    if (id >= what_if_.size()) continue;
    const WhatIfTally& t = what_if_[id];
    sources[id].newly_refused = t.newly_refused;
    sources[id].newly_passed = t.newly_passed;
    sources[id].reasons = reason_counts(t.reasons);
  }
  // Clients newly refused, under their candidate source; moves between sources.
  std::map<std::pair<std::string, std::string>, std::uint64_t> moves;
  std::vector<bool> moved(clients_.size());
  for (const PairCold& p : pairs_) {
    const ClientCold& c = client_cold_[p.client];
    const std::string& to = replay_->source_name(replay_->source_of_rule(c.candidate_rule));
    const std::string_view from = sources_.text(p.source);
    if (from != to) {
      ++moves[{displayable(from), to}];
      moved[p.client] = true;
    }
  }
  const std::vector<std::uint8_t> flags = clients_.flags_by_id();
  for (std::uint32_t id = 0; id < clients_.size(); ++id) {
    const ClientCold& c = client_cold_[id];
    if ((flags[id] & ClientTable::kCounted) == 0) continue;
    w.moved += moved[id] ? 1 : 0;
    if (c.newly_refused == 0) continue;
    ClientCount cc{std::string(clients_.text(id)), c.newly_refused, reason_counts(c.new_reasons)};
    sources[replay_->source_of_rule(c.candidate_rule)].top.push_back(cc);
    w.total.top.push_back(std::move(cc));
  }
  std::map<std::string, std::uint64_t> total_reasons;
  for (WhatIfSource& s : sources) {
    rank(s.top, top);
    w.newly_refused += s.newly_refused;
    w.newly_passed += s.newly_passed;
    for (const auto& r : s.reasons) total_reasons[r.name] += r.count;
  }
  w.total.newly_refused = w.newly_refused;
  w.total.newly_passed = w.newly_passed;
  for (const auto& [name, n] : total_reasons) w.total.reasons.push_back({name, n});
  rank(w.total.reasons);
  rank(w.total.top, top);
  std::sort(sources.begin(), sources.end(), [](const WhatIfSource& a, const WhatIfSource& b) {
    if (a.newly_refused != b.newly_refused) return a.newly_refused > b.newly_refused;
    if (a.newly_passed != b.newly_passed) return a.newly_passed > b.newly_passed;
    return a.name < b.name;
  });
  w.sources = std::move(sources);
  for (const auto& [route, n] : moves) w.moves.push_back({route.first, route.second, n});
  std::sort(w.moves.begin(), w.moves.end(), [](const Move& a, const Move& b) {
    if (a.clients != b.clients) return a.clients > b.clients;
    return a.from != b.from ? a.from < b.from : a.to < b.to;
  });
  if (w.moves.size() > top) w.moves.resize(top);
  w.partners = what_if_partners(top);
  for (std::uint32_t p = 0; p < replay_->partner_count(); ++p) {
    if (!replay_->replayed(p)) w.unreplayed_partners.push_back(replay_->partner_name(p));
  }
  return w;
}

std::vector<WhatIfSource> Aggregator::what_if_partners(std::size_t top) const {
  std::vector<WhatIfSource> partners;
  std::vector<std::uint32_t> index(replay_->partner_count(), kNone);
  for (std::uint32_t p = 0; p < replay_->partner_count(); ++p) {
    if (!replay_->replayed(p)) continue;
    index[p] = static_cast<std::uint32_t>(partners.size());
    WhatIfSource& out = partners.emplace_back();
    out.name = replay_->partner_name(p);
    if (p >= what_if_partners_.size()) continue;
    const WhatIfTally& t = what_if_partners_[p];
    out.newly_refused = t.newly_refused;
    out.reasons = reason_counts(t.reasons);
  }
  for (const auto& [key, n] : partner_clients_) {
    if (n.count == 0) continue;
    ClientCount cc{std::string(clients_.text(static_cast<std::uint32_t>(key))), n.count,
                   reason_counts(n.reasons)};
    partners[index[key >> 32]].top.push_back(std::move(cc));
  }
  for (WhatIfSource& p : partners) rank(p.top, top);
  std::stable_sort(partners.begin(), partners.end(),
                   [](const WhatIfSource& a, const WhatIfSource& b) {
                     return a.newly_refused > b.newly_refused;
                   });
  return partners;
}

Summary Aggregator::summarize(std::size_t top) const {
  Summary s;
  s.top = top;
  if (first_) s.first = format_time(*first_);
  if (last_) s.last = format_time(*last_);
  s.filtered_rows = filtered_;
  for (std::uint32_t id = 0; id < source_tallies_.size(); ++id) {
    if (source_tallies_[id].rows > 0) s.sources.push_back(source_summary(id, top));
  }
  std::sort(s.sources.begin(), s.sources.end(), [](const SourceSummary& a, const SourceSummary& b) {
    return a.decisions != b.decisions ? a.decisions > b.decisions : a.name < b.name;
  });
  s.total = total_summary(top);
  s.partners = partners_.summarize(reasons_, tls_texts_);
  s.sender_domains = sender_domains_.summarize(tls_texts_, top);
  s.sender_domain_count = sender_domains_.domains();
  if (replay_ != nullptr) s.what_if = what_if_summary(top);
  return s;
}

}  // namespace tlsgate::report
