#include "milter/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

namespace tlsgate::milter {

using engine::UniqueFd;

std::variant<Listener, std::string> Listener::find() {
  std::vector<int> listening;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::string name = entry.path().filename().string();
    int fd = -1;
    const auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (err != std::errc() || ptr != name.data() + name.size()) continue;
    int accepting = 0;
    socklen_t len = sizeof accepting;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting != 0) {
      listening.push_back(fd);
    }
  }
  if (ec) return "cannot list /proc/self/fd: " + ec.message();
  if (listening.size() != 1) {
    return "expected one listening socket, found " + std::to_string(listening.size());
  }
  return Listener(listening.front());
}

void Listener::stop_accepting() {
  // libmilter's listener may be in select() on the socket, which keeps it open (and
  // listening) until the select returns, up to 5 s later: shut it down as well.
  const UniqueFd socket(fcntl(fd_, F_DUPFD_CLOEXEC, 0));
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) == 0) {
    never_read_.reset(fds[0]);
    never_written_.reset(fds[1]);
    // The pipe under the socket's number, atomically: libmilter waits on it from
    // now on and never calls accept().
    dup3(never_read_.get(), fd_, O_CLOEXEC);
  }
  // Connections are refused from here on (a listening TCP socket stops listening;
  // a unix one refuses connect), and those still in its backlog are reset.
  if (!socket) return;
  shutdown(socket.get(), SHUT_RDWR);
  // A unix socket's file goes too, as libmilter removes it when it stops: if the
  // privileges left allow it (libmilter tried only when no longer root either).
  sockaddr_un addr{};
  socklen_t len = sizeof addr;
  if (getsockname(socket.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      addr.sun_family == AF_UNIX && addr.sun_path[0] == '/') {
    struct stat st {};
    if (lstat(addr.sun_path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(addr.sun_path);
  }
}

}  // namespace tlsgate::milter
