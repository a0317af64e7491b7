#include "report/byte_source.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace tlsgate::report {
namespace {

// zlib reads plain data through unchanged ("transparent" mode) and large requests
// go straight into the caller's buffer, so one reader serves plain and gzip input.
class ZlibSource : public ByteSource {
 public:
  ZlibSource(int fd, std::string name) : name_(std::move(name)), file_(gzdopen(fd, "rb")) {
    if (file_ == nullptr) {
      ::close(fd);
      throw InputError(name_ + ": cannot read: out of memory");
    }
    gzbuffer(file_, 256 * 1024);
  }
  ~ZlibSource() override { gzclose(file_); }
  ZlibSource(const ZlibSource&) = delete;
  ZlibSource& operator=(const ZlibSource&) = delete;

  std::size_t read(char* buffer, std::size_t size) override {
    const auto want = static_cast<unsigned>(std::min<std::size_t>(size, INT_MAX));
    const int got = gzread(file_, buffer, want);
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (got > 0) return static_cast<std::size_t>(got);
    // At the end gzread returns 0, and a stream cut short says so in gzerror only.
    if (got == 0 && code != Z_BUF_ERROR) return 0;
    if (code == Z_BUF_ERROR) {  // "unexpected end of file": a .gz cut short
      cut_short_ = true;
      return 0;
    }
    if (code == Z_ERRNO) throw InputError(name_ + ": cannot read: " + std::strerror(errno));
    throw InputError(name_ + ": corrupt compressed data: " + message);
  }
  bool cut_short() const override { return cut_short_; }

 private:
  std::string name_;
  gzFile file_;
  bool cut_short_ = false;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view text) : text_(text) {}
  std::size_t read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min(size, text_.size() - pos_);
    std::memcpy(buffer, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<ByteSource> open_input(const std::string& path) {
  int fd = -1;
  if (path == "-") {
    fd = ::dup(STDIN_FILENO);  // gzclose closes it; standard input stays open
    if (fd < 0) throw InputError("standard input: " + std::string(std::strerror(errno)));
    return std::make_unique<ZlibSource>(fd, "standard input");
  }
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot open: " + std::strerror(errno));
  return std::make_unique<ZlibSource>(fd, path);
}

std::unique_ptr<ByteSource> memory_source(std::string_view text) {
  return std::make_unique<MemorySource>(text);
}

}  // namespace tlsgate::report
