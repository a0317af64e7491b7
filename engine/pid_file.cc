#include "engine/pid_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace tlsgate::engine {
namespace {

std::string error_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// Outside systemd nothing makes /run/tlsgate: make the pid file's directory (only
// that one; its parent must exist), 0755 whatever the umask.
std::optional<std::string> make_directory_of(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) return std::nullopt;
  struct stat st {};
  if (stat(dir.c_str(), &st) == 0) return std::nullopt;
  if (errno != ENOENT) return error_text("pid_file " + path + ": " + dir);
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return error_text("pid_file " + path + ": cannot create its directory " + dir);
  }
  if (chmod(dir.c_str(), 0755) != 0) return error_text("chmod " + dir);
  return std::nullopt;
}

bool same_file(int fd, const std::string& path) {
  struct stat by_fd {};
  struct stat by_path {};
  return fstat(fd, &by_fd) == 0 && stat(path.c_str(), &by_path) == 0 &&
         by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

// The pid a locked file names, as its holder wrote it (empty while it is starting).
std::string holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::variant<PidFile, std::string> PidFile::lock(const std::string& path) {
  if (auto problem = make_directory_of(path)) return *problem;
  // A holder that stops unlinks the file: lock what the path names once locked, or
  // two instances could each hold a lock, one on a file no longer there.
  for (int attempt = 0; attempt < 10; ++attempt) {
    UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) return error_text("cannot open pid_file " + path);
    if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return error_text("cannot lock pid_file " + path);
      const std::string pid = holder_of(fd.get());
      return "pid_file " + path + " is locked by " +
             (pid.empty() ? std::string("another process") : "process " + pid) +
             " (is tlsgate already running?)";
    }
    if (same_file(fd.get(), path)) return PidFile(path, std::move(fd));
  }
  return "cannot lock pid_file " + path + ": it keeps being replaced";
}

std::optional<std::string> PidFile::write(pid_t pid) {
  const std::string text = std::to_string(pid) + "\n";
  if (ftruncate(fd_.get(), 0) != 0 ||
      pwrite(fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return error_text("cannot write pid_file " + path_);
  }
  return std::nullopt;
}

void PidFile::remove() {
  if (fd_ && same_file(fd_.get(), path_)) unlink(path_.c_str());
}

}  // namespace tlsgate::engine
