// The policy in force, swapped atomically on reload; each session keeps the
// snapshot it started with.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "engine/accounting.h"
#include "engine/cipher_child.h"
#include "engine/log_format.h"
#include "engine/logger.h"
#include "engine/system_check.h"
#include "policy/loader.h"
#include "policy/policy.h"

namespace tlsgate::engine {

// How the daemon loads, at start and on reload: cipher strings are expanded in a
// child process (engine/cipher_child.h); user, group and socket are checked against
// this system, as `tlsgate -n` checks them (engine/system_check.h).
inline policy::LoadOptions daemon_load_options() {
  return {.expand_ciphers = expand_in_child, .check_setting = check_setting_here};
}

class PolicyStore {
 public:
  PolicyStore(std::string config_path, bool foreground)
      : config_path_(std::move(config_path)), foreground_(foreground) {}

  std::shared_ptr<const policy::Policy> current() const { return current_.load(); }
  Accounting& accounting() { return accounting_; }
  // Where every front end's decisions go: one syslog line and one accounting row.
  void log_decision(Severity severity, const LogRecord& record) {
    log(severity, format_log_line(record));
    accounting_.write(record);
  }

  // Builds a new policy from the file, fully, then swaps it in. On errors the
  // running policy stays and every error is logged. Also reopens the
  // accounting file (logrotate). Returns whether the new policy is in force.
  bool reload();
  // The first load at start-up: errors go to stderr too.
  bool install(std::shared_ptr<const policy::Policy> policy, std::string& error);

  const std::string& config_path() const { return config_path_; }

 private:
  std::string config_path_;
  bool foreground_;
  std::atomic<std::shared_ptr<const policy::Policy>> current_;
  Accounting accounting_{[](const std::string& problem) { log(Severity::error, problem); }};
};

}  // namespace tlsgate::engine
