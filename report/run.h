// `tlsgate report`: the subcommand as a whole (main.cc hands it its arguments).
#pragma once

namespace tlsgate::report {

// Exit codes, as documented in tlsgate(8).
enum Exit { kDone = 0, kNewlyRefused = 1, kError = 2 };

// argv[0] is "report".
int run_report(int argc, char** argv);

}  // namespace tlsgate::report
