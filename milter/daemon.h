// The milter daemon: socket, privileges, signals, reload, libmilter's main loop.
#pragma once

#include <optional>
#include <string>

namespace tlsgate::milter {

struct DaemonOptions {
  std::string config_path;
  bool foreground = false;
  std::optional<std::string> socket;  // -p, overrides [milter] socket
};

// Runs until SIGTERM/SIGINT/SIGHUP; returns the process exit code.
int run_daemon(const DaemonOptions& options);

}  // namespace tlsgate::milter
