#include "engine/logger.h"

#include <sys/stat.h>
#include <syslog.h>

#include <array>
#include <mutex>
#include <utility>

namespace tlsgate::engine {
namespace {

// syslog's code for each facility the schema knows (the names are the schema's).
int facility_code(policy::Facility f) {
  using policy::Facility;
  switch (f) {
    case Facility::mail: return LOG_MAIL;
    case Facility::daemon: return LOG_DAEMON;
    case Facility::user: return LOG_USER;
    case Facility::auth: return LOG_AUTH;
    case Facility::local0: return LOG_LOCAL0;
    case Facility::local1: return LOG_LOCAL1;
    case Facility::local2: return LOG_LOCAL2;
    case Facility::local3: return LOG_LOCAL3;
    case Facility::local4: return LOG_LOCAL4;
    case Facility::local5: return LOG_LOCAL5;
    case Facility::local6: return LOG_LOCAL6;
    case Facility::local7: return LOG_LOCAL7;
  }
  return LOG_MAIL;
}

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

void open_log(const std::string& ident, policy::Facility facility, bool also_stderr) {
  const int code = facility_code(facility);
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

}  // namespace tlsgate::engine
