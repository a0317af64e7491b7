// One accounting file read into the aggregator: its header, then row by row.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "report/aggregator.h"
#include "report/byte_source.h"

namespace tlsgate::report {

// Rows that could not be counted: every one counted, the first `shown` named as
// FILE:LINE: what is wrong.
class BadRowLog {
 public:
  explicit BadRowLog(std::ostream& out, std::size_t shown = 10) : out_(out), shown_(shown) {}
  void add(std::string_view file, std::uint64_t line, std::string_view what);
  std::uint64_t count() const { return count_; }
  // After the last file: how many there were, if more than were shown.
  void finish() const;

 private:
  std::ostream& out_;
  std::size_t shown_;
  std::uint64_t count_ = 0;
};

// Reads `source` (named `name` in messages) into `aggregator`, adding its data rows
// to `rows` and the bad ones to `bad`; notes (an empty file, a .gz cut short) go to
// `notes`. Returns why the file cannot be used at all (no header, a required column
// missing); throws InputError when it cannot be read. `buffer_size`: the reader's
// (CsvReader), smaller for small inputs.
std::optional<std::string> feed_file(const std::string& name, ByteSource& source,
                                     Aggregator& aggregator, std::uint64_t& rows, BadRowLog& bad,
                                     std::ostream& notes,
                                     std::size_t buffer_size = std::size_t{1} << 20);

}  // namespace tlsgate::report
