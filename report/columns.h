// The columns of an accounting file, found by the names in its header: files
// written by older tlsgate versions lack the newer columns (transaction,
// auth_before_tls, partner, sender_domain), and a later version may add more
// (ignored here).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tlsgate::report {

enum class Column {
  time,
  queue_id,
  client,
  source,
  action,
  reason,
  tls_version,
  cipher,
  cipher_bits,
  cert_subject,
  cert_issuer,
  auth,
  auth_user,
  credentials_exposed,
  transaction,
  auth_before_tls,
  partner,
  sender_domain,
};
inline constexpr std::size_t kColumnCount = 18;

// Without these a row cannot be counted at all.
inline constexpr std::array<Column, 4> kRequiredColumns = {Column::time, Column::client,
                                                           Column::source, Column::action};

std::string_view column_name(Column c);

struct ColumnMap {
  std::array<int, kColumnCount> index{};  // field number, -1: not in this file
  std::size_t width = 0;                  // fields in the header (and so in every row)

  bool has(Column c) const { return index[static_cast<std::size_t>(c)] >= 0; }
  int operator[](Column c) const { return index[static_cast<std::size_t>(c)]; }
};

// The map of a file's first record, or why it is not a usable header.
std::variant<ColumnMap, std::string> read_header(std::span<const std::string_view> fields);

}  // namespace tlsgate::report
