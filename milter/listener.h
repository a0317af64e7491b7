// libmilter's listening socket, so that a stop can refuse new connections without
// telling libmilter. Told to stop (smfi_stop, or the SIGTERM its own signal thread
// takes), Debian's libmilter, built with its pool of workers, also stops serving
// the sessions in flight: their next command is never answered.
#pragma once

#include <string>
#include <variant>

#include "engine/unique_fd.h"

namespace tlsgate::milter {

class Listener {
 public:
  // The process's one socket in the listening state: the one smfi_opensocket opened.
  static std::variant<Listener, std::string> find();

  // From now on new connections are refused: the socket is shut down (a unix
  // socket's file removed, where the privileges left allow it), and libmilter's
  // listener thread waits on a pipe that never becomes readable in its place
  // (dup3), so it neither notices nor accepts; the sessions in flight go on.
  void stop_accepting();

 private:
  explicit Listener(int fd) : fd_(fd) {}

  int fd_;                       // libmilter's: not closed here but replaced
  engine::UniqueFd never_read_;  // both ends of the pipe stay open: never readable, never EOF
  engine::UniqueFd never_written_;
};

}  // namespace tlsgate::milter
