#include "report/ranking.h"

#include <algorithm>

#include "report/field_value.h"

namespace tlsgate::report {

void rank(std::vector<NamedCount>& v, std::size_t top) {
  std::sort(v.begin(), v.end(), [](const NamedCount& a, const NamedCount& b) {
    return a.count != b.count ? a.count > b.count : a.name < b.name;
  });
  if (v.size() > top) v.resize(top);
}

void rank(std::vector<ClientCount>& v, std::size_t top) {
  const auto by_count = [](const ClientCount& a, const ClientCount& b) {
    return a.count != b.count ? a.count > b.count : a.client < b.client;
  };
  if (v.size() > top) {
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(top), v.end(), by_count);
    v.resize(top);
  } else {
    std::sort(v.begin(), v.end(), by_count);
  }
}

std::vector<NamedCount> versions_in_order(const std::vector<std::uint64_t>& by_tls_text,
                                          const StringTable& tls_texts) {
  std::vector<NamedCount> known, others;
  for (std::uint32_t v = 0; v < by_tls_text.size(); ++v) {
    if (by_tls_text[v] == 0) continue;
    auto& list = v <= 4 ? known : others;
    list.push_back({displayable(tls_texts.text(v)), by_tls_text[v]});
  }
  rank(others);
  known.insert(known.end(), others.begin(), others.end());
  return known;
}

std::string reason_label(std::string_view name) {
  return name.empty() ? std::string("(none)") : displayable(name);
}

}  // namespace tlsgate::report
