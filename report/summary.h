// What a report says, computed once from the counts (aggregator.h) and written
// out by each format (text, JSON, HTML). Lists are in the order they are shown:
// largest first, ties by name.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tlsgate::report {

struct NamedCount {
  std::string name;
  std::uint64_t count = 0;
};

// Key-size buckets of accepted TLS messages, in this order.
inline constexpr std::array<const char*, 5> kBitBuckets = {"<112", "112-127", "128-255", "256+",
                                                           "unknown"};

struct ClientCount {  // a client and its refusals (or newly refused sessions), by reason
  std::string client;
  std::uint64_t count = 0;
  std::vector<NamedCount> reasons;
};

struct NetworkGroup {  // plaintext-only clients of one /24 (IPv4) or /48 (IPv6)
  std::string network;
  std::uint64_t clients = 0;
  std::uint64_t decisions = 0;
};

struct Certificate {
  std::string subject;
  std::string issuer;
  std::uint64_t count = 0;
};

struct DayShare {
  std::string date;
  std::uint64_t accepted = 0;  // messages accepted that day
  std::uint64_t tls = 0;       // of them over TLS
};

struct SourceSummary {
  std::string name;
  std::uint64_t decisions = 0;
  std::uint64_t accept = 0;
  std::uint64_t reject = 0;
  std::uint64_t tempfail = 0;
  std::uint64_t would_reject = 0;
  std::vector<NamedCount> reasons;
  // Accepted messages (accept rows, monitor mode's included) by tls_version: the
  // known versions newest first, then "none", then what else the MTA sent.
  std::vector<NamedCount> accepted_by_tls_version;
  std::uint64_t accepted = 0;
  std::uint64_t accepted_tls = 0;
  std::array<std::uint64_t, kBitBuckets.size()> cipher_bits{};
  std::uint64_t certificate_decisions = 0;  // decisions with a verified client certificate
  std::uint64_t distinct_certificates = 0;
  std::vector<Certificate> certificates;  // the top N
  std::uint64_t clients = 0;
  std::uint64_t plaintext_only_clients = 0;
  std::uint64_t credentials_exposed = 0;  // decisions
  std::uint64_t credentials_exposed_users = 0;
  std::vector<NamedCount> exposed_users;              // the top N
  std::vector<ClientCount> top_refused;               // by refusals + would-rejects
  std::uint64_t plaintext_networks = 0;               // how many groups
  std::vector<NetworkGroup> plaintext_only_networks;  // the top N
  std::vector<DayShare> days;                         // oldest first

  std::optional<double> tls_share() const {
    if (accepted == 0) return std::nullopt;
    return static_cast<double>(accepted_tls) / static_cast<double>(accepted);
  }
};

// Accepted messages from one envelope sender domain (the sender_domain column):
// how ready it is for a partner rule.
struct SenderDomainSummary {
  std::string name;            // a domain, "<>" (the null sender), "(none)" or "(unparsable)"
  std::uint64_t messages = 0;  // accepted
  std::uint64_t tls = 0;       // of them over TLS
  std::vector<NamedCount> accepted_by_tls_version;  // as a source's
  std::uint64_t networks = 0;  // distinct client networks: /24 (IPv4), /48 (IPv6)

  std::optional<double> tls_share() const {
    if (messages == 0) return std::nullopt;
    return static_cast<double>(tls) / static_cast<double>(messages);
  }
};

struct WhatIfSource {  // a source of the candidate configuration
  std::string name;
  std::uint64_t newly_refused = 0;
  std::uint64_t newly_passed = 0;
  std::vector<NamedCount> reasons;  // of the newly refused
  std::vector<ClientCount> top;     // clients newly refused, the top N
};

struct Move {
  std::string from;  // the source logged
  std::string to;    // the candidate's source
  std::uint64_t clients = 0;
};

struct WhatIfSummary {
  std::string config;
  std::uint64_t sessions = 0;  // decisions replayed
  std::uint64_t newly_refused = 0;
  std::uint64_t newly_passed = 0;
  std::uint64_t moved = 0;  // distinct clients
  std::vector<WhatIfSource> sources;
  WhatIfSource total;
  std::vector<Move> moves;
  // The candidate's partners keyed on sender domains only (those a row can be
  // replayed against): what each refuses, the newly_passed left at 0 (a pass is no
  // partner's). Partners with recipient_domains are not replayed: the accounting
  // file does not hold a message's recipients; `unreplayed_partners` names them.
  std::vector<WhatIfSource> partners;
  std::vector<std::string> unreplayed_partners;
};

struct Summary {
  std::vector<std::string> files;
  std::uint64_t rows = 0;                  // data rows read (headers excluded)
  std::uint64_t bad_rows = 0;              // of them skipped as unreadable
  std::uint64_t filtered_rows = 0;         // of them outside --since/--until/--source
  std::optional<std::string> first, last;  // the earliest and latest time counted
  std::optional<std::string> since, until;
  std::vector<std::string> source_filter;
  std::size_t top = 10;
  std::vector<SourceSummary> sources;  // most decisions first
  SourceSummary total;
  // Rows naming a [partner NAME] (the partner column), per partner, most decisions
  // first; of a SourceSummary only the decisions, actions, reasons, accepted
  // messages by TLS version and clients are set.
  std::vector<SourceSummary> partners;
  std::vector<SenderDomainSummary> sender_domains;  // the top N by messages
  std::uint64_t sender_domain_count = 0;            // distinct, all of them
  std::optional<WhatIfSummary> what_if;
};

}  // namespace tlsgate::report
