#include "report/columns.h"

#include "report/field_value.h"

namespace tlsgate::report {
namespace {

constexpr std::array<std::string_view, kColumnCount> kNames = {"time",        "queue_id",
                                                               "client",      "source",
                                                               "action",      "reason",
                                                               "tls_version", "cipher",
                                                               "cipher_bits", "cert_subject",
                                                               "cert_issuer", "auth",
                                                               "auth_user",   "credentials_exposed",
                                                               "transaction", "auth_before_tls",
                                                               "partner",     "sender_domain"};

}  // namespace

std::string_view column_name(Column c) { return kNames[static_cast<std::size_t>(c)]; }

std::variant<ColumnMap, std::string> read_header(std::span<const std::string_view> fields) {
  ColumnMap map;
  map.index.fill(-1);
  map.width = fields.size();
  std::size_t known = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    for (std::size_t c = 0; c < kColumnCount; ++c) {
      if (fields[i] != kNames[c]) continue;
      if (map.index[c] >= 0) return "column '" + std::string(kNames[c]) + "' named twice";
      map.index[c] = static_cast<int>(i);
      ++known;
    }
  }
  if (known == 0) {
    std::string first = fields.empty() ? std::string() : printable(fields.front(), 40);
    return "no header: the first line must name the columns (time,queue_id,client,source,"
           "action,...), it starts with \"" +
           first + "\"";
  }
  std::string missing;
  for (const Column c : kRequiredColumns) {
    if (map.has(c)) continue;
    missing += missing.empty() ? "" : ", ";
    missing += column_name(c);
  }
  if (!missing.empty()) {
    return "required column" + std::string(missing.find(',') == std::string::npos ? " " : "s ") +
           missing + " missing from the header (required: time, client, source, action)";
  }
  return map;
}

}  // namespace tlsgate::report
