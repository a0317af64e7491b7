#include "engine/metrics.h"

#include "engine/version.h"

namespace tlsgate::engine {
namespace {

constexpr std::array<std::string_view, 5> kTlsLabel{"none", "TLSv1", "TLSv1.1", "TLSv1.2",
                                                    "TLSv1.3"};

// The entry of a map keyed by std::string for `key`, value-initialised the first time:
// a lookup by string_view that copies the key only when it is new.
template <class Map>
typename Map::mapped_type& entry(Map& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), typename Map::mapped_type{}).first;
  return it->second;
}

std::size_t tls_index(std::optional<policy::TlsVersion> tls) {
  return tls ? static_cast<std::size_t>(*tls) : 0;  // TlsVersion counts from 1
}

// Appends the HELP and TYPE lines of a family.
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// Appends one sample: NAME{k="v",...} VALUE.
void sample(std::string& out, std::string_view name,
            std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
            long long value) {
  out.append(name);
  if (labels.size() != 0) {
    out.append("{");
    bool first = true;
    for (const auto& [key, text] : labels) {
      if (!first) out.append(",");
      first = false;
      out.append(key).append("=\"").append(escape_label_value(text)).append("\"");
    }
    out.append("}");
  }
  out.append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

Metrics& metrics() {
  static Metrics instance;
  return instance;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

Metrics::SourceCounters& Metrics::source_locked(std::string_view name) {
  return entry(sources_, name);
}

void Metrics::count_decision(std::string_view source, std::string_view partner,
                             const policy::Decision& d, std::optional<policy::TlsVersion> tls) {
  const std::string_view action = policy::action_name(d);
  const std::string_view reason = d.refused() ? policy::reason_name(d.reason) : "";
  const std::lock_guard lock(mutex_);
  SourceCounters& s = source_locked(source);
  ++entry(s.decisions, partner)[{action, reason}];
  if (d.verdict == policy::Verdict::accept && !d.would_reject) {
    ++entry(s.accepted, partner)[tls_index(tls)];
  }
}

void Metrics::count_credentials_exposed(std::string_view source) {
  const std::lock_guard lock(mutex_);
  ++source_locked(source).credentials_exposed;
}

void Metrics::count_reload(bool ok) {
  const std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

void Metrics::count_internal_error(std::string_view stage) {
  const std::lock_guard lock(mutex_);
  ++entry(internal_errors_, stage);
}

void Metrics::declare_stage(std::string_view stage) {
  const std::lock_guard lock(mutex_);
  entry(internal_errors_, stage);
}

void Metrics::policy_loaded(const std::vector<std::string>& sources, std::size_t netblocks,
                            std::time_t when) {
  const std::lock_guard lock(mutex_);
  for (const std::string& name : sources) {
    // The accept series exist from the start, so that rate() sees the first one.
    SourceCounters& s = source_locked(name);
    s.decisions[""].try_emplace({policy::action_name({}), ""}, 0);
    s.accepted.try_emplace("");
  }
  policy_sources_ = sources.size();
  policy_netblocks_ = netblocks;
  policy_loaded_at_ = when;
}

std::string Metrics::exposition() const {
  const std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(256 + sources_.size() * 1024);
  family(out, "tlsgate_decisions_total", "counter",
         "Decisions logged (one a log line), by source, partner, action and reason.");
  for (const auto& [name, s] : sources_) {
    for (const auto& [partner, by_outcome] : s.decisions) {
      for (const auto& [outcome, n] : by_outcome) {
        sample(out, "tlsgate_decisions_total",
               {{"source", name},
                {"partner", partner},
                {"action", outcome.first},
                {"reason", outcome.second}},
               static_cast<long long>(n));
      }
    }
  }
  family(out, "tlsgate_accepted_messages_total", "counter",
         "Messages accepted, by source, partner and TLS version (none: no TLS).");
  for (const auto& [name, s] : sources_) {
    for (const auto& [partner, counts] : s.accepted) {
      for (std::size_t i = 0; i < kTlsLabels; ++i) {
        sample(out, "tlsgate_accepted_messages_total",
               {{"source", name}, {"partner", partner}, {"tls_version", kTlsLabel[i]}},
               static_cast<long long>(counts[i]));
      }
    }
  }
  family(out, "tlsgate_credentials_exposed_total", "counter",
         "Sessions in which a password or bearer token crossed the network unencrypted.");
  for (const auto& [name, s] : sources_) {
    sample(out, "tlsgate_credentials_exposed_total", {{"source", name}},
           static_cast<long long>(s.credentials_exposed));
  }
  family(out, "tlsgate_reloads_total", "counter",
         "Reloads (SIGUSR1) by result: ok, or failed (the previous policy stayed).");
  sample(out, "tlsgate_reloads_total", {{"result", "ok"}}, static_cast<long long>(reloads_ok_));
  sample(out, "tlsgate_reloads_total", {{"result", "failed"}},
         static_cast<long long>(reloads_failed_));
  family(out, "tlsgate_internal_errors_total", "counter",
         "Internal errors (each answered with a tempfail), by stage.");
  for (const auto& [stage, n] : internal_errors_) {
    sample(out, "tlsgate_internal_errors_total", {{"stage", stage}}, static_cast<long long>(n));
  }
  family(out, "tlsgate_policy_sources", "gauge", "Sources in the policy in force.");
  sample(out, "tlsgate_policy_sources", {}, static_cast<long long>(policy_sources_));
  family(out, "tlsgate_policy_netblocks", "gauge", "Netblocks in the policy in force.");
  sample(out, "tlsgate_policy_netblocks", {}, static_cast<long long>(policy_netblocks_));
  family(out, "tlsgate_policy_loaded_timestamp_seconds", "gauge",
         "When the policy in force was loaded, in seconds since the Unix epoch.");
  sample(out, "tlsgate_policy_loaded_timestamp_seconds", {},
         static_cast<long long>(policy_loaded_at_));
  family(out, "tlsgate_build_info", "gauge", "The running tlsgate's version (always 1).");
  sample(out, "tlsgate_build_info", {{"version", kVersion}}, 1);
  return out;
}

}  // namespace tlsgate::engine
