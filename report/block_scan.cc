#include "report/block_scan.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tlsgate::report {

BlockMasks scan_block_portable(const char* p) {
  BlockMasks m;
  for (unsigned i = 0; i < 64; ++i) {
    const std::uint64_t bit = std::uint64_t{1} << i;
    switch (p[i]) {
      case ',': m.comma |= bit; break;
      case '\n': m.newline |= bit; break;
      case '"': m.quote |= bit; break;
      case '\r': m.cr |= bit; break;
      case '\\':
      case '\'': m.escape |= bit; break;
      default: break;
    }
  }
  return m;
}

#if defined(__x86_64__)
namespace {

BlockMasks scan_block_sse2(const char* p) {
  BlockMasks m;
  const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n'),
                quote = _mm_set1_epi8('"'), cr = _mm_set1_epi8('\r'),
                backslash = _mm_set1_epi8('\\'), apostrophe = _mm_set1_epi8('\'');
  for (unsigned i = 0; i < 4; ++i) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    auto bits = [&v, i](__m128i c) {
      return static_cast<std::uint64_t>(
                 static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c))))
             << (16 * i);
    };
    m.comma |= bits(comma);
    m.newline |= bits(newline);
    m.quote |= bits(quote);
    m.cr |= bits(cr);
    m.escape |= bits(backslash) | bits(apostrophe);
  }
  return m;
}

#define TLSGATE_AVX2_BITS(c)                                              \
  (std::uint64_t{static_cast<std::uint32_t>(                              \
       _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, _mm256_set1_epi8(c))))} \
       << 32 |                                                            \
   static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, _mm256_set1_epi8(c)))))

__attribute__((target("avx2"))) BlockMasks scan_block_avx2(const char* p) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  BlockMasks m;
  m.comma = TLSGATE_AVX2_BITS(',');
  m.newline = TLSGATE_AVX2_BITS('\n');
  m.quote = TLSGATE_AVX2_BITS('"');
  m.cr = TLSGATE_AVX2_BITS('\r');
  m.escape = TLSGATE_AVX2_BITS('\\') | TLSGATE_AVX2_BITS('\'');
  return m;
}

#undef TLSGATE_AVX2_BITS

__attribute__((target("avx512f,avx512bw"))) BlockMasks scan_block_avx512(const char* p) {
  const __m512i v = _mm512_loadu_si512(p);
  BlockMasks m;
  m.comma = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(','));
  m.newline = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
  m.quote = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"'));
  m.cr = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
  m.escape = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')) |
             _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\''));
  return m;
}

}  // namespace

bool has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}

BlockScanner block_scanner() {
  static const BlockScanner best = has_avx512()                     ? scan_block_avx512
                                   : __builtin_cpu_supports("avx2") ? scan_block_avx2
                                                                    : scan_block_sse2;
  return best;
}

std::vector<BlockScanner> block_scanners() {
  std::vector<BlockScanner> all{scan_block_portable, scan_block_sse2};
  if (__builtin_cpu_supports("avx2")) all.push_back(scan_block_avx2);
  if (has_avx512()) all.push_back(scan_block_avx512);
  return all;
}

#else

BlockScanner block_scanner() { return scan_block_portable; }
std::vector<BlockScanner> block_scanners() { return {scan_block_portable}; }

#endif

}  // namespace tlsgate::report
