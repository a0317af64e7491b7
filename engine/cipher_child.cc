#include "engine/cipher_child.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tlsgate::engine {
namespace {

using policy::CipherSet;

// The child's answer on the pipe: one status byte ('+' expansion, '-' error), then
// the text.
constexpr char kExpansion = '+';
constexpr char kError = '-';

[[noreturn]] void run_child(int out, CipherSet::Family family, const std::string& spec) {
  const auto expanded = CipherSet::expand(family, spec);
  std::string answer;
  if (const auto* set = std::get_if<CipherSet>(&expanded)) {
    answer = kExpansion + set->expansion();
  } else {
    answer = kError + std::get<std::string>(expanded);
  }
  const char* p = answer.data();
  std::size_t left = answer.size();
  while (left > 0) {
    const ssize_t n = write(out, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(1);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  _exit(0);  // no atexit handlers, no destructors of the parent's objects
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exit status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

std::variant<CipherSet, std::string> expand_in_child(CipherSet::Family family,
                                                     const std::string& spec) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return std::string("cannot expand the cipher list: pipe: ") + std::strerror(errno);
  }
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return std::string("cannot expand the cipher list: fork: ") + std::strerror(err);
  }
  if (pid == 0) {
    close(fds[0]);
    run_child(fds[1], family, spec);
  }
  close(fds[1]);
  std::string answer;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!exited_ok || answer.empty()) {
    return "cannot expand the cipher list: its child process ended with " + describe(status);
  }
  if (answer.front() == kError) return answer.substr(1);
  if (auto set = CipherSet::from_expansion(std::string_view(answer).substr(1))) {
    return std::move(*set);
  }
  return "OpenSSL expands \"" + spec + "\" to no cipher";
}

}  // namespace tlsgate::engine
