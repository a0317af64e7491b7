#include "report/tables.h"

#include "report/text_table.h"

namespace tlsgate::report {
namespace {

using Cells = std::vector<std::string>;

// The sources, then the total when there is more than one source.
std::vector<const SourceSummary*> with_total(const Summary& s) {
  std::vector<const SourceSummary*> v;
  for (const auto& src : s.sources) v.push_back(&src);
  if (s.sources.size() != 1) v.push_back(&s.total);
  return v;
}

// "1 network", "2 networks".
std::string count_of(std::uint64_t n, const std::string& thing) {
  return group_digits(n) + " " + thing + (n == 1 ? "" : "s");
}

std::string joined(const std::vector<NamedCount>& counts) {
  std::string text;
  for (const auto& c : counts) {
    if (!text.empty()) text += ", ";
    text += c.name + " " + group_digits(c.count);
  }
  return text;
}

Table decisions(const Summary& s) {
  Table t{"decisions",
          "Decisions per source (a would-reject and the accept of its message count once; TLS "
          "share: of accepted messages)",
          {"source", "decisions", "accept", "reject", "tempfail", "would-reject", "TLS share",
           "clients", "plaintext-only", "credentials exposed"},
          "l",
          {}};
  for (const SourceSummary* src : with_total(s)) {
    t.rows.push_back({src->name, group_digits(src->decisions), group_digits(src->accept),
                      group_digits(src->reject), group_digits(src->tempfail),
                      group_digits(src->would_reject), percent_of(src->accepted_tls, src->accepted),
                      group_digits(src->clients), group_digits(src->plaintext_only_clients),
                      group_digits(src->credentials_exposed)});
  }
  return t;
}

// Refusals by reason of each of `rows` (named in the column `kind`).
Table reasons(const std::string& id, const std::string& title, const std::string& kind,
              const std::vector<const SourceSummary*>& rows) {
  Table t{id, title, {kind, "reason", "count"}, "ll", {}};
  for (const SourceSummary* src : rows) {
    for (const auto& r : src->reasons) t.rows.push_back({src->name, r.name, group_digits(r.count)});
  }
  return t;
}

// Accepted messages by TLS version of each of `rows`, a column for each version in
// `order` (every one seen, in the order of that list).
Table versions(const std::string& id, const std::string& title, const std::string& kind,
               const std::vector<const SourceSummary*>& rows,
               const std::vector<NamedCount>& order) {
  Table t{id, title, {kind}, "l", {}};
  std::vector<std::string> names;
  for (const auto& v : order) names.push_back(v.name);
  t.header.insert(t.header.end(), names.begin(), names.end());
  t.header.push_back("accepted");
  for (const SourceSummary* src : rows) {
    Cells row{src->name};
    for (const auto& name : names) {
      std::uint64_t n = 0;
      for (const auto& v : src->accepted_by_tls_version) n = v.name == name ? v.count : n;
      row.push_back(group_digits(n));
    }
    row.push_back(group_digits(src->accepted));
    t.rows.push_back(row);
  }
  return t;
}

std::vector<const SourceSummary*> each(const std::vector<SourceSummary>& list) {
  std::vector<const SourceSummary*> v;
  for (const auto& item : list) v.push_back(&item);
  return v;
}

Table partner_decisions(const Summary& s) {
  Table t{"partner-decisions",
          "Decisions per partner (rows naming a [partner]: the refusals it made, the accepts it "
          "applied to; TLS share: of accepted messages)",
          {"partner", "decisions", "accept", "reject", "tempfail", "would-reject", "TLS share",
           "clients"},
          "l",
          {}};
  for (const SourceSummary& p : s.partners) {
    t.rows.push_back({p.name, group_digits(p.decisions), group_digits(p.accept),
                      group_digits(p.reject), group_digits(p.tempfail),
                      group_digits(p.would_reject), percent_of(p.accepted_tls, p.accepted),
                      group_digits(p.clients)});
  }
  return t;
}

// The TLS versions the partners' accepted messages used, in the total's order.
std::vector<NamedCount> partner_version_order(const Summary& s) {
  std::vector<NamedCount> order;
  for (const auto& v : s.total.accepted_by_tls_version) {
    bool used = false;
    for (const SourceSummary& p : s.partners) {
      for (const auto& pv : p.accepted_by_tls_version) used = used || pv.name == v.name;
    }
    if (used) order.push_back(v);
  }
  return order;
}

Table sender_domains(const Summary& s) {
  Table t{"sender-domains",
          "Top " + std::to_string(s.top) + " sender domains by accepted messages (" +
              count_of(s.sender_domain_count, "domain") +
              "; client networks: the distinct /24 (IPv4) and /48 (IPv6) they came from)",
          {"sender domain", "messages", "TLS share", "TLS versions", "client networks"},
          "lrrlr",
          {}};
  for (const SenderDomainSummary& d : s.sender_domains) {
    t.rows.push_back({d.name, group_digits(d.messages), percent_of(d.tls, d.messages),
                      joined(d.accepted_by_tls_version), group_digits(d.networks)});
  }
  return t;
}

Table bits(const Summary& s) {
  Table t{"cipher-bits", "Cipher key size of accepted TLS messages (bits)", {"source"}, "l", {}};
  for (const char* b : kBitBuckets) t.header.push_back(b);
  for (const SourceSummary* src : with_total(s)) {
    Cells row{src->name};
    for (const auto n : src->cipher_bits) row.push_back(group_digits(n));
    t.rows.push_back(row);
  }
  return t;
}

Table days(const Summary& s) {
  Table t{"days", "TLS share of accepted messages per day", {"date"}, "l", {}};
  for (const SourceSummary* src : with_total(s)) t.header.push_back(src->name);
  for (const DayShare& day : s.total.days) {
    Cells row{day.date};
    for (const SourceSummary* src : with_total(s)) {
      std::string cell = "-";
      for (const DayShare& d : src->days) {
        if (d.date == day.date) cell = percent_of(d.tls, d.accepted);
      }
      row.push_back(cell);
    }
    t.rows.push_back(row);
  }
  return t;
}

Table top_refused(const Summary& s) {
  Table t{"top-refused",
          "Top " + std::to_string(s.top) +
              " clients by refusals and would-rejects (who would break: whom to call)",
          {"source", "client", "refused", "reasons"},
          "llrl",
          {}};
  for (const SourceSummary* src : with_total(s)) {
    for (const auto& c : src->top_refused) {
      t.rows.push_back({src->name, c.client, group_digits(c.count), joined(c.reasons)});
    }
  }
  return t;
}

Table plaintext_networks(const Summary& s) {
  Table t{"plaintext-networks",
          "Plaintext-only clients (never used TLS) by /24 and /48 (" +
              count_of(s.total.plaintext_only_clients, "client") + " in " +
              count_of(s.total.plaintext_networks, "network") + ")",
          {"source", "network", "clients", "decisions"},
          "ll",
          {}};
  for (const SourceSummary* src : with_total(s)) {
    for (const auto& g : src->plaintext_only_networks) {
      t.rows.push_back({src->name, g.network, group_digits(g.clients), group_digits(g.decisions)});
    }
  }
  return t;
}

Table exposures(const Summary& s) {
  Table t{"credentials-exposed",
          "Credentials exposed: a password or token crossed the network in clear (" +
              count_of(s.total.credentials_exposed, "session") + ", " +
              count_of(s.total.credentials_exposed_users, "user") + "): change them",
          {"source", "user", "sessions"},
          "ll",
          {}};
  for (const SourceSummary* src : with_total(s)) {
    for (const auto& u : src->exposed_users) {
      t.rows.push_back({src->name, u.name, group_digits(u.count)});
    }
  }
  return t;
}

Table certificates(const Summary& s) {
  Table t{"certificates",
          "Client certificates the MTA verified (" +
              count_of(s.total.certificate_decisions, "decision") + ", " +
              group_digits(s.total.distinct_certificates) + " distinct)",
          {"source", "subject", "issuer", "decisions"},
          "lll",
          {}};
  for (const SourceSummary* src : with_total(s)) {
    for (const auto& c : src->certificates) {
      t.rows.push_back({src->name, c.subject, c.issuer, group_digits(c.count)});
    }
  }
  return t;
}

}  // namespace

std::string headline(const Summary& s) {
  std::string text = count_of(s.rows, "row") + " in " + count_of(s.files.size(), "file") + ", " +
                     group_digits(s.bad_rows) + " bad, " + group_digits(s.filtered_rows) +
                     " outside the selection";
  if (s.first) text += "; " + *s.first + " to " + *s.last;
  return text;
}

std::string selection_line(const Summary& s) {
  std::string text;
  if (s.since) text += " since " + *s.since;
  if (s.until) text += " until " + *s.until;
  for (const auto& name : s.source_filter) text += " source " + name;
  return text.empty() ? text : "selection:" + text;
}

std::vector<Table> report_tables(const Summary& s) {
  std::vector<Table> tables = {
      decisions(s),
      reasons("reasons", "Refusals and would-rejects by reason", "source", with_total(s)),
      versions("tls-versions", "Accepted messages by TLS version (none: plaintext)", "source",
               with_total(s), s.total.accepted_by_tls_version),
      bits(s),
      days(s),
      top_refused(s),
      plaintext_networks(s),
      exposures(s),
      certificates(s)};
  if (!s.partners.empty()) {
    tables.push_back(partner_decisions(s));
    tables.push_back(reasons("partner-reasons", "Refusals and would-rejects by reason, per partner",
                             "partner", each(s.partners)));
    tables.push_back(versions("partner-tls-versions",
                              "Accepted messages by TLS version, per partner (none: plaintext)",
                              "partner", each(s.partners), partner_version_order(s)));
  }
  if (!s.sender_domains.empty()) tables.push_back(sender_domains(s));
  return tables;
}

std::vector<std::string> what_if_lines(const WhatIfSummary& w) {
  std::vector<std::string> lines = {
      "What if " + w.config + " were in force, every source" +
          (w.partners.empty() ? "" : " and partner") +
          " enforcing: " + count_of(w.sessions, "decision") + " replayed",
      "newly refused (accepted today, refused by it): " + group_digits(w.newly_refused),
      "newly passed (refused or would-reject today, accepted by it): " +
          group_digits(w.newly_passed),
      "clients whose source changes: " + group_digits(w.moved)};
  if (!w.unreplayed_partners.empty()) {
    std::string names;
    for (const auto& name : w.unreplayed_partners) names += (names.empty() ? "" : ", ") + name;
    lines.push_back(
        "partners keyed on recipient domains, not replayed (the accounting file does "
        "not hold recipients; their refusals today stand): " +
        names);
  }
  return lines;
}

std::vector<Table> what_if_tables(const WhatIfSummary& w, std::size_t top) {
  Table sources{"what-if-sources",
                "Per source of the candidate",
                {"source (candidate)", "newly refused", "newly passed", "reasons"},
                "lrrl",
                {}};
  for (const auto& src : w.sources) {
    sources.rows.push_back({src.name, group_digits(src.newly_refused),
                            group_digits(src.newly_passed), joined(src.reasons)});
  }
  Table clients{"what-if-clients",
                "Top " + std::to_string(top) + " newly refused clients per source",
                {"source (candidate)", "client", "newly refused", "reasons"},
                "llrl",
                {}};
  for (const auto& src : w.sources) {
    for (const auto& c : src.top) {
      clients.rows.push_back({src.name, c.client, group_digits(c.count), joined(c.reasons)});
    }
  }
  Table moves{"what-if-moves",
              "Clients whose source changes",
              {"from (logged)", "to (candidate)", "clients"},
              "ll",
              {}};
  for (const auto& m : w.moves) moves.rows.push_back({m.from, m.to, group_digits(m.clients)});
  if (w.partners.empty()) return {sources, clients, moves};
  Table partners{"what-if-partners",
                 "Per partner of the candidate (by sender domain; its refusals also count under "
                 "the client's source)",
                 {"partner (candidate)", "newly refused", "reasons"},
                 "lrl",
                 {}};
  Table partner_clients{"what-if-partner-clients",
                        "Top " + std::to_string(top) + " newly refused clients per partner",
                        {"partner (candidate)", "client", "newly refused", "reasons"},
                        "llrl",
                        {}};
  for (const auto& p : w.partners) {
    partners.rows.push_back({p.name, group_digits(p.newly_refused), joined(p.reasons)});
    for (const auto& c : p.top) {
      partner_clients.rows.push_back({p.name, c.client, group_digits(c.count), joined(c.reasons)});
    }
  }
  return {sources, clients, moves, partners, partner_clients};
}

}  // namespace tlsgate::report
