#include "milter/daemon.h"

#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>
#include <variant>

#include "engine/detach.h"
#include "engine/live_sessions.h"
#include "engine/logger.h"
#include "engine/metrics_file.h"
#include "engine/notify.h"
#include "engine/pid_file.h"
#include "engine/policy_server.h"
#include "engine/policy_store.h"
#include "engine/unix_socket.h"
#include "milter/callbacks.h"
#include "milter/listener.h"
#include "policy/loader.h"
#include "policy/socket_spec.h"

namespace tlsgate::milter {
// The libmilter-free engine this glue drives.
using namespace engine;
namespace {

constexpr int kOk = 0;
constexpr int kError = 1;

// How long a stop waits for the sessions in flight, and how often it looks.
constexpr std::chrono::milliseconds kStopTimeout{10'000};
constexpr std::chrono::milliseconds kStopPoll{50};

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
            notify::send(notify::reloading(notify::monotonic_usec()));
            const bool taken = store.reload();
            notify::send(notify::reloaded(taken, store.current()->summary()));
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

// Everything a start made that a failed start must not leave behind, and where its
// reason goes: stderr and syslog, and once detached, the parent (engine/detach.h).
class Start {
 public:
  int fail(const std::string& message) {
    std::cerr << "tlsgate: " << message << "\n";
    log(Severity::error, message);
    if (pid_file) pid_file->remove();  // before the report: the parent exits on it
    if (detached) detached->failed(message);
    notify::send(notify::failed(message, 0));  // systemctl status shows the reason
    return kError;
  }

  std::optional<PidFile> pid_file;
  std::optional<Detached> detached;
};

// The signals that stop tlsgate, and the one the libmilter thread sends the main
// thread when smfi_main returns by itself.
constexpr std::array kStopSignals{SIGTERM, SIGINT, SIGHUP};
constexpr int kMilterReturned = SIGUSR2;

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : kStopSignals) sigaddset(&set, sig);
  sigaddset(&set, kMilterReturned);
  return set;
}

// Waits in sigtimedwait rather than sleeping: the main thread waiting for a stop
// signal is the thread Linux hands a signal sent to the process (kill PID) to, so
// a second SIGTERM lands here (and is ignored) instead of in libmilter's thread.
void pause_for_signals(std::chrono::milliseconds interval) {
  const sigset_t set = stop_set();
  const timespec ts{0, static_cast<long>(interval.count()) * 1'000'000L};
  sigtimedwait(&set, nullptr, &ts);
}

// Stopping: no new connections, then the sessions in flight (counted from connect
// to close, engine/live_sessions.h) get up to kStopTimeout to end. A connection
// libmilter accepted that has not reached connect yet is not waited for.
void finish_sessions(Listener& listener) {
  notify::send(notify::stopping());
  listener.stop_accepting();
  const std::size_t open = live_sessions().count();
  if (open == 0) {
    log(Severity::notice, "stopped");
    return;
  }
  const auto seconds = std::to_string(kStopTimeout.count() / 1000) + " s";
  log(Severity::notice, "stopping: waiting for " + std::to_string(open) + " session" +
                            (open == 1 ? "" : "s") + " in flight (up to " + seconds + ")");
  const std::size_t cut =
      live_sessions().wait_until_none(kStopTimeout, kStopPoll, pause_for_signals);
  if (cut == 0) {
    log(Severity::notice, "stopped");
  } else {
    log(Severity::warning, "stopped: " + std::to_string(cut) + " session" + (cut == 1 ? "" : "s") +
                               " cut short after " + seconds);
  }
}

// Runs libmilter until a stop signal or its own end; returns the exit code.
//
// libmilter's own signal thread (started in smfi_main) also waits for SIGTERM,
// SIGINT and SIGHUP. Given one, it sets its stop flag: MILTER_STOP for SIGTERM and
// SIGHUP alike (SIGHUP is no reload in libmilter, just a stop), MILTER_ABRT for
// SIGINT. Its listener sees the flag only when its select() on the listening socket
// returns, which it re-arms every MI_CHK_TIME = 5 s: hence a stop that took up to
// 5 s. And Debian's libmilter runs sessions in a pool of workers that, once the flag
// is set, serve no further command: a session in flight would never get its answer.
// So this thread, the process's main thread, waits for those signals itself (Linux
// gives a signal sent to the process to the main thread first when it waits for it)
// and stops without telling libmilter: it closes the listening socket under
// libmilter's feet, waits for the sessions, and exits.
int serve(Listener* listener, PolicyServer* policy_service) {
  if (listener == nullptr) {  // the policy service alone: it only has to be stopped
    const sigset_t set = stop_set();
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    notify::send(notify::stopping());
    policy_service->stop();
    log(Severity::notice, "stopped");
    return kOk;
  }
  const pthread_t main_thread = pthread_self();
  std::atomic<int> milter_result{kOk};
  std::thread milter([&] {
    milter_result = smfi_main() == MI_SUCCESS ? kOk : kError;
    pthread_kill(main_thread, kMilterReturned);
  });
  milter.detach();  // never joined: the process ends with _Exit
  const sigset_t set = stop_set();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  if (sig != kMilterReturned) {
    // The policy service's requests are answered at once: no new connections, and
    // the rest closes with the process.
    if (policy_service != nullptr) policy_service->stop_accepting();
    finish_sessions(*listener);
    return kOk;
  }
  // libmilter ended by itself (an error, or it got the signal after all).
  log(Severity::notice, milter_result == kOk ? "stopped" : "stopped after a libmilter error");
  return milter_result;
}

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
  for (const int sig : {SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&blocked, sig);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);

  Start start;
  // The pid file first: a second instance sharing it stops here, before it touches
  // the socket; its directory, made if missing, may also hold a unix socket.
  if (!settings.pid_file.empty()) {
    auto locked = PidFile::lock(settings.pid_file);
    if (auto* problem = std::get_if<std::string>(&locked)) return start.fail(*problem);
    start.pid_file.emplace(std::get<PidFile>(std::move(locked)));
  }

  PolicyStore store(options.config_path, options.foreground);
  const bool milter_on = socket != policy::kNoSocket;
  std::optional<Listener> listener;
  if (milter_on) {
    if (smfi_setconn(const_cast<char*>(socket.c_str())) != MI_SUCCESS) {
      return start.fail("bad socket " + socket);
    }
    const smfiDesc filter = make_filter(store);
    if (smfi_register(filter) != MI_SUCCESS) return start.fail("smfi_register failed");
    const std::string path = unix_path(socket);
    if (!path.empty()) {
      if (auto problem = claim_unix_socket(path)) {
        return start.fail("cannot listen on " + socket + ": " + *problem);
      }
    }
    // libmilter would fail silently later in smfi_main: open the socket now and say
    // why. Not `true` (libmilter would unlink whatever is at a unix path): a stale
    // socket is gone already, a live one refused above.
    errno = 0;
    if (smfi_opensocket(false) != MI_SUCCESS) {
      return start.fail("cannot listen on " + socket + ": " +
                        (errno != 0 ? std::string(strerror(errno)) : std::string("bind failed")) +
                        " (is another process using it?)");
    }
    if (!path.empty()) {
      if (auto err = prepare_unix_socket(path, settings)) return start.fail(*err);
    }
    // libmilter's listening socket, found while it is the process's only one.
    auto found = Listener::find();
    if (auto* problem = std::get_if<std::string>(&found)) return start.fail(*problem);
    listener.emplace(std::get<Listener>(std::move(found)));
  }
  // The policy service (Postfix's check_policy_service), beside the milter or alone.
  std::unique_ptr<PolicyServer> policy_service;
  const std::string& policy_socket = settings.policy_socket;
  if (!policy_socket.empty() && policy_socket != policy::kNoSocket) {
    const auto spec = policy::parse_socket_spec(policy_socket);
    if (const auto* problem = std::get_if<std::string>(&spec)) {
      return start.fail("bad policy_socket " + policy_socket + ": " + *problem);
    }
    policy_service = std::make_unique<PolicyServer>(
        [&store] { return store.current(); },
        [&store](Severity severity, const LogRecord& r) { store.log_decision(severity, r); },
        [](const std::string& problem) { log(Severity::error, problem); });
    if (auto problem = policy_service->listen(std::get<policy::SocketSpec>(spec),
                                              settings.socket_mode, settings.group)) {
      return start.fail("cannot listen on " + policy_socket + ": " + *problem +
                        " (is another process using it?)");
    }
  }
  if (!options.foreground) {
    auto detached = Detached::start();  // the parent exits in there, once we report
    if (auto* problem = std::get_if<std::string>(&detached)) return start.fail(*problem);
    start.detached.emplace(std::get<Detached>(std::move(detached)));
  }
  if (start.pid_file) {
    if (auto problem = start.pid_file->write(getpid())) return start.fail(*problem);
  }
  if (auto err = drop_privileges(settings)) return start.fail(*err);

  std::string error;
  const auto& p = *loaded.policy;
  const std::string summary = p.summary();
  if (!store.install(loaded.policy, error)) return start.fail(error);

  if (policy_service) policy_service->start();

  ReloadThread reloader(store);
  // After the privileges are dropped: the file belongs to [milter] user.
  PeriodicMetricsFile metrics_file(
      [&store] {
        const auto& m = store.current()->milter();
        return PeriodicMetricsFile::Settings{m.metrics_file,
                                             std::chrono::seconds(m.metrics_interval)};
      },
      [](const std::string& problem) { log(Severity::error, problem); });
  std::string where;
  if (milter_on) where = socket + (policy_service ? " (milter)" : "");
  if (policy_service) where += (where.empty() ? "" : " and ") + policy_socket + " (policy service)";
  log(Severity::notice,
      "started: listening on " + where + ", " + options.config_path + ": " + summary);
  if (start.detached) start.detached->ready();
  notify::send(notify::ready(where, summary));
  const int result = serve(listener ? &*listener : nullptr, policy_service.get());
  if (start.pid_file) start.pid_file->remove();
  // libmilter's threads are still there, one perhaps in a callback using `store`
  // (a session cut short; ThreadSanitizer saw Accounting::write race with
  // ~PolicyStore at SIGTERM). So exit here, before any destructor runs; every
  // accounting row is already flushed and syslog needs no closing.
  std::fflush(nullptr);
  std::_Exit(result);
}

}  // namespace tlsgate::milter
