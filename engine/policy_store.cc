#include "engine/policy_store.h"

#include <ctime>

#include "engine/logger.h"
#include "engine/metrics.h"
#include "policy/loader.h"

namespace tlsgate::engine {

bool PolicyStore::install(std::shared_ptr<const policy::Policy> policy, std::string& error) {
  const auto& m = policy->milter();
  open_log(m.syslog_ident, m.syslog_facility, foreground_);
  const bool accounting_ok = accounting_.open(m.accounting_file, error);
  metrics().policy_loaded(policy->source_names(), policy->netblock_count(), std::time(nullptr));
  current_.store(std::move(policy));
  return accounting_ok;
}

bool PolicyStore::reload() {
  auto loaded = policy::load_policy(config_path_, daemon_load_options());
  if (!loaded.policy) {
    for (const auto& e : loaded.errors) log(Severity::error, "config error: " + e.to_string());
    const auto n = loaded.errors.size();
    log(Severity::error, "reload failed: " + std::to_string(n) + (n == 1 ? " error" : " errors") +
                             " in " + config_path_ + "; the previous policy stays in force");
    // logrotate moved the file away and signalled: reopen it all the same, or
    // rows would go on into the rotated file until a reload succeeds.
    std::string error;
    if (const auto running = current();
        running && !accounting_.open(running->milter().accounting_file, error)) {
      log(Severity::error, error);
    }
    metrics().count_reload(false);
    return false;
  }
  const auto& p = *loaded.policy;
  std::string error;
  if (!install(loaded.policy, error)) log(Severity::error, error);
  log(Severity::notice, "reloaded " + config_path_ + ": " + p.summary());
  metrics().count_reload(true);
  return true;
}

}  // namespace tlsgate::engine
