#include "milter/daemon.h"

#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "milter/callbacks.h"
#include "milter/logger.h"
#include "milter/policy_store.h"
#include "policy/loader.h"

namespace tlsgate::milter {
namespace {

constexpr int kOk = 0;
constexpr int kError = 1;

int fail(const std::string& message) {
  std::cerr << "tlsgate: " << message << "\n";
  log(Severity::error, message);
  return kError;
}

std::string unix_path(const std::string& spec) {
  for (const char* prefix : {"unix:", "local:"}) {
    if (spec.starts_with(prefix)) return spec.substr(std::strlen(prefix));
  }
  return {};
}

// Drops to [milter] user/group; a group alone changes only the group.
std::optional<std::string> drop_privileges(const policy::MilterSettings& m) {
  gid_t gid = getgid();
  if (!m.group.empty()) {
    const group* g = getgrnam(m.group.c_str());
    if (g == nullptr) return "unknown group " + m.group;
    gid = g->gr_gid;
  }
  if (m.user.empty()) {
    if (!m.group.empty() && setgid(gid) != 0) return "setgid: " + std::string(strerror(errno));
    return std::nullopt;
  }
  const passwd* pw = getpwnam(m.user.c_str());
  if (pw == nullptr) return "unknown user " + m.user;
  if (m.group.empty()) gid = pw->pw_gid;
  if (initgroups(m.user.c_str(), gid) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
    return "cannot become " + m.user + ": " + std::string(strerror(errno));
  }
  return std::nullopt;
}

std::optional<std::string> prepare_unix_socket(const std::string& path,
                                               const policy::MilterSettings& m) {
  if (chmod(path.c_str(), m.socket_mode) != 0) {
    return "chmod " + path + ": " + std::string(strerror(errno));
  }
  if (!m.group.empty()) {
    // The MTA reaches the socket through its group (e.g. postfix).
    const group* g = getgrnam(m.group.c_str());
    if (g == nullptr) return "unknown group " + m.group;
    if (chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
      return "chown " + path + ": " + std::string(strerror(errno));
    }
  }
  return std::nullopt;
}

// SIGUSR1 reloads. It is taken by this thread with sigwait; every thread has it
// blocked (and libmilter's SIGHUP/SIGTERM/SIGINT), or its default action would
// kill the process.
class ReloadThread {
 public:
  explicit ReloadThread(PolicyStore& store)
      : thread_([this, &store] {
          sigset_t set;
          sigemptyset(&set);
          sigaddset(&set, SIGUSR1);
          for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) continue;
            if (stopping_) return;
            store.reload();
          }
        }) {}
  ~ReloadThread() {
    stopping_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace

int run_daemon(const DaemonOptions& given) {
  // Absolute, so that a reload after detaching (chdir /) reads the same file, and the
  // paths relative to its directory (pid_file, accounting_file, networks_file) stay put.
  DaemonOptions options = given;
  std::error_code ec;
  if (const auto absolute = std::filesystem::absolute(given.config_path, ec); !ec) {
    options.config_path = absolute.lexically_normal().string();
  }
  auto loaded = policy::load_policy(options.config_path, daemon_load_options());
  if (!loaded.policy) {
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    std::cerr << "tlsgate: " << loaded.errors.size()
              << (loaded.errors.size() == 1 ? " error" : " errors") << "; not started\n";
    return kError;
  }
  const policy::MilterSettings settings = loaded.policy->milter();
  open_log(settings.syslog_ident, settings.syslog_facility, options.foreground);
  const std::string socket = options.socket.value_or(settings.socket);

  // Before any thread exists, so that every thread inherits the mask.
  sigset_t blocked;
  sigemptyset(&blocked);
  for (const int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1}) sigaddset(&blocked, sig);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

  PolicyStore store(options.config_path, options.foreground);
  if (smfi_setconn(const_cast<char*>(socket.c_str())) != MI_SUCCESS) {
    return fail("bad socket " + socket);
  }
  const smfiDesc filter = make_filter(store);
  if (smfi_register(filter) != MI_SUCCESS) return fail("smfi_register failed");
  // libmilter would fail silently later in smfi_main: open the socket now and say why.
  errno = 0;
  if (smfi_opensocket(true) != MI_SUCCESS) {
    return fail("cannot listen on " + socket + ": " +
                (errno != 0 ? std::string(strerror(errno)) : std::string("bind failed")) +
                " (is another process using it?)");
  }
  if (const std::string path = unix_path(socket); !path.empty()) {
    if (auto err = prepare_unix_socket(path, settings)) return fail(*err);
  }
  if (!options.foreground && daemon(0, 0) != 0) {
    return fail("cannot detach: " + std::string(strerror(errno)));
  }
  if (!settings.pid_file.empty()) {
    std::ofstream pid(settings.pid_file, std::ios::trunc);
    pid << getpid() << "\n";
    if (!pid) return fail("cannot write pid_file " + settings.pid_file);
  }
  if (auto err = drop_privileges(settings)) return fail(*err);

  std::string error;
  const auto& p = *loaded.policy;
  const std::string summary = std::to_string(p.source_count()) + " sources, " +
                              std::to_string(p.netblock_count()) + " netblocks";
  if (!store.install(loaded.policy, error)) return fail(error);

  int result = kOk;
  {
    ReloadThread reloader(store);
    log(Severity::notice,
        "started: listening on " + socket + ", " + options.config_path + ": " + summary +
            ", mode=" + (settings.mode == policy::Mode::monitor ? "monitor" : "enforce"));
    if (smfi_main() != MI_SUCCESS) result = kError;
  }
  log(Severity::notice, result == kOk ? "stopped" : "stopped after a libmilter error");
  if (!settings.pid_file.empty()) unlink(settings.pid_file.c_str());
  // smfi_main returns without joining libmilter's worker threads: one may still be
  // in a callback using `store` (ThreadSanitizer saw Accounting::write race with
  // ~PolicyStore at SIGTERM). So exit here, before any destructor runs; every
  // accounting row is already flushed and syslog needs no closing.
  std::fflush(nullptr);
  std::_Exit(result);
}

}  // namespace tlsgate::milter
