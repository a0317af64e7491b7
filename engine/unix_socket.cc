#include "engine/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/unique_fd.h"

namespace tlsgate::engine {

std::optional<std::string> claim_unix_socket(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return "cannot check " + path + ": " + std::strerror(errno);
  }
  if (!S_ISSOCK(st.st_mode)) return path + " exists and is not a socket";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return "the path is too long for a unix socket";
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return std::string("socket: ") + std::strerror(errno);
  int rc = 0;
  do {
    rc = connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0 || errno == EAGAIN) {  // EAGAIN: it listens, its backlog is full
    return "another process is listening there (is tlsgate already running?)";
  }
  if (errno != ECONNREFUSED) {
    return "cannot tell whether another process listens there: " +
           std::string(std::strerror(errno));
  }
  // A stale socket, left by a process that ended without removing it.
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return "cannot remove the stale socket: " + std::string(std::strerror(errno));
  }
  return std::nullopt;
}

}  // namespace tlsgate::engine
