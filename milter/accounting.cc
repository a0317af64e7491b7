#include "milter/accounting.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace tlsgate::milter {

bool Accounting::open(const std::string& path, std::string& error) {
  const std::lock_guard lock(mutex_);
  file_.reset();
  if (path.empty()) return true;
  std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "a"));
  if (!f) {
    error = "accounting_file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::fseek(f.get(), 0, SEEK_END);
  if (std::ftell(f.get()) == 0) {
    const std::string header = csv_header();
    std::fwrite(header.data(), 1, header.size(), f.get());
    std::fflush(f.get());
  }
  file_ = std::move(f);
  return true;
}

void Accounting::write(const LogRecord& record) {
  const std::string row = format_csv_row(record, std::time(nullptr));
  const std::lock_guard lock(mutex_);
  if (!file_) return;
  // One fwrite + fflush per row: a row is never split between two writers.
  std::fwrite(row.data(), 1, row.size(), file_.get());
  std::fflush(file_.get());
}

}  // namespace tlsgate::milter
