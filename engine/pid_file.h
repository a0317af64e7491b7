// [milter] pid_file, locked (flock) for the life of the daemon: a second instance
// that finds it locked refuses to start instead of taking it over.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <variant>

#include "engine/unique_fd.h"

namespace tlsgate::engine {

class PidFile {
 public:
  // Opens and locks `path`, creating it, and its directory if that is missing (mode
  // 0755; its parent must exist). The error names the process that holds the lock.
  // The lock lasts while this object, or a child forked after it, keeps the file open.
  static std::variant<PidFile, std::string> lock(const std::string& path);

  // Writes "PID\n" over whatever the file held; nullopt, or the error.
  std::optional<std::string> write(pid_t pid);
  // Removes the file if it is still the one locked here. The lock stays until exit.
  void remove();

  const std::string& path() const { return path_; }

 private:
  PidFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  UniqueFd fd_;
};

}  // namespace tlsgate::engine
