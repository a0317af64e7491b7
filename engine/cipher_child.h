// Cipher strings expanded in a short-lived child process, so that the daemon never
// initialises OpenSSL itself: its provider tables and the library pages a
// context touches (about 2.5 MiB of the idle daemon's RSS) stay out of the
// long-running process, and a crash inside OpenSSL on an odd string costs a
// failed load, not the daemon.
#pragma once

#include <string>
#include <variant>

#include "policy/tls.h"

namespace tlsgate::engine {

// Same answers as policy::CipherSet::expand, computed in a fork()ed child.
std::variant<policy::CipherSet, std::string> expand_in_child(policy::CipherSet::Family family,
                                                             const std::string& spec);

}  // namespace tlsgate::engine
