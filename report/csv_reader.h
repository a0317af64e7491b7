// RFC 4180 records, one a line, from a ByteSource: what tlsgate's accounting file
// holds. Streaming: one buffer, as long as the longest line (1 MiB at least).
// (Mapping the file instead was tried: five times slower on this virtual machine,
// where each page mapped costs a fault; read() into a buffer that stays in the CPU
// cache is not.)
//
// The grammar is RFC 4180's (fields separated by commas; a field in double quotes
// may hold commas and doubled quotes ""), records end in CRLF (a bare LF is taken
// too), with one restriction: a record is one line. tlsgate never writes a line
// break inside a field (it writes \x0d and \x0a), so a quoted field that reaches
// the end of its line is an error of that line instead of swallowing every row
// after a stray quote.
//
// Speed: the separators are found 64 bytes at a time (block_scan.h); a line with
// no quote and no carriage return but its CRLF (tlsgate quotes only values with a
// space, comma or quote) is split straight from those bit masks, any other line
// byte by byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "report/block_scan.h"
#include "report/byte_source.h"

namespace tlsgate::report {

struct CsvRecord {
  // The fields, quotes removed and "" undone; valid until the next call to next().
  std::span<const std::string_view> fields;
  std::uint64_t line = 0;  // 1-based line number in the input
  // Non-empty: the line is not a well-formed record (fields is then empty).
  std::string_view error;
  // Some field may hold a backslash or start with an apostrophe (tlsgate's value
  // escapes, see field_value.h); false means every field is its value as it is.
  bool escapes = false;
};

class CsvReader {
 public:
  explicit CsvReader(ByteSource& source, std::size_t buffer_size = std::size_t{1} << 20,
                     BlockScanner scanner = block_scanner());

  // The next line's record; false at the end of the input. Throws InputError.
  bool next(CsvRecord& record);
  // The same if the whole line is in the buffer already; false, having done nothing,
  // if reading it means refilling the buffer, which ends the life of every view into
  // it (records read before, rows parsed from them).
  bool next_buffered(CsvRecord& record) { return scan_line(record); }

  std::uint64_t lines() const { return line_; }

 private:
  bool scan_line(CsvRecord& record);  // false: no line end before end_
  const BlockMasks& masks_at(std::size_t block) {
    return block == cached_block_ ? cached_masks_ : scan(block);
  }
  const BlockMasks& scan(std::size_t block);
  std::string_view* grow_slots(std::size_t used);
  void refill();
  void finish_line(std::string_view line, bool plain, CsvRecord& record);
  void split_quoted(std::string_view line, CsvRecord& record);

  ByteSource& source_;
  BlockScanner scanner_;
  std::vector<char> buffer_;
  const char* data_;     // buffer_'s data
  std::size_t pos_ = 0;  // start of the next line
  std::size_t end_ = 0;  // end of the data at hand
  bool eof_ = false;
  std::size_t cached_block_ = SIZE_MAX;
  BlockMasks cached_masks_;
  std::uint64_t line_ = 0;
  std::vector<std::string_view> slots_;  // what record.fields shows
  std::string unquoted_;                 // fields with "" undone
};

}  // namespace tlsgate::report
