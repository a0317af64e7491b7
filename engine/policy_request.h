// Postfix's policy delegation protocol (SMTPD_POLICY_README), the reading side: a
// request is "name=value" lines ended by an empty line. Read by hand, defensively:
// the bytes come from a socket anyone who can reach it can write to.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlsgate::engine {

// One request's attributes, in the order sent.
class PolicyRequest {
 public:
  // The value of `name`, or empty when it was not sent (Postfix sends an empty
  // value for what it does not know, e.g. encryption_protocol= without TLS).
  std::string_view get(std::string_view name) const;
  // The same, but nullopt when it was not sent (sender= empty is the null sender).
  std::optional<std::string_view> find(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& attributes() const { return attrs_; }

 private:
  friend class PolicyRequestReader;
  std::vector<std::pair<std::string, std::string>> attrs_;
};

// Reads requests from a byte stream that arrives in pieces of any size.
class PolicyRequestReader {
 public:
  // Bounds on what one request may cost: larger is an error, and the connection
  // is closed (Postfix sends a few dozen attributes, well under 4 KiB).
  static constexpr std::size_t kMaxRequestBytes = 64 * 1024;
  static constexpr std::size_t kMaxAttributes = 100;

  // Takes the next bytes; appends each request they complete to `done`. Returns
  // false on a malformed request (a line without '=', an empty name, a NUL byte, a
  // name sent twice, too many attributes, too many bytes), with `error` saying
  // which; the stream cannot be read on after that.
  bool feed(std::string_view bytes, std::vector<PolicyRequest>& done, std::string& error);

 private:
  bool take_line(std::string_view line, std::vector<PolicyRequest>& done, std::string& error);

  std::string partial_;    // a line not yet ended
  PolicyRequest current_;  // the attributes of the request being read
  std::size_t request_bytes_ = 0;
};

// The answer to a request: "action=TEXT" and the empty line.
std::string policy_answer(std::string_view action);

}  // namespace tlsgate::engine
