#include "policy/ini_source.h"

#include <ini.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>

namespace tlsgate::policy {
namespace {

// inih reports only the first syntax error of a pass; blank it out and parse again
// to find the next. This bounds the passes a hostile file can cost.
constexpr int kMaxSyntaxErrors = 50;
// Stands in for a broken [section header so that the keys under it are not
// misfiled into the section before it. Those keys are skipped by the line of this
// header, not by its name: any name can also be written in a file.
constexpr std::string_view kBrokenHeader = "[broken]\n";
// inih keeps this many bytes of a section name (its MAX_SECTION - 1) and silently
// drops the rest, which would merge two long names into one section.
constexpr std::size_t kMaxSectionName = 49;

// Serves one line per reader call (or a part of it if inih's buffer is smaller)
// so that the current line number is always known.
struct LineFeed {
  const std::vector<std::string>* lines = nullptr;
  const std::vector<bool>* broken = nullptr;  // per line: a header that was replaced
  std::size_t next = 0;                       // the line to serve next
  std::size_t offset = 0;                     // how much of lines[next] was already served
  int current_line = 0;                       // 1-based line inih is reading
  int section_line = 0;
  bool section_has_keys = true;  // false until a key follows the current [header]
  const IniHandler* handler = nullptr;
  std::exception_ptr failure;  // exceptions must not unwind through inih's C frames
};

bool is_header(std::string_view line) {
  const auto start = line.find_first_not_of(" \t");
  return start != std::string_view::npos && line[start] == '[';
}

// A [header] whose name inih would cut short.
bool header_too_long(std::string_view line) {
  if (!is_header(line)) return false;
  const std::size_t open = line.find('[');
  const std::size_t close = line.find(']', open);
  return close != std::string_view::npos && close - open - 1 > kMaxSectionName;
}

// The section name inih takes from a header line it accepted: what stands between
// the first '[' and the first ']', as written.
std::string_view header_name(std::string_view line) {
  const std::size_t open = line.find('[');
  const std::size_t close = line.find(']', open);
  return line.substr(open + 1, close == std::string_view::npos ? 0 : close - open - 1);
}

void call_handler(LineFeed& feed, const IniEntry& entry) {
  if (feed.handler == nullptr || feed.failure) return;
  try {
    (*feed.handler)(entry);
  } catch (...) {
    feed.failure = std::current_exception();
  }
}

// inih calls no handler for a [header] with no key under it (all of them commented
// out, say): hand it over as an entry with an empty key, so that it is not lost.
void flush_keyless_section(LineFeed& feed) {
  if (feed.section_has_keys) return;
  feed.section_has_keys = true;
  const auto index = static_cast<std::size_t>(feed.section_line - 1);
  if ((*feed.broken)[index]) return;
  const std::string_view name = header_name((*feed.lines)[index]);
  call_handler(feed, {name, {}, {}, feed.section_line, feed.section_line});
}

char* read_line(char* str, int num, void* stream) {
  auto* feed = static_cast<LineFeed*>(stream);
  if (feed->next >= feed->lines->size() || num < 2) {
    flush_keyless_section(*feed);
    return nullptr;
  }
  const std::string& line = (*feed->lines)[feed->next];
  if (feed->offset == 0) {
    feed->current_line = static_cast<int>(feed->next) + 1;
    if (is_header(line)) {
      flush_keyless_section(*feed);
      feed->section_line = feed->current_line;
      feed->section_has_keys = false;
    }
  }
  const std::size_t n = std::min(line.size() - feed->offset, static_cast<std::size_t>(num - 1));
  std::memcpy(str, line.data() + feed->offset, n);
  str[n] = '\0';
  feed->offset += n;
  if (feed->offset == line.size()) {
    ++feed->next;
    feed->offset = 0;
  }
  return str;
}

int on_key(void* user, const char* section, const char* name, const char* value) {
  auto* feed = static_cast<LineFeed*>(user);
  feed->section_has_keys = true;
  const auto header = static_cast<std::size_t>(feed->section_line);
  const bool under_broken_header = header > 0 && (*feed->broken)[header - 1];
  if (under_broken_header) return 1;
  call_handler(*feed, {section, name, value, feed->current_line, feed->section_line});
  return 1;
}

// One comment rule for every value: a line starting with ; or # is a comment, and
// after a value ; or # preceded by a space or tab starts one (inih's inline
// comments need that blank before them). A ; or # with no blank before it is part
// of the value, e.g. `client_cert_subject = CN=a;O=b` or a `#` in a name.
char kCommentPrefixes[] = ";#";

// inih keeps its options in globals (a Debian patch makes them run-time settings).
int run_inih(const std::vector<std::string>& lines, const std::vector<bool>& broken,
             const IniHandler* handler) {
  static std::mutex inih_options;
  const std::lock_guard lock(inih_options);
  ini_use_stack = false;
  ini_allow_realloc = true;
  ini_max_line = static_cast<int>(kMaxIniLine + 3);  // + "\r\n\0"
  ini_allow_multiline = false;  // an indented line is a mistake, not a continuation
  ini_allow_no_value = false;
  ini_stop_on_first_error = false;
  ini_start_comment_prefixes = kCommentPrefixes;
  ini_allow_inline_comments = true;
  ini_inline_comment_prefixes = kCommentPrefixes;
  LineFeed feed;
  feed.lines = &lines;
  feed.broken = &broken;
  feed.handler = handler;
  const int result = ini_parse_stream(read_line, &feed, on_key, &feed);
  if (feed.failure) std::rethrow_exception(feed.failure);
  return result;
}

}  // namespace

void parse_ini(std::string_view text, const std::string& file, const IniHandler& handler,
               std::vector<ConfigError>& errors) {
  // A UTF-8 byte-order mark (some Windows editors write one) is not part of line 1;
  // inih skips it too, but the line bookkeeping here must not see it either.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::string> lines;
  std::vector<bool> broken;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string line(text.substr(start, end - start));
    const int lineno = static_cast<int>(lines.size()) + 1;
    std::string_view content(line);  // the line without its line end
    if (content.ends_with('\n')) content.remove_suffix(1);
    if (content.ends_with('\r')) content.remove_suffix(1);
    // A line left out is blanked, or if it was a [header, replaced by a broken one
    // so that the keys under it are not blamed on the section before.
    const bool header = is_header(content);
    bool replaced_header = false;
    if (line.find('\0') != std::string::npos) {
      errors.push_back({file, lineno, "NUL byte in line"});
      line = header ? kBrokenHeader : "\n";
      replaced_header = header;
    } else if (content.size() > kMaxIniLine) {
      errors.push_back(
          {file, lineno, "line longer than " + std::to_string(kMaxIniLine) + " bytes"});
      line = header ? kBrokenHeader : "\n";
      replaced_header = header;
    } else if (header_too_long(content)) {
      errors.push_back(
          {file, lineno,
           "section name longer than " + std::to_string(kMaxSectionName) + " characters"});
      line = kBrokenHeader;
      replaced_header = true;
    }
    broken.push_back(replaced_header);
    lines.push_back(std::move(line));
    start = end;
  }

  for (int found = 0;; ++found) {
    const int bad = run_inih(lines, broken, nullptr);
    if (bad <= 0) break;
    if (found == kMaxSyntaxErrors) {
      errors.push_back({file, bad, "too many syntax errors; stopped reading"});
      return;
    }
    std::string& line = lines[static_cast<std::size_t>(bad - 1)];
    if (is_header(line)) {
      errors.push_back({file, bad, "bad section header (expected [name])"});
      line = kBrokenHeader;
      broken[static_cast<std::size_t>(bad - 1)] = true;
    } else {
      errors.push_back({file, bad, "syntax error (expected key = value)"});
      line = "\n";
    }
  }
  if (run_inih(lines, broken, &handler) == -2) errors.push_back({file, 0, "out of memory"});
}

}  // namespace tlsgate::policy
