// Accounting files for the report's tests, written with the daemon's own CSV code
// (engine/log_format.h), and a report over them.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "engine/log_format.h"
#include "report/aggregator.h"
#include "report/byte_source.h"
#include "report/feed.h"
#include "report/summary.h"

namespace tlsgate::report::testing {

struct TestRow {
  std::string time = "2026-11-20T10:00:00Z";
  std::string queue_id = "";
  std::string client = "192.0.2.1";
  std::string source = "default";
  std::string action = "accept";
  std::string reason = "";
  std::string tls = "TLSv1.3";
  std::string cipher = "TLS_AES_256_GCM_SHA384";
  std::string bits = "256";
  std::string subject = "";
  std::string issuer = "";
  std::string auth = "";
  std::string user = "";
  std::string exposed = "no";
  std::string transaction = "";
  std::string auth_before_tls = "no";
  std::string partner = "";
  std::string sender_domain = "";
};

inline const std::string kHeader = engine::csv_header();
inline const std::string kOldHeader =
    "time,queue_id,client,source,action,reason,tls_version,cipher,cipher_bits,cert_subject,"
    "cert_issuer,auth,auth_user,credentials_exposed\r\n";

// One row as tlsgate writes it; `old`: without the transaction, auth_before_tls,
// partner and sender_domain columns.
inline std::string csv_row(const TestRow& r, bool old = false) {
  std::string line = r.time;
  std::vector<std::string> values = {r.queue_id, r.client, r.source, r.action,  r.reason,
                                     r.tls,      r.cipher, r.bits,   r.subject, r.issuer,
                                     r.auth,     r.user,   r.exposed};
  if (!old) {
    values.push_back(r.transaction);
    values.push_back(r.auth_before_tls);
    values.push_back(r.partner);
    values.push_back(r.sender_domain);
  }
  for (const auto& v : values) line += "," + engine::csv_field(v);
  return line + "\r\n";
}

inline std::string csv(const std::vector<TestRow>& rows, bool old = false) {
  std::string text = old ? kOldHeader : kHeader;
  for (const auto& r : rows) text += csv_row(r, old);
  return text;
}

// A plaintext session that monitor mode let through: its would-reject, then its
// message's accept, one transaction.
inline std::vector<TestRow> monitored(TestRow r, const std::string& reason,
                                      const std::string& transaction) {
  r.tls = "none";
  r.cipher = r.bits = "";
  r.transaction = transaction;
  TestRow would = r;
  would.action = "would-reject";
  would.reason = reason;
  r.queue_id = "QID" + transaction;
  return {would, r};
}

struct Report {
  Summary summary;
  std::string errors;  // what went to standard error
};

inline Report report_of(const std::vector<std::string>& files, Selection selection = {},
                        Replay* replay = nullptr, std::size_t top = 10) {
  Aggregator aggregator(std::move(selection), replay);
  std::ostringstream errors;
  BadRowLog bad(errors);
  std::uint64_t rows = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto source = memory_source(files[i]);
    const auto why =
        feed_file("file" + std::to_string(i + 1), *source, aggregator, rows, bad, errors);
    if (why) errors << *why << "\n";
  }
  Report r{aggregator.summarize(top), errors.str()};
  r.summary.rows = rows;
  r.summary.bad_rows = bad.count();
  return r;
}

inline const SourceSummary& source(const Summary& s, const std::string& name) {
  for (const auto& src : s.sources) {
    if (src.name == name) return src;
  }
  throw std::runtime_error("no source " + name);
}

inline std::uint64_t count_of(const std::vector<NamedCount>& v, const std::string& name) {
  for (const auto& c : v) {
    if (c.name == name) return c.count;
  }
  return 0;
}

}  // namespace tlsgate::report::testing
