#include "milter/logger.h"

#include <sys/stat.h>
#include <syslog.h>

#include <array>
#include <mutex>
#include <utility>

namespace tlsgate::milter {
namespace {

constexpr std::array<std::pair<std::string_view, int>, 12> kFacilities{{
    {"mail", LOG_MAIL},
    {"daemon", LOG_DAEMON},
    {"user", LOG_USER},
    {"auth", LOG_AUTH},
    {"local0", LOG_LOCAL0},
    {"local1", LOG_LOCAL1},
    {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3},
    {"local4", LOG_LOCAL4},
    {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7},
}};

// openlog keeps the ident pointer: it must outlive every syslog call.
std::mutex ident_mutex;
std::string ident_storage;

// Whether a copy on stderr reaches anything: not when stderr is closed or is
// /dev/null (systemd's StandardError=null). The copy costs three system calls a
// line (glibc's dprintf: fstat, lseek, write), for nobody.
bool stderr_is_read() {
  struct stat err {};
  struct stat null {};
  if (fstat(2, &err) != 0) return false;
  return !(S_ISCHR(err.st_mode) && stat("/dev/null", &null) == 0 && err.st_rdev == null.st_rdev);
}

}  // namespace

void open_log(const std::string& ident, std::string_view facility, bool also_stderr) {
  int code = LOG_MAIL;
  for (const auto& [name, value] : kFacilities) {
    if (name == facility) code = value;
  }
  const std::lock_guard lock(ident_mutex);
  closelog();
  ident_storage = ident;
  const bool copy = also_stderr && stderr_is_read();
  openlog(ident_storage.c_str(), LOG_PID | LOG_NDELAY | (copy ? LOG_PERROR : 0), code);
}

void log(Severity severity, const std::string& line) {
  int priority = LOG_INFO;
  switch (severity) {
    case Severity::error: priority = LOG_ERR; break;
    case Severity::warning: priority = LOG_WARNING; break;
    case Severity::notice: priority = LOG_NOTICE; break;
    case Severity::info: priority = LOG_INFO; break;
  }
  syslog(priority, "%s", line.c_str());
}

}  // namespace tlsgate::milter
