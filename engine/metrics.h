// The counters behind the Prometheus metrics (issue 13): the session counts its
// decisions, the policy store its reloads, the milter glue its internal errors; the
// daemon writes them out (engine/metrics_file.h). Labels come from bounded sets only:
// source and partner names from the configuration, actions, reasons, TLS versions,
// the stages' fixed names. Never a client address, a domain or a user name.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/decision.h"
#include "policy/tls.h"

namespace tlsgate::engine {

class Metrics {
 public:
  // One decision the session logged (one log line), by action and reason; an
  // accepted message also by its TLS version (nullopt: none). `partner` is the log
  // line's partner= value: the partner that refused, or those that applied to an
  // accept ("bank,legal"), empty when none.
  void count_decision(std::string_view source, std::string_view partner, const policy::Decision& d,
                      std::optional<policy::TlsVersion> tls);
  // A session in which a password crossed in clear (the session counts it once).
  void count_credentials_exposed(std::string_view source);
  void count_reload(bool ok);
  void count_internal_error(std::string_view stage);
  // A stage that may count internal errors: its series exists (at zero) from now on.
  void declare_stage(std::string_view stage);
  // The policy now in force: its sources get their series (at zero), the gauges
  // its counts and `when`. A source a later policy drops keeps its last values.
  void policy_loaded(const std::vector<std::string>& sources, std::size_t netblocks,
                     std::time_t when);

  // Every metric in the Prometheus text exposition format (0.0.4): each family's
  // HELP and TYPE lines once, then its samples.
  std::string exposition() const;

 private:
  // accept, TLSv1 ... TLSv1.3 by policy::TlsVersion's value; [0] is no TLS.
  static constexpr std::size_t kTlsLabels = 5;
  using TlsCounts = std::array<std::uint64_t, kTlsLabels>;
  struct SourceCounters {
    // By partner, then (action, reason) as policy::action_name and reason_name
    // spell them: static strings, so the views stay valid.
    using ByOutcome = std::map<std::pair<std::string_view, std::string_view>, std::uint64_t>;
    std::map<std::string, ByOutcome, std::less<>> decisions;
    std::map<std::string, TlsCounts, std::less<>> accepted;  // by partner
    std::uint64_t credentials_exposed = 0;
  };
  SourceCounters& source_locked(std::string_view name);

  // One lock for all: a count is a map lookup and an increment, next to a
  // syslog(3) call per decision.
  mutable std::mutex mutex_;
  std::map<std::string, SourceCounters, std::less<>> sources_;
  std::map<std::string, std::uint64_t, std::less<>> internal_errors_;
  std::uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
  std::uint64_t policy_sources_ = 0, policy_netblocks_ = 0;
  std::time_t policy_loaded_at_ = 0;
};

// The process's metrics.
Metrics& metrics();

// A label value as the exposition format writes it between double quotes:
// backslash, double quote and line feed escaped (\\, \", \n).
std::string escape_label_value(std::string_view value);

}  // namespace tlsgate::engine
