#include "engine/metrics_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/metrics.h"
#include "engine/unique_fd.h"

namespace tlsgate::engine {
namespace {

std::string problem(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

std::optional<std::string> write_file_atomically(const std::string& path, const std::string& text) {
  // Not *.prom: the textfile collector reads only those, so never this one.
  const std::string temporary = path + ".tmp";
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return problem("cannot create " + temporary);
  auto fail = [&](const std::string& what) {
    std::string reason = problem(what);
    ::unlink(temporary.c_str());
    return reason;
  };
  if (::fchmod(fd.get(), 0644) != 0) return fail("chmod " + temporary);
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write " + temporary);
    done += static_cast<std::size_t>(n);
  }
  fd.reset();
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return fail("rename to " + path);
  return std::nullopt;
}

bool MetricsFileWriter::write(const std::string& path, const std::string& text) {
  if (path.empty()) {
    failing_path_.clear();
    return true;
  }
  const auto problem = write_file_atomically(path, text);
  if (!problem) {
    if (!failing_path_.empty() && report_) report_("metrics_file " + path + ": writing again");
    failing_path_.clear();
    return true;
  }
  if (failing_path_ != path && report_) {
    report_("metrics_file " + path + ": " + *problem + "; retrying at each interval");
  }
  failing_path_ = path;
  return false;
}

PeriodicMetricsFile::PeriodicMetricsFile(SettingsSource settings,
                                         MetricsFileWriter::Reporter report)
    : settings_(std::move(settings)), writer_(std::move(report)), thread_([this] { run(); }) {}

PeriodicMetricsFile::~PeriodicMetricsFile() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicMetricsFile::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const Settings s = settings_();
    lock.unlock();
    writer_.write(s.path, metrics().exposition());
    lock.lock();
    wake_.wait_for(lock, s.interval, [this] { return stopping_; });
  }
}

}  // namespace tlsgate::engine
