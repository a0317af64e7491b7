// Loading a policy from an INI file: every mistake reported as FILE:LINE, all of them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/config_error.h"
#include "policy/policy.h"
#include "policy/tls.h"

namespace tlsgate::policy {

struct LoadOptions {
  bool keep_netblocks = false;                        // keep each netblock's text for --explain
  CipherExpander expand_ciphers = CipherSet::expand;  // once per distinct cipher string
};

struct LoadResult {
  std::shared_ptr<const Policy> policy;  // null when there are errors
  std::vector<ConfigError> errors;       // sorted by file and line
};

LoadResult load_policy(const std::string& path, LoadOptions options = {});

// `text` read as if from `file`; relative networks_file paths are taken from `base_dir`.
LoadResult load_policy_text(std::string_view text, const std::string& file,
                            const std::string& base_dir, LoadOptions options = {});

}  // namespace tlsgate::policy
