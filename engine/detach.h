// Detaching (no -f) without losing why a start fails: the parent stays until the
// daemon listens and is ready, or has failed, and exits with that status, the
// reason on its stderr. Plain fork(2) and a pipe from the child to the parent.
#pragma once

#include <string>
#include <variant>

#include "engine/unique_fd.h"

namespace tlsgate::engine {

class Detached {
 public:
  // Forks. The parent never returns: it waits for the child's report and exits 0
  // once the child is ready, else 1 with the child's reason (or how it ended) on
  // stderr. The child returns, in a session of its own, in /, with its standard
  // input and output on /dev/null. An error only if the pipe or the fork fails.
  static std::variant<Detached, std::string> start();

  // The child: the daemon is ready; the parent exits 0.
  void ready();
  // The child: it will not start, because of `reason`; the parent prints it and exits 1.
  void failed(const std::string& reason);

 private:
  explicit Detached(UniqueFd report) : report_(std::move(report)) {}
  void send(char status, const std::string& text);

  UniqueFd report_;  // the write end of the pipe to the parent; closed once reported
};

}  // namespace tlsgate::engine
