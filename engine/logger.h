// syslog(3) at the edge: tlsgate's one place that talks to the system logger.
#pragma once

#include <string>
#include <string_view>

#include "policy/value.h"

namespace tlsgate::engine {

enum class Severity { error, warning, notice, info };

// openlog with the [milter] ident and facility; `also_stderr` (-f) copies each
// line to stderr, unless stderr is closed or /dev/null. Safe to call again after
// a reload changed them.
void open_log(const std::string& ident, policy::Facility facility, bool also_stderr);
void log(Severity severity, const std::string& line);

}  // namespace tlsgate::engine
