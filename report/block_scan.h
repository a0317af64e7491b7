// The bytes a CSV line splits on, found 64 at a time: one bit per byte, for commas,
// line feeds, quotes, carriage returns, and the two bytes that may start one of
// tlsgate's value escapes (backslash, apostrophe). AVX-512 or AVX2 where the CPU
// has it, SSE2 on any other x86-64, plain C++ elsewhere; the same answers from each.
#pragma once

#include <cstdint>
#include <vector>

namespace tlsgate::report {

struct BlockMasks {
  std::uint64_t comma = 0;
  std::uint64_t newline = 0;
  std::uint64_t quote = 0;
  std::uint64_t cr = 0;
  std::uint64_t escape = 0;  // '\\' or '\''
};

// The masks of the 64 bytes at `p` (all readable); bit i is p[i].
using BlockScanner = BlockMasks (*)(const char* p);

// The fastest scanner this CPU runs.
BlockScanner block_scanner();
// Every scanner this CPU runs (the portable one first), for tests that compare them.
std::vector<BlockScanner> block_scanners();
BlockMasks scan_block_portable(const char* p);

}  // namespace tlsgate::report
