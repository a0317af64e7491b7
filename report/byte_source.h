// Where accounting rows come from: a file as tlsgate wrote it, the same compressed
// with gzip (as logrotate leaves it: recognised by its magic bytes, whatever the
// name), or standard input ("-", plain or gzip).
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tlsgate::report {

// A file that cannot be opened or read, or compressed data that is corrupt.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Up to `size` bytes into `buffer`; 0 at the end. Throws InputError.
  virtual std::size_t read(char* buffer, std::size_t size) = 0;
  // After read() returned 0: the compressed stream ended before its end marker (a
  // .gz file cut short); everything before the cut was returned.
  virtual bool cut_short() const { return false; }
};

// Opens `path` ("-": standard input). Throws InputError.
std::unique_ptr<ByteSource> open_input(const std::string& path);

// The bytes of `text` (copied), for tests and fuzzing.
std::unique_ptr<ByteSource> memory_source(std::string_view text);

}  // namespace tlsgate::report
