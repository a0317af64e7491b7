#include "policy/networks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace tlsgate::policy {
namespace {

constexpr std::string_view kSeparators = ", \t\r\n";
constexpr std::size_t kChunk = 256 * 1024;

bool is_separator(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// A file's lines through one buffer: a read(2) per 256 KiB, no copy per line.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd), buffer_(kChunk) {}

  // The next line, without its '\n'; false at the end of the file or on a read error.
  bool next(std::string_view& line) {
    for (;;) {
      const char* begin = buffer_.data() + begin_;
      const std::size_t size = end_ - begin_;
      if (const void* nl = std::memchr(begin, '\n', size)) {
        line = {begin, static_cast<std::size_t>(static_cast<const char*>(nl) - begin)};
        begin_ += line.size() + 1;
        return true;
      }
      if (eof_) {
        if (size == 0) return false;
        line = {begin, size};
        begin_ = end_;
        return true;
      }
      // Keep the partial line and read more after it; a line longer than the buffer grows it.
      std::memmove(buffer_.data(), begin, size);
      begin_ = 0;
      end_ = size;
      if (end_ == buffer_.size()) buffer_.resize(2 * buffer_.size());
      const ssize_t n = read(fd_, buffer_.data() + end_, buffer_.size() - end_);
      if (n > 0) {
        end_ += static_cast<std::size_t>(n);
      } else if (n == 0) {
        eof_ = true;
      } else if (errno != EINTR) {
        failed_ = true;
        return false;
      }
    }
  }
  bool failed() const { return failed_; }

 private:
  int fd_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // the unread bytes are [begin_, end_)
  std::size_t end_ = 0;
  bool eof_ = false;
  bool failed_ = false;
};

void add_prefix(std::string_view text, std::uint32_t file_id, int line, std::uint32_t section,
                std::uint32_t ordinal, PrefixList& out, std::vector<ConfigError>& errors) {
  auto parsed = parse_prefix(text);
  if (auto* p = std::get_if<Prefix>(&parsed)) {
    out.items.add(*p, section, ordinal);
  } else {
    errors.push_back({out.files[file_id], line, std::get<std::string>(parsed)});
  }
}

}  // namespace

std::uint32_t PrefixList::file_id(const std::string& name) {
  const auto it = std::find(files.begin(), files.end(), name);
  if (it != files.end()) return static_cast<std::uint32_t>(it - files.begin());
  files.push_back(name);
  return static_cast<std::uint32_t>(files.size() - 1);
}

PrefixList::Where PrefixList::where(std::uint32_t ordinal) const {
  const auto after =
      std::upper_bound(segments.begin(), segments.end(), ordinal,
                       [](std::uint32_t o, const Segment& s) { return o < s.first; });
  const Segment& s = *(after - 1);  // segments[0].first == 0 <= ordinal
  // A file's line count is checked to fit an int as it is read.
  return {files[s.file], s.line > 0 ? s.line : static_cast<int>(ordinal - s.first + 1)};
}

void parse_networks(std::string_view value, const std::string& file, int line,
                    std::uint32_t section, PrefixList& out, std::vector<ConfigError>& errors) {
  const std::uint32_t id = out.file_id(file);
  out.segments.push_back({out.next_ordinal, id, line});
  std::size_t pos = 0;
  while ((pos = value.find_first_not_of(kSeparators, pos)) != std::string_view::npos) {
    const std::size_t end = std::min(value.find_first_of(kSeparators, pos), value.size());
    add_prefix(value.substr(pos, end - pos), id, line, section, out.next_ordinal++, out, errors);
    pos = end;
  }
}

std::size_t count_networks(std::string_view value) {
  std::size_t count = 0;
  std::size_t pos = 0;
  while ((pos = value.find_first_not_of(kSeparators, pos)) != std::string_view::npos) {
    ++count;
    pos = std::min(value.find_first_of(kSeparators, pos), value.size());
  }
  return count;
}

std::size_t count_networks_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t lines = 0;
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    lines = 1;  // a last line without a newline
    std::vector<char> buffer(kChunk);
    ssize_t n;
    while ((n = read(fd, buffer.data(), buffer.size())) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0)
        lines += static_cast<std::size_t>(std::count(buffer.data(), buffer.data() + n, '\n'));
    }
  }
  close(fd);
  return lines;
}

void read_networks_file(std::string_view key, const std::string& path, const std::string& file,
                        int line, std::uint32_t section, PrefixList& out,
                        std::vector<ConfigError>& errors) {
  const std::string what = std::string(key) + " " + path;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errors.push_back({file, line, what + ": " + std::strerror(errno)});
    return;
  }
  const std::uint32_t id = out.file_id(path);
  const std::uint32_t first = out.next_ordinal;
  out.segments.push_back({first, id, 0});
  // Each line takes an ordinal, so that line = ordinal - first + 1.
  const std::uint32_t max_lines = std::min<std::uint32_t>(
      std::numeric_limits<std::uint32_t>::max() - first, std::numeric_limits<int>::max());
  LineReader in(fd);
  std::uint32_t lineno = 0;
  std::string_view text;
  while (in.next(text)) {
    if (lineno == max_lines) {
      errors.push_back({file, line, "networks_file " + path + ": too many lines"});
      break;
    }
    ++lineno;
    // The netblock: the line up to any '#', without the blanks around it.
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (const void* hash = std::memchr(begin, '#', text.size()))
      end = static_cast<const char*>(hash);
    while (begin < end && is_separator(*begin)) ++begin;
    if (begin == end) continue;
    while (is_separator(end[-1])) --end;
    const int at = static_cast<int>(lineno);
    if (std::any_of(begin, end, is_separator)) {
      errors.push_back({path, at, "one netblock per line expected"});
      continue;
    }
    add_prefix({begin, static_cast<std::size_t>(end - begin)}, id, at, section, first + lineno - 1,
               out, errors);
  }
  if (in.failed()) errors.push_back({file, line, "networks_file " + path + ": read error"});
  close(fd);
  out.next_ordinal = first + lineno;
}

}  // namespace tlsgate::policy
