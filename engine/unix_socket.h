// Before listening on a unix socket: never take over one that a live process
// listens on (libmilter would unlink it, and that process would run on, orphaned).
#pragma once

#include <optional>
#include <string>

namespace tlsgate::engine {

// nullopt when `path` is free to bind: nothing there, or a stale socket that no
// process listens on (connect: ECONNREFUSED), which is removed. Otherwise why not:
// another process answers there, or the file is no socket, or it cannot be told.
std::optional<std::string> claim_unix_socket(const std::string& path);

}  // namespace tlsgate::engine
