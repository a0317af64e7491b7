// The order a report's lists are shown in (largest first, ties by name), and their
// labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "report/string_table.h"
#include "report/summary.h"

namespace tlsgate::report {

// Largest first, ties by name; then cut to `top`.
void rank(std::vector<NamedCount>& v, std::size_t top = SIZE_MAX);
void rank(std::vector<ClientCount>& v, std::size_t top);

// Accepted messages by TLS version from counts by TLS text number (numbers 0-4 of
// `tls_texts` are the known versions newest first and "none"): those in that order,
// then what else the MTA sent, largest first.
std::vector<NamedCount> versions_in_order(const std::vector<std::uint64_t>& by_tls_text,
                                          const StringTable& tls_texts);

// A reason as shown: "(none)" for an empty one (an accept says none).
std::string reason_label(std::string_view name);

}  // namespace tlsgate::report
