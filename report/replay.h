// --what-if: a logged decision's facts judged again by a candidate configuration,
// with the policy::decide the milter runs, every source as if in enforce mode.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "policy/address.h"
#include "policy/config_error.h"
#include "policy/decision.h"
#include "policy/policy.h"
#include "report/row.h"

namespace tlsgate::report {

class Replay {
 public:
  // Loads the candidate; nullopt with `errors` set when it does not load.
  static std::unique_ptr<Replay> load(const std::string& path,
                                      std::vector<policy::ConfigError>& errors);
  explicit Replay(std::shared_ptr<const policy::Policy> candidate, std::string path);

  // The candidate's rule for a client, numbered: what a client record keeps, so that
  // the netblock lookup runs once per distinct client.
  std::uint32_t rule_for(const std::optional<policy::Address>& client);

  struct Verdict {
    policy::Reason reason = policy::Reason::none;  // none: the candidate lets it pass
    std::uint32_t source = 0;                      // the candidate's source (source_name)
  };
  // The decision the candidate's rule `rule` (from rule_for) gives the row's facts.
  Verdict judge(std::uint32_t rule, const Row& row) const;

  std::uint32_t source_of_rule(std::uint32_t rule) const { return candidates_[rule].source; }
  const std::string& source_name(std::uint32_t source) const { return source_names_[source]; }
  std::size_t source_count() const { return source_names_.size(); }
  const std::string& path() const { return path_; }

 private:
  struct Candidate {
    policy::Rule rule;  // the candidate's rule, mode forced to enforce
    std::uint32_t source;
  };

  std::shared_ptr<const policy::Policy> policy_;
  std::string path_;
  std::vector<Candidate> candidates_;
  std::unordered_map<const policy::Rule*, std::uint32_t> index_;
  std::vector<std::string> source_names_;
  std::unordered_map<std::string, std::uint32_t> source_ids_;
};

}  // namespace tlsgate::report
