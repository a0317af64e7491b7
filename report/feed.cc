#include "report/feed.h"

#include <array>
#include <variant>

#include "report/columns.h"
#include "report/csv_reader.h"
#include "report/row.h"

namespace tlsgate::report {

void BadRowLog::add(std::string_view file, std::uint64_t line, std::string_view what) {
  if (++count_ <= shown_) out_ << file << ":" << line << ": " << what << "\n";
}

void BadRowLog::finish() const {
  if (count_ > shown_) {
    out_ << "tlsgate report: " << count_ << " bad rows skipped (the first " << shown_
         << " shown above)\n";
  }
}

namespace {

// Rows parsed but not yet counted, so that the aggregator's memory for each is
// fetched while the rows before it are counted (Aggregator::Lookahead): a row
// enters, its client's slot is fetched; kStage rows later its pair's counts; kStage
// rows after that it is counted. The rows' views point into the reader's
// buffer: the pipeline is emptied before the buffer is refilled, and before a row
// whose values were unescaped into the parser's scratch space is counted.
class Pipeline {
 public:
  Pipeline(const std::string& name, Aggregator& aggregator, BadRowLog& bad)
      : name_(name), aggregator_(aggregator), bad_(bad) {}

  // The next slot to fill; push() it once filled.
  struct Entry {
    Row row;
    Aggregator::Lookahead ahead;
    std::uint64_t line = 0;
    std::string error;  // non-empty: a bad row, counted as such in its turn
  };
  Entry& slot() {
    if (count_ == kDepth) pop();
    Entry& e = ring_[(head_ + count_) % kDepth];
    e.error.clear();
    return e;
  }
  void push() {
    Entry& e = ring_[(head_ + count_) % kDepth];
    ++count_;
    if (!e.error.empty()) return;
    aggregator_.look_ahead_client(e.row, e.ahead);
    if (Entry* p = aged(kStage); p != nullptr) aggregator_.look_ahead_pair(p->row, p->ahead);
  }
  void drain() {
    while (count_ > 0) pop();
  }

 private:
  static constexpr std::size_t kStage = 5;
  static constexpr std::size_t kDepth = 2 * kStage + 1;

  // The entry pushed `age` pushes before the newest, if it is still here and good.
  Entry* aged(std::size_t age) {
    if (count_ <= age) return nullptr;
    Entry& e = ring_[(head_ + count_ - 1 - age) % kDepth];
    return e.error.empty() ? &e : nullptr;
  }
  void pop() {
    Entry& e = ring_[head_];
    head_ = (head_ + 1) % kDepth;
    --count_;
    if (e.error.empty() && !aggregator_.add(e.row, error_, &e.ahead)) e.error = error_;
    if (!e.error.empty()) bad_.add(name_, e.line, e.error);
  }

  const std::string& name_;
  Aggregator& aggregator_;
  BadRowLog& bad_;
  std::array<Entry, kDepth> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::string error_;
};

}  // namespace

std::optional<std::string> feed_file(const std::string& name, ByteSource& source,
                                     Aggregator& aggregator, std::uint64_t& rows, BadRowLog& bad,
                                     std::ostream& notes, std::size_t buffer_size) {
  CsvReader reader(source, buffer_size);
  CsvRecord record;
  if (!reader.next(record)) {
    notes << name << ": empty: no header, no rows\n";
    return std::nullopt;
  }
  if (!record.error.empty()) return name + ":1: no header: " + std::string(record.error);
  const auto header = read_header(record.fields);
  if (const auto* why = std::get_if<std::string>(&header)) return name + ":1: " + *why;
  const ColumnMap& columns = std::get<ColumnMap>(header);
  aggregator.begin_file(columns);

  RowParser parser(columns);
  Pipeline pipeline(name, aggregator, bad);
  std::string error;
  for (;;) {
    if (!reader.next_buffered(record)) {
      pipeline.drain();  // the views into the buffer end here
      if (!reader.next(record)) break;
    }
    ++rows;
    Pipeline::Entry& e = pipeline.slot();
    e.line = record.line;
    if (!record.error.empty()) {
      e.error = record.error;
    } else if (!parser.parse(record, e.row, error)) {
      e.error = error;
    }
    pipeline.push();
    if (record.escapes) pipeline.drain();  // its values are in the parser's scratch space
  }
  pipeline.drain();
  if (source.cut_short()) {
    notes << name << ": the compressed data ends early (the file was cut); the rows before the "
          << "cut are counted\n";
  }
  return std::nullopt;
}

}  // namespace tlsgate::report
