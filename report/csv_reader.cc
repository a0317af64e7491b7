#include "report/csv_reader.h"

#include <cstring>

namespace tlsgate::report {
namespace {

constexpr std::string_view kCut = "the row has no line end: the file was cut in the middle of it";
constexpr std::string_view kEmpty = "an empty line";
constexpr std::string_view kOpenQuote = "a quoted field does not end on its line";
constexpr std::string_view kTextAfterQuote = "text after the closing quote of a field";
constexpr std::string_view kQuoteInside = "a quote inside a field that does not start with one";
constexpr std::string_view kBareCr = "a carriage return inside an unquoted field";
constexpr std::string_view kBom = "\xef\xbb\xbf";

bool has_escape_char(std::string_view field) {
  return field.find_first_of("\\'") != std::string_view::npos;
}

}  // namespace

CsvReader::CsvReader(ByteSource& source, std::size_t buffer_size, BlockScanner scanner)
    : source_(source),
      scanner_(scanner),
      buffer_(buffer_size < 64 ? 64 : buffer_size),
      data_(buffer_.data()),
      slots_(32) {}

const BlockMasks& CsvReader::scan(std::size_t block) {
  if (block + 64 <= end_) {
    cached_masks_ = scanner_(data_ + block);
  } else {  // the last bytes: the rest of the block reads as zeros
    char tail[64] = {};
    std::memcpy(tail, data_ + block, end_ - block);
    cached_masks_ = scanner_(tail);
  }
  cached_block_ = block;
  return cached_masks_;
}

std::string_view* CsvReader::grow_slots(std::size_t used) {
  slots_.resize(slots_.size() * 2);
  return slots_.data() + used;
}

void CsvReader::refill() {
  if (pos_ > 0) {  // keep the start of the line, drop what was read
    std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a longer line
  // Fill the buffer (a pipe gives a little at a time): a long line is then scanned
  // again once per doubling, not once per read.
  while (end_ < buffer_.size()) {
    const std::size_t got = source_.read(buffer_.data() + end_, buffer_.size() - end_);
    if (got == 0) {
      eof_ = true;
      break;
    }
    end_ += got;
  }
  data_ = buffer_.data();
  cached_block_ = SIZE_MAX;
}

bool CsvReader::next(CsvRecord& record) {
  for (;;) {
    if (scan_line(record)) return true;
    if (eof_) {
      if (pos_ >= end_) return false;
      record.fields = {};
      record.line = ++line_;
      record.error = kCut;
      record.escapes = false;
      pos_ = end_;
      return true;
    }
    refill();
  }
}

// Finds the line at pos_ and, on the way, its commas: the fields of a plain line.
bool CsvReader::scan_line(CsvRecord& record) {
  std::string_view* out = slots_.data();
  std::string_view* limit = out + slots_.size() - 1;  // room for the last field
  std::size_t start = pos_;
  std::size_t at = pos_;
  std::uint64_t quotes = 0, escapes = 0, crs = 0;
  std::uint64_t carried_cr = 0;  // a CR in a block's last byte: the line's end if an LF follows
  for (;;) {
    if (at >= end_) return false;
    const std::size_t block = at & ~std::size_t{63};
    const BlockMasks& m = masks_at(block);
    const std::uint64_t from = ~std::uint64_t{0} << (at - block);
    const std::uint64_t newline = m.newline & from;
    const std::uint64_t lf = newline & (0 - newline);  // the first line feed, if any
    const std::uint64_t in = lf != 0 ? from & (lf - 1) : from;
    quotes |= m.quote & in;
    escapes |= m.escape & in;
    // Carriage returns, but the one right before the line feed.
    if ((lf & 1) == 0) crs |= carried_cr;
    const std::uint64_t cr = m.cr & in & ~(lf >> 1);
    for (std::uint64_t commas = m.comma & in; commas != 0; commas &= commas - 1) {
      const std::size_t comma = block + static_cast<std::size_t>(__builtin_ctzll(commas));
      if (out == limit) {
        const std::size_t used = static_cast<std::size_t>(out - slots_.data());
        out = grow_slots(used);
        limit = slots_.data() + slots_.size() - 1;
      }
      *out++ = std::string_view(data_ + start, comma - start);
      start = comma + 1;
    }
    if (lf != 0) {
      crs |= cr;
      std::size_t end = block + static_cast<std::size_t>(__builtin_ctzll(lf));
      const std::size_t line_start = pos_;
      pos_ = end + 1;
      if (end > line_start && data_[end - 1] == '\r') --end;  // CRLF
      if (start > end) start = end;  // the CR ended the line right after a comma
      const bool plain = quotes == 0 && crs == 0;
      if (plain) *out++ = std::string_view(data_ + start, end - start);
      record.fields = {slots_.data(), static_cast<std::size_t>(out - slots_.data())};
      record.escapes = escapes != 0;
      finish_line(std::string_view(data_ + line_start, end - line_start), plain, record);
      return true;
    }
    crs |= cr & ~(std::uint64_t{1} << 63);
    carried_cr = cr >> 63;
    at = block + 64;
  }
}

void CsvReader::finish_line(std::string_view line, bool plain, CsvRecord& record) {
  record.line = ++line_;
  record.error = {};
  if (line_ == 1 && line.starts_with(kBom)) {
    line.remove_prefix(kBom.size());
    plain = false;
  }
  if (line.empty()) {
    record.fields = {};
    record.error = kEmpty;
  } else if (!plain) {
    split_quoted(line, record);
  }
}

// Any line, byte by byte: RFC 4180's escaped and non-escaped fields.
void CsvReader::split_quoted(std::string_view line, CsvRecord& record) {
  const char* p = line.data();
  const std::size_t n = line.size();
  std::size_t count = 0;
  auto push = [this, &count](std::string_view field) {
    if (count == slots_.size()) grow_slots(count);
    slots_[count++] = field;
  };
  unquoted_.clear();
  unquoted_.reserve(n);  // never reallocated below: the views into it stay valid
  bool escapes = false;
  auto fail = [&record](std::string_view why) {
    record.fields = {};
    record.error = why;
  };
  std::size_t i = 0;
  for (;;) {
    if (i < n && p[i] == '"') {
      const std::size_t content = ++i;
      std::size_t segment = i;
      const std::size_t out = unquoted_.size();
      bool doubled = false;
      for (;;) {
        const void* q = std::memchr(p + i, '"', n - i);
        if (q == nullptr) return fail(kOpenQuote);
        const std::size_t k = static_cast<std::size_t>(static_cast<const char*>(q) - p);
        if (k + 1 < n && p[k + 1] == '"') {  // "" stands for one quote
          unquoted_.append(p + segment, k + 1 - segment);
          doubled = true;
          i = segment = k + 2;
          continue;
        }
        std::string_view field;
        if (doubled) {
          unquoted_.append(p + segment, k - segment);
          field = std::string_view(unquoted_.data() + out, unquoted_.size() - out);
        } else {
          field = std::string_view(p + content, k - content);
        }
        escapes = escapes || has_escape_char(field);
        push(field);
        i = k + 1;
        break;
      }
      if (i == n) break;
      if (p[i] != ',') return fail(kTextAfterQuote);
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < n && p[i] != ',') {
      if (p[i] == '"') return fail(kQuoteInside);
      if (p[i] == '\r') return fail(kBareCr);
      escapes = escapes || p[i] == '\\' || p[i] == '\'';
      ++i;
    }
    push(std::string_view(p + start, i - start));
    if (i == n) break;
    ++i;
  }
  record.fields = {slots_.data(), count};
  record.escapes = escapes;
}

}  // namespace tlsgate::report
