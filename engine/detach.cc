#include "engine/detach.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tlsgate::engine {
namespace {

// The report: one status byte, then for a failure the reason.
constexpr char kReady = '+';
constexpr char kFailed = '-';

std::string how_it_ended(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return "the daemon ended during start-up";
  }
  if (WIFSIGNALED(status)) {
    return "the daemon was killed by signal " + std::to_string(WTERMSIG(status)) +
           " during start-up";
  }
  return "the daemon exited with status " + std::to_string(WEXITSTATUS(status)) +
         " during start-up";
}

[[noreturn]] void wait_for_report(pid_t child, const UniqueFd& from_child) {
  std::string report;
  char buf[512];
  for (;;) {
    const ssize_t n = read(from_child.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buf, static_cast<std::size_t>(n));
  }
  if (!report.empty() && report.front() == kReady) _exit(0);
  // The child removed what it made before it reported (the pid file), and exits.
  const std::string reason = report.empty() ? how_it_ended(child) : report.substr(1);
  std::fprintf(stderr, "tlsgate: %s\n", reason.c_str());
  std::fflush(stderr);
  _exit(1);
}

void become_daemon() {
  setsid();
  if (chdir("/") != 0) {
    // "/" is always there; nothing better to do than carry on.
  }
  const UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null) {
    for (const int fd : {0, 1, 2}) dup2(null.get(), fd);
  }
  // A parent gone (killed) must not make the report kill the daemon.
  signal(SIGPIPE, SIG_IGN);
}

}  // namespace

std::variant<Detached, std::string> Detached::start() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return "cannot detach: pipe: " + std::string(std::strerror(errno));
  UniqueFd from_child(fds[0]);
  UniqueFd to_parent(fds[1]);
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = fork();
  if (pid < 0) return "cannot detach: fork: " + std::string(std::strerror(errno));
  if (pid > 0) {
    to_parent.reset();
    wait_for_report(pid, from_child);
  }
  from_child.reset();
  become_daemon();
  return Detached(std::move(to_parent));
}

void Detached::send(char status, const std::string& text) {
  if (!report_) return;
  const std::string message = status + text;
  const char* p = message.data();
  std::size_t left = message.size();
  while (left > 0) {
    const ssize_t n = write(report_.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  report_.reset();  // EOF: the parent reads no more
}

void Detached::ready() { send(kReady, {}); }

void Detached::failed(const std::string& reason) { send(kFailed, reason); }

}  // namespace tlsgate::engine
