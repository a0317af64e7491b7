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

Table reasons(const Summary& s) {
  Table t{
      "reasons", "Refusals and would-rejects by reason", {"source", "reason", "count"}, "ll", {}};
  for (const SourceSummary* src : with_total(s)) {
    for (const auto& r : src->reasons) t.rows.push_back({src->name, r.name, group_digits(r.count)});
  }
  return t;
}

Table versions(const Summary& s) {
  Table t{
      "tls-versions", "Accepted messages by TLS version (none: plaintext)", {"source"}, "l", {}};
  std::vector<std::string> names;  // every version seen, in the total's order
  for (const auto& v : s.total.accepted_by_tls_version) names.push_back(v.name);
  t.header.insert(t.header.end(), names.begin(), names.end());
  t.header.push_back("accepted");
  for (const SourceSummary* src : with_total(s)) {
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
  return {decisions(s),          reasons(s),   versions(s),    bits(s), days(s), top_refused(s),
          plaintext_networks(s), exposures(s), certificates(s)};
}

std::vector<std::string> what_if_lines(const WhatIfSummary& w) {
  return {"What if " + w.config + " were in force, every source enforcing: " +
              count_of(w.sessions, "decision") + " replayed",
          "newly refused (accepted today, refused by it): " + group_digits(w.newly_refused),
          "newly passed (refused or would-reject today, accepted by it): " +
              group_digits(w.newly_passed),
          "clients whose source changes: " + group_digits(w.moved)};
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
  return {sources, clients, moves};
}

}  // namespace tlsgate::report
