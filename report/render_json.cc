// The JSON format; its keys are documented in tlsgate(8) (more may be added, none
// renamed).
#include "report/json_writer.h"
#include "report/render.h"

namespace tlsgate::report {
namespace {

void counts(JsonWriter& j, std::string_view key, const std::vector<NamedCount>& list) {
  j.key(key);
  j.begin_object();
  for (const auto& c : list) {
    j.key(c.name);
    j.value(c.count);
  }
  j.end_object();
}

void clients(JsonWriter& j, std::string_view key, const std::vector<ClientCount>& list) {
  j.key(key);
  j.begin_array();
  for (const auto& c : list) {
    j.begin_object();
    j.key("client");
    j.value(c.client);
    j.key("count");
    j.value(c.count);
    counts(j, "reasons", c.reasons);
    j.end_object();
  }
  j.end_array();
}

void number(JsonWriter& j, std::string_view key, std::uint64_t n) {
  j.key(key);
  j.value(n);
}

void share(JsonWriter& j, std::optional<double> tls_share) {
  j.key("tls_share");
  if (tls_share) {
    j.value(*tls_share);
  } else {
    j.null();
  }
}

// The keys a source and a partner share: decisions and accepted messages.
void decision_keys(JsonWriter& j, const SourceSummary& s) {
  number(j, "decisions", s.decisions);
  number(j, "accept", s.accept);
  number(j, "reject", s.reject);
  number(j, "tempfail", s.tempfail);
  number(j, "would_reject", s.would_reject);
  counts(j, "reasons", s.reasons);
  counts(j, "accepted_by_tls_version", s.accepted_by_tls_version);
  number(j, "accepted", s.accepted);
  share(j, s.tls_share());
}

void source(JsonWriter& j, const SourceSummary& s) {
  j.begin_object();
  decision_keys(j, s);
  j.key("cipher_bits");
  j.begin_object();
  for (std::size_t b = 0; b < kBitBuckets.size(); ++b) {
    j.key(kBitBuckets[b]);
    j.value(s.cipher_bits[b]);
  }
  j.end_object();
  number(j, "clients", s.clients);
  number(j, "plaintext_only_clients", s.plaintext_only_clients);
  number(j, "credentials_exposed", s.credentials_exposed);
  number(j, "credentials_exposed_users", s.credentials_exposed_users);
  counts(j, "exposed_users", s.exposed_users);
  number(j, "client_certificates", s.certificate_decisions);
  number(j, "distinct_client_certificates", s.distinct_certificates);
  j.key("certificates");
  j.begin_array();
  for (const auto& c : s.certificates) {
    j.begin_object();
    j.key("subject");
    j.value(c.subject);
    j.key("issuer");
    j.value(c.issuer);
    number(j, "count", c.count);
    j.end_object();
  }
  j.end_array();
  clients(j, "top_refused", s.top_refused);
  number(j, "plaintext_only_networks_count", s.plaintext_networks);
  j.key("plaintext_only_networks");
  j.begin_array();
  for (const auto& g : s.plaintext_only_networks) {
    j.begin_object();
    j.key("network");
    j.value(g.network);
    number(j, "clients", g.clients);
    number(j, "decisions", g.decisions);
    j.end_object();
  }
  j.end_array();
  j.key("days");
  j.begin_array();
  for (const auto& d : s.days) {
    j.begin_object();
    j.key("date");
    j.value(d.date);
    number(j, "accepted", d.accepted);
    number(j, "tls", d.tls);
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

// A partner's block: the keys of a source's that a partner has.
void partner(JsonWriter& j, const SourceSummary& s) {
  j.begin_object();
  decision_keys(j, s);
  number(j, "clients", s.clients);
  j.end_object();
}

void sender_domains(JsonWriter& j, const Summary& s) {
  number(j, "sender_domains_count", s.sender_domain_count);
  j.key("sender_domains");
  j.begin_array();
  for (const auto& d : s.sender_domains) {
    j.begin_object();
    j.key("domain");
    j.value(d.name);
    number(j, "messages", d.messages);
    number(j, "tls", d.tls);
    share(j, d.tls_share());
    counts(j, "accepted_by_tls_version", d.accepted_by_tls_version);
    number(j, "client_networks", d.networks);
    j.end_object();
  }
  j.end_array();
}

void what_if_source(JsonWriter& j, const WhatIfSource& s) {
  j.begin_object();
  number(j, "newly_refused", s.newly_refused);
  number(j, "newly_passed", s.newly_passed);
  counts(j, "reasons", s.reasons);
  clients(j, "top", s.top);
  j.end_object();
}

void what_if(JsonWriter& j, const WhatIfSummary& w) {
  j.key("what_if");
  j.begin_object();
  j.key("config");
  j.value(w.config);
  number(j, "sessions", w.sessions);
  number(j, "newly_refused", w.newly_refused);
  number(j, "newly_passed", w.newly_passed);
  number(j, "moved", w.moved);
  j.key("sources");
  j.begin_object();
  for (const auto& s : w.sources) {
    j.key(s.name);
    what_if_source(j, s);
  }
  j.end_object();
  j.key("total");
  what_if_source(j, w.total);
  j.key("moves");
  j.begin_array();
  for (const auto& m : w.moves) {
    j.begin_object();
    j.key("from");
    j.value(m.from);
    j.key("to");
    j.value(m.to);
    number(j, "clients", m.clients);
    j.end_object();
  }
  j.end_array();
  j.key("partners");
  j.begin_object();
  for (const auto& p : w.partners) {
    j.key(p.name);
    j.begin_object();
    number(j, "newly_refused", p.newly_refused);
    counts(j, "reasons", p.reasons);
    clients(j, "top", p.top);
    j.end_object();
  }
  j.end_object();
  j.key("unreplayed_partners");
  j.begin_array();
  for (const auto& name : w.unreplayed_partners) j.value(name);
  j.end_array();
  j.end_object();
}

void optional_text(JsonWriter& j, std::string_view key, const std::optional<std::string>& v) {
  j.key(key);
  if (v) {
    j.value(*v);
  } else {
    j.null();
  }
}

}  // namespace

void render_json_to(JsonWriter& j, const Summary& s) {
  j.begin_object();
  number(j, "rows", s.rows);
  number(j, "bad_rows", s.bad_rows);
  number(j, "filtered_rows", s.filtered_rows);
  optional_text(j, "first", s.first);
  optional_text(j, "last", s.last);
  j.key("files");
  j.begin_array();
  for (const auto& f : s.files) j.value(f);
  j.end_array();
  j.key("selection");
  j.begin_object();
  optional_text(j, "since", s.since);
  optional_text(j, "until", s.until);
  j.key("sources");
  j.begin_array();
  for (const auto& name : s.source_filter) j.value(name);
  j.end_array();
  number(j, "top", s.top);
  j.end_object();
  j.key("sources");
  j.begin_object();
  for (const auto& src : s.sources) {
    j.key(src.name);
    source(j, src);
  }
  j.end_object();
  j.key("total");
  source(j, s.total);
  j.key("partners");
  j.begin_object();
  for (const auto& p : s.partners) {
    j.key(p.name);
    partner(j, p);
  }
  j.end_object();
  sender_domains(j, s);
  if (s.what_if) what_if(j, *s.what_if);
  j.end_object();
}

std::string render_json(const Summary& s) {
  std::string out;
  JsonWriter j(out);
  render_json_to(j, s);
  out += '\n';
  return out;
}

}  // namespace tlsgate::report
