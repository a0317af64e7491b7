// A value as tlsgate wrote it into a CSV field (engine/log_format.h csv_field),
// back to the value: one leading ' dropped (the spreadsheet formula guard), then
// \\ and \xNN undone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tlsgate::report {

// The value of `field`; a view of `field` itself when there is nothing to undo,
// else of `scratch`. nullopt: a backslash that starts neither \\ nor \xNN (tlsgate
// never writes one).
std::optional<std::string_view> field_value(std::string_view field, std::string& scratch);

// `value` made safe to show anywhere (terminal, JSON, HTML): well-formed UTF-8 is
// kept, control characters (C0, DEL, C1) and bytes that are not well-formed UTF-8
// are written \xNN.
std::string displayable(std::string_view value);

// `value` for a terminal or a message: printable ASCII, other bytes as \xNN, a
// backslash as \\, cut after `max` bytes with "...".
std::string printable(std::string_view value, std::size_t max = 80);

}  // namespace tlsgate::report
