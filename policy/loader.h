// Loading a policy from an INI file: every mistake reported as FILE:LINE, all of them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/config_error.h"
#include "policy/policy.h"
#include "policy/schema.h"
#include "policy/tls.h"

namespace tlsgate::policy {

// What a pure load cannot check: a [milter] value against the system the daemon
// would run on (does the user exist, does the socket's host resolve). nullopt if
// `value` of `key` is fine, else what is wrong with it.
using SettingCheck =
    std::function<std::optional<std::string>(const KeySpec& key, std::string_view value)>;

struct LoadOptions {
  // For --explain: keep each netblock's text, and each partner's settings with
  // where they were set (a daemon with many partners need not hold them).
  bool keep_netblocks = false;
  CipherExpander expand_ciphers = CipherSet::expand;  // once per distinct cipher string
  SettingCheck check_setting = nullptr;               // none: the file's syntax and values only
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
