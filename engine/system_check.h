// [milter] values checked against this system as a start would use them: the user
// and group exist, the socket parses and its host resolves. Nothing is bound. For
// `tlsgate -n`, -p and the daemon alike, so that -n accepts only what a start does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/schema.h"

namespace tlsgate::engine {

// A policy::SettingCheck: nullopt if `value` of [milter] `key` would work here.
std::optional<std::string> check_setting_here(const policy::KeySpec& key, std::string_view value);

// A socket as -p or [milter] socket gives it: its syntax, then its host.
std::optional<std::string> check_socket_here(std::string_view spec);

}  // namespace tlsgate::engine
