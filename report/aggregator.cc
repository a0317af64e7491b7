#include "report/aggregator.h"

#include <algorithm>
#include <cstring>

#include "report/field_value.h"
#include "report/timestamp.h"
#include "report/vector_index.h"

namespace tlsgate::report {
namespace {

constexpr std::uint32_t kTlsVersions = 4;  // tls_texts_ 0-3
constexpr std::uint32_t kTlsNone = 4;

// The kBitBuckets entry of a cipher_bits value ({cipher_bits} as policy::parse_cipher_bits
// reads it: 1 to 5 digits).
std::size_t bits_bucket(std::string_view bits) {
  if (bits.empty() || bits.size() > 5) return 4;
  unsigned b = 0;
  for (const char c : bits) {
    if (c < '0' || c > '9') return 4;
    b = b * 10 + static_cast<unsigned>(c - '0');
  }
  if (b < 112) return 0;
  if (b < 128) return 1;
  if (b < 256) return 2;
  return 3;
}

bool refusal(Action a) { return a != Action::accept; }

}  // namespace

Aggregator::Aggregator(Selection selection, Replay* replay)
    : selection_(std::move(selection)), replay_(replay) {
  for (const char* known : {"TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "none"}) {
    tls_texts_.intern(known);
  }
}

void Aggregator::begin_file(const ColumnMap& columns) {
  has_transaction_ = columns.has(Column::transaction);
  linker_.begin_file();
}

std::uint32_t Aggregator::source_of(std::string_view name) {
  bool added = false;
  const std::uint32_t id = sources_.intern(name, &added);
  if (added) {
    SourceTally& s = source_tallies_.emplace_back();
    s.selected = selection_.sources.empty() ||
                 std::find(selection_.sources.begin(), selection_.sources.end(), name) !=
                     selection_.sources.end();
  }
  return id;
}

void Aggregator::look_ahead_client(const Row& row, Lookahead& ahead) const {
  ahead.client_hash = hash_bytes(row.client);
  clients_.prefetch(ahead.client_hash);
  if (row.action == Action::accept && !row.sender_domain.empty()) {
    ahead.domain_hash = hash_bytes(row.sender_domain);
    sender_domains_.prefetch_domain(ahead.domain_hash);
  }
}

void Aggregator::look_ahead_pair(const Row& row, const Lookahead& ahead) {
  const ClientTable::Slot* c = clients_.find(row.client, ahead.client_hash);
  if (c == nullptr || c->source == kNone) return;
  __builtin_prefetch(&pair_counts_[c->pair]);
  linker_.prefetch(c->id);
  if (row.action != Action::accept) __builtin_prefetch(&pairs_[c->pair]);  // its reasons
  if (row.action == Action::accept && !row.sender_domain.empty() &&
      c->id < client_networks_.size() && client_networks_[c->id] != 0) {
    sender_domains_.prefetch_pair(row.sender_domain, ahead.domain_hash,
                                  client_networks_[c->id] - 1);
  }
}

ClientTable::Slot& Aggregator::client_of(std::string_view text, std::uint64_t hash) {
  bool added = false;
  ClientTable::Slot& c = clients_.add(text, hash, added);
  if (added) {
    ClientCold& cold = client_cold_.emplace_back();
    bool valid = true;
    if (text != "unknown") {
      cold.address = policy::Address::parse(text);
      valid = cold.address.has_value();
    }
    if (valid) {
      c.flags |= ClientTable::kValid;
      if (replay_ != nullptr) cold.candidate_rule = replay_->rule_for(cold.address);
    }
  }
  return c;
}

std::uint32_t Aggregator::pair_of(std::uint32_t source, ClientTable::Slot& c) {
  if (c.source == source) return c.pair;
  c.source = source;
  c.pair = pair_of(source, c.id);
  return c.pair;
}

std::uint32_t Aggregator::pair_of(std::uint32_t source, std::uint32_t client) {
  const std::uint64_t key = std::uint64_t{source} << 32 | client;
  auto [it, added] = pair_index_.try_emplace(key, static_cast<std::uint32_t>(pairs_.size()));
  if (added) {
    PairCold& p = pairs_.emplace_back();
    p.source = source;
    p.client = client;
    pair_counts_.emplace_back();
  }
  return it->second;
}

std::uint32_t Aggregator::tls_text_of(std::string_view t) {
  if (t.size() == 7 && std::memcmp(t.data(), "TLSv1.", 6) == 0) {
    if (t[6] == '3') return 0;
    if (t[6] == '2') return 1;
    if (t[6] == '1') return 2;
  }
  if (t == "TLSv1") return 3;
  if (t == "none" || t.empty()) return kTlsNone;
  return tls_texts_.intern(t);
}

void Aggregator::count_message(const Row& row, SourceTally& s, std::uint32_t tls) {
  const bool secure = tls < kTlsVersions;
  s.count_message(tls, secure);
  if (secure) ++s.bits[bits_bucket(row.cipher_bits)];
  const std::int64_t day = day_of(row.time);
  if (s.cached_cell == nullptr || s.cached_day != day) {
    s.cached_cell = &s.days[day];
    s.cached_day = day;
  }
  ++s.cached_cell->accepted;
  if (secure) ++s.cached_cell->tls;
}

void Aggregator::count_envelope(const Row& row, std::uint32_t client, std::uint32_t tls,
                                const Lookahead* ahead) {
  const bool secure = tls < kTlsVersions;
  if (!row.partner.empty()) partners_.count_message(partners_.list_of(row.partner), tls, secure);
  if (row.sender_domain.empty()) return;
  std::uint32_t& network = grow_to(client_networks_, client);
  if (network == 0) network = 1 + sender_domains_.network_of(client_cold_[client].address);
  const std::uint64_t hash = ahead != nullptr ? ahead->domain_hash : hash_bytes(row.sender_domain);
  sender_domains_.count_message(row.sender_domain, hash, tls, secure, network - 1);
}

void Aggregator::refused(PairCold& p, std::uint32_t reason) {
  for (auto& r : p.first_reasons) {
    if (r.first == reason || r.first == kNone) {
      r.first = reason;
      ++r.second;
      return;
    }
  }
  auto it = std::find_if(p.more_reasons.begin(), p.more_reasons.end(),
                         [reason](const auto& r) { return r.first == reason; });
  if (it == p.more_reasons.end()) {
    p.more_reasons.emplace_back(reason, 1);
  } else {
    ++it->second;
  }
}

std::uint32_t Aggregator::count_exposure(const Row& row, std::uint32_t source) {
  ++source_tallies_[source].credentials_exposed;
  const std::uint32_t user = users_.intern(row.auth_user);
  ++exposures_[std::uint64_t{source} << 32 | user];
  return user;
}

AcceptedDecision Aggregator::count_decision(const Row& row, std::uint32_t source,
                                            std::uint32_t client, std::uint32_t pair) {
  AcceptedDecision d;
  d.source = source;
  d.client = client;
  SourceTally& s = source_tallies_[source];
  PairCounts& p = pair_counts_[pair];
  ++p.decisions;
  const std::uint32_t reason =
      row.reason.empty() && row.action == Action::accept ? kNone : reasons_.intern(row.reason);
  const std::uint32_t counted_reason = row.reason.empty() ? DecisionTally::kNoReason : reason;
  s.count_decision(row.action, counted_reason);
  if (refusal(row.action)) {
    ++p.refusals;
    refused(pairs_[pair], reason);
  }
  if (row.credentials_exposed) d.exposed_user = count_exposure(row, source);
  if (!row.cert_subject.empty() || !row.cert_issuer.empty()) {
    ++s.certificates;
    std::string key(row.cert_subject);
    key += '\0';
    key += row.cert_issuer;
    d.certificate = certificates_.intern(key);
    ++certificate_counts_[std::uint64_t{source} << 32 | d.certificate];
  }
  if (!row.partner.empty()) {
    d.partners = partners_.list_of(row.partner);
    partners_.count_decision(d.partners, row.action, counted_reason, client);
  }
  if (replay_ != nullptr) count_what_if(row, client_cold_[client], client, d);
  return d;
}

void Aggregator::count_what_if(const Row& row, ClientCold& c, std::uint32_t client,
                               AcceptedDecision& d) {
  const Replay::Verdict v = replay_->judge(c.candidate_rule, c.address, row);
  WhatIfTally& w = grow_to(what_if_, v.source);
  const bool refused_now = v.kept ? row.action != Action::accept : v.reason != policy::Reason::none;
  ++replayed_;
  d.candidate_source = v.source;
  if (row.action == Action::accept && refused_now) {
    const auto r = static_cast<std::size_t>(v.reason);
    ++w.newly_refused;
    ++w.reasons[r];
    ++c.newly_refused;
    ++c.new_reasons[r];
    d.newly_refused = true;
    d.new_reason = static_cast<std::uint8_t>(r);
    if (v.partner != Replay::kNone) {
      WhatIfTally& p = grow_to(what_if_partners_, v.partner);
      ++p.newly_refused;
      ++p.reasons[r];
      NewlyRefused& n = partner_clients_[std::uint64_t{v.partner} << 32 | client];
      ++n.count;
      ++n.reasons[r];
      d.candidate_partner = v.partner;
    }
  } else if (row.action != Action::accept && !refused_now) {
    ++w.newly_passed;
  }
}

void Aggregator::take_back(const AcceptedDecision& d) {
  SourceTally& s = source_tallies_[d.source];
  s.take_back_accept();
  --pair_counts_[pair_of(d.source, d.client)].decisions;
  if (d.exposed_user != AcceptedDecision::kNone) {
    --s.credentials_exposed;
    --exposures_[std::uint64_t{d.source} << 32 | d.exposed_user];
  }
  if (d.partners != AcceptedDecision::kNone) partners_.take_back_accept(d.partners);
  if (d.certificate != AcceptedDecision::kNone) {
    --s.certificates;
    --certificate_counts_[std::uint64_t{d.source} << 32 | d.certificate];
  }
  if (replay_ != nullptr) {
    --replayed_;
    if (d.newly_refused) {
      WhatIfTally& w = what_if_[d.candidate_source];
      ClientCold& c = client_cold_[d.client];
      --w.newly_refused;
      --w.reasons[d.new_reason];
      --c.newly_refused;
      --c.new_reasons[d.new_reason];
      if (d.candidate_partner != AcceptedDecision::kNone) {
        WhatIfTally& p = what_if_partners_[d.candidate_partner];
        --p.newly_refused;
        --p.reasons[d.new_reason];
        NewlyRefused& n = partner_clients_[std::uint64_t{d.candidate_partner} << 32 | d.client];
        --n.count;
        --n.reasons[d.new_reason];
      }
    }
  }
}

// The transaction; for a file without that column, the facts both rows of a session share.
std::string_view Aggregator::link_key(const Row& row, bool& unique) {
  if (has_transaction_ && !row.transaction.empty()) {
    unique = true;
    return row.transaction;
  }
  unique = false;
  stand_in_key_.clear();
  for (const std::string_view part :
       {row.client, row.source, row.tls_version, row.cipher, row.auth, row.auth_user}) {
    stand_in_key_ += part;
    stand_in_key_ += '\x1f';
  }
  return stand_in_key_;
}

bool Aggregator::add(const Row& row, std::string& error, const Lookahead* ahead) {
  if ((selection_.since && row.time < *selection_.since) ||
      (selection_.until && row.time >= *selection_.until)) {
    ++filtered_;
    return true;
  }
  ClientTable::Slot& c =
      client_of(row.client, ahead != nullptr ? ahead->client_hash : hash_bytes(row.client));
  // A client's rows nearly always name the same source: no lookup then.
  const std::uint32_t source =
      c.source != kNone && sources_.text(c.source) == row.source ? c.source : source_of(row.source);
  SourceTally& s = source_tallies_[source];
  if (!s.selected) {
    ++filtered_;
    return true;
  }
  if ((c.flags & ClientTable::kValid) == 0) {
    error = "client: \"" + printable(row.client) + "\" is not an IP address (nor \"unknown\")";
    return false;
  }
  ++counted_;
  if (!first_ || row.time < *first_) first_ = row.time;
  if (!last_ || row.time > *last_) last_ = row.time;
  c.flags |= ClientTable::kCounted;
  ++s.rows;
  const std::uint32_t client = c.id;
  const std::uint32_t pair = pair_of(source, c);
  const std::uint32_t tls = tls_text_of(row.tls_version);
  if (tls < kTlsVersions) {
    c.flags |= ClientTable::kEverTls;
    pair_counts_[pair].ever_tls = true;
  }

  bool unique = false;
  if (row.action == Action::accept) {
    count_message(row, s, tls);
    if (!row.partner.empty() || !row.sender_domain.empty()) count_envelope(row, client, tls, ahead);
    // Most accept rows end no waiting session and are far from their file's start:
    // a decision, without asking the linker (nor building a stand-in key).
    if (!linker_.waiting_for(client) && !linker_.near_file_start(row.time)) {
      count_decision(row, source, client, pair);
      return true;
    }
    const std::string_view key = link_key(row, unique);
    bool exposure_counted = false;
    const auto link = linker_.accept(key, unique, client, row.time, exposure_counted);
    if (link != TransactionLinker::Accept::ends_session) {
      const AcceptedDecision d = count_decision(row, source, client, pair);
      if (link == TransactionLinker::Accept::remember) linker_.remember(key, row.time, d);
    } else if (row.credentials_exposed && !exposure_counted) {
      count_exposure(row, source);  // the session's would-reject did not say so
    }
  } else if (row.action == Action::would_reject) {
    std::optional<AcceptedDecision> taken_back;
    const std::string_view key = link_key(row, unique);  // sets unique: before the call
    const bool decision = linker_.would_reject(key, unique, client, row.time, taken_back);
    if (taken_back) take_back(*taken_back);
    if (decision) {
      count_decision(row, source, client, pair);
      if (row.credentials_exposed) linker_.first_exposure(key);  // counted just now
    } else if (row.credentials_exposed && linker_.first_exposure(key)) {
      count_exposure(row, source);  // said by a later row of the session only
    }
  } else {
    count_decision(row, source, client, pair);
  }
  return true;
}

}  // namespace tlsgate::report
