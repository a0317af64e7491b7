#pragma once

namespace tlsgate {
inline constexpr const char* kVersion = "0.1.0";
}
