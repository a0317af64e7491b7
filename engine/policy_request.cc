#include "engine/policy_request.h"

#include <algorithm>

namespace tlsgate::engine {

std::optional<std::string_view> PolicyRequest::find(std::string_view name) const {
  for (const auto& [n, v] : attrs_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::string_view PolicyRequest::get(std::string_view name) const {
  return find(name).value_or(std::string_view());
}

bool PolicyRequestReader::take_line(std::string_view line, std::vector<PolicyRequest>& done,
                                    std::string& error) {
  if (line.empty()) {  // the end of a request
    done.push_back(std::move(current_));
    current_ = {};
    request_bytes_ = 0;
    return true;
  }
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) {
    error = "a line without '='";
    return false;
  }
  if (eq == 0) {
    error = "an attribute without a name";
    return false;
  }
  const std::string_view name = line.substr(0, eq);
  const auto& attrs = current_.attrs_;
  if (std::any_of(attrs.begin(), attrs.end(), [&](const auto& a) { return a.first == name; })) {
    error = "attribute " + std::string(name.substr(0, 64)) + " sent twice";
    return false;
  }
  if (attrs.size() == kMaxAttributes) {
    error = "more than " + std::to_string(kMaxAttributes) + " attributes";
    return false;
  }
  current_.attrs_.emplace_back(name, line.substr(eq + 1));
  return true;
}

bool PolicyRequestReader::feed(std::string_view bytes, std::vector<PolicyRequest>& done,
                               std::string& error) {
  while (!bytes.empty()) {
    const auto nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    if (piece.find('\0') != std::string_view::npos) {
      error = "a NUL byte";
      return false;
    }
    request_bytes_ += piece.size() + (nl == std::string_view::npos ? 0 : 1);
    if (request_bytes_ > kMaxRequestBytes) {
      error = "a request over " + std::to_string(kMaxRequestBytes / 1024) + " KiB";
      return false;
    }
    if (nl == std::string_view::npos) {  // the rest of the line comes later
      partial_.append(piece);
      return true;
    }
    bool ok = true;
    if (partial_.empty()) {
      ok = take_line(piece, done, error);
    } else {
      partial_.append(piece);
      ok = take_line(partial_, done, error);
      partial_.clear();
    }
    if (!ok) return false;
    bytes.remove_prefix(nl + 1);
  }
  return true;
}

std::string policy_answer(std::string_view action) {
  return "action=" + std::string(action) + "\n\n";
}

}  // namespace tlsgate::engine
