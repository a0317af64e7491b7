// Bytes that came from the network, made safe to write: the two pieces the log
// line, the accounting file and the report's display share.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tlsgate::policy {

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF) that starts at s[i], or 0 if none does.
std::size_t utf8_sequence(std::string_view s, std::size_t i);

// Appends the byte as "\xNN" (lower-case hex).
void append_hex_escape(std::string& out, unsigned char c);

}  // namespace tlsgate::policy
