// --what-if: a logged decision's facts judged again by a candidate configuration,
// with the policy::decide the milter runs, every source and partner as if in
// enforce mode. The partners replayed are those keyed on sender domains only,
// found by the row's sender_domain (none in files written before that column):
// the accounting file does not hold a message's recipients, so a partner with
// recipient_domains is not replayed, and a refusal one made today stands.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
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

  static constexpr std::uint32_t kNone = 0xffffffff;
  struct Verdict {
    policy::Reason reason = policy::Reason::none;  // none: the candidate lets it pass
    std::uint32_t source = 0;                      // the candidate's source (source_name)
    std::uint32_t partner = kNone;  // the candidate's partner that refused (partner_name)
    // Today's verdict stands: the row is a refusal by a partner the candidate keys on
    // recipients, which cannot be judged again without the recipient.
    bool kept = false;
  };
  // The decision the candidate's rule `rule` (from rule_for) and the partners of the
  // row's sender domain give the row's facts; `client`: the row's client address.
  Verdict judge(std::uint32_t rule, const std::optional<policy::Address>& client, const Row& row);

  std::uint32_t source_of_rule(std::uint32_t rule) const { return candidates_[rule].source; }
  const std::string& source_name(std::uint32_t source) const { return source_names_[source]; }
  std::size_t source_count() const { return source_names_.size(); }
  const std::string& path() const { return path_; }

  // The candidate's partners, in file order; only the replayed ones are judged.
  std::size_t partner_count() const { return partners_.size(); }
  const std::string& partner_name(std::uint32_t partner) const {
    return partners_[partner].partner;
  }
  bool replayed(std::uint32_t partner) const { return !partners_[partner].recipient_domains; }

 private:
  // The numbers of the replayed partners of a sender_domain value, in file order.
  const std::vector<std::uint32_t>& partners_of(std::string_view sender_domain);

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
  std::vector<policy::Rule> partners_;  // the candidate's, mode forced to enforce
  std::set<std::string, std::less<>> keyed_on_recipients_;  // their names
  struct TextHash {  // looks a string_view up without making a string of it
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<std::uint32_t>, TextHash, std::equal_to<>>
      partners_by_domain_;
  std::string last_domain_;  // consecutive rows often share a sender domain
  const std::vector<std::uint32_t>* last_partners_ = nullptr;
  std::vector<const policy::Rule*> rules_;  // judge()'s, reused
};

}  // namespace tlsgate::report
