#include "engine/accounting.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

namespace tlsgate::engine {

// A file an older tlsgate wrote has fewer columns: rows appended to it would not
// match its header. It is moved aside (FILE.TIME) and a new file started.
std::optional<std::string> set_aside_other_header(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return std::nullopt;  // a device, a pipe
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "r"), std::fclose);
  if (!in) return std::nullopt;
  std::string first;
  for (int c; (c = std::fgetc(in.get())) != EOF && c != '\n' && first.size() < 4096;) {
    first += static_cast<char>(c);
  }
  if (first.empty() || first + "\n" == csv_header()) return std::nullopt;
  const std::string aside = path + "." + std::to_string(std::time(nullptr));
  if (std::rename(path.c_str(), aside.c_str()) != 0) return std::nullopt;
  return aside;
}

bool Accounting::open(const std::string& path, std::string& error) {
  const std::lock_guard lock(mutex_);
  file_.reset();
  path_ = path;
  header_pending_ = false;
  if (path.empty()) return true;
  if (const auto aside = set_aside_other_header(path); aside && report_) {
    report_("accounting_file " + path + ": written by another version (other columns): moved to " +
            *aside + ", a new file begins");
  }
  std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "a"));
  if (!f) {
    error = "accounting_file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fseek(f.get(), 0, SEEK_END);
  file_ = std::move(f);
  if (std::ftell(file_.get()) == 0) {
    header_pending_ = true;
    const int saved = write_locked(csv_header()) ? 0 : errno;
    header_pending_ = saved != 0;
    if (saved != 0) note_result(false, saved);
  }
  return true;
}

bool Accounting::write_locked(const std::string& text) {
  errno = 0;
  const bool ok = std::fwrite(text.data(), 1, text.size(), file_.get()) == text.size() &&
                  std::fflush(file_.get()) == 0;
  if (!ok) std::clearerr(file_.get());
  return ok;
}

void Accounting::note_result(bool ok, int error) {
  if (ok) {
    if (failing_ && report_) {
      report_("accounting_file " + path_ + ": writing again (" + std::to_string(lost_in_run_) +
              (lost_in_run_ == 1 ? " row" : " rows") + " lost)");
    }
    failing_ = false;
    lost_in_run_ = 0;
    return;
  }
  if (!failing_ && report_) {
    report_("accounting_file " + path_ + ": cannot write: " +
            (error != 0 ? std::string(std::strerror(error)) : std::string("write error")) +
            "; rows are lost until writes work again");
  }
  failing_ = true;
}

void Accounting::write(const LogRecord& record) {
  const std::string row = format_csv_row(record, std::time(nullptr));
  const std::lock_guard lock(mutex_);
  if (!file_) return;
  // One fwrite + fflush per row: a row is never split between two writers.
  if (header_pending_) header_pending_ = !write_locked(csv_header());
  const bool ok = !header_pending_ && write_locked(row);
  const int error = errno;
  if (!ok) {
    ++lost_in_run_;
    ++rows_lost_;
  }
  note_result(ok, error);
}

}  // namespace tlsgate::engine
