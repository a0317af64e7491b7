// The CSV reading alone, two ways, on the same file: tlsgate report's reader
// (report/csv_reader.h) and Debian's libcsv (csv_parse, strict mode), each counting
// records and fields; the two counts must agree. Prints one line per reader (wall
// and CPU seconds: the machine may be shared; rows/s by CPU time):
//   result: reader=NAME records=N fields=N wall=S cpu=S rows_per_cpu_s=R
//   build/csv_reader_bench FILE
#include <csv.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "report/byte_source.h"
#include "report/csv_reader.h"

namespace {

struct Counts {
  std::uint64_t records = 0;
  std::uint64_t fields = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double cpu_seconds() {  // this thread, user and system (the read() copies)
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

Counts with_report_reader(const std::string& path) {
  const auto source = tlsgate::report::open_input(path);
  tlsgate::report::CsvReader reader(*source);
  tlsgate::report::CsvRecord record;
  Counts c;
  while (reader.next(record)) {
    ++c.records;
    c.fields += record.fields.size();
  }
  return c;
}

Counts with_libcsv(const std::string& path) {
  csv_parser parser;
  csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI);
  Counts c;
  auto field = [](void*, std::size_t, void* data) { ++static_cast<Counts*>(data)->fields; };
  auto record = [](int, void* data) { ++static_cast<Counts*>(data)->records; };
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    if (csv_parse(&parser, buffer.data(), got, field, record, &c) != got) {
      std::fprintf(stderr, "libcsv: %s\n", csv_strerror(csv_error(&parser)));
      break;
    }
  }
  csv_fini(&parser, field, record, &c);
  csv_free(&parser);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: csv_reader_bench FILE\n");
    return 2;
  }
  Counts results[2];
  const char* names[2] = {"tlsgate", "libcsv"};
  for (int i = 0; i < 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    results[i] = i == 0 ? with_report_reader(argv[1]) : with_libcsv(argv[1]);
    const double cpu = cpu_seconds() - cpu_start;
    std::printf(
        "result: reader=%s records=%llu fields=%llu wall=%.3f cpu=%.3f rows_per_cpu_s=%.0f\n",
        names[i], static_cast<unsigned long long>(results[i].records),
        static_cast<unsigned long long>(results[i].fields), seconds_since(start), cpu,
        static_cast<double>(results[i].records) / cpu);
  }
  if (results[0].records != results[1].records || results[0].fields != results[1].fields) {
    std::fprintf(stderr, "csv_reader_bench: the readers disagree\n");
    return 1;
  }
  return 0;
}
