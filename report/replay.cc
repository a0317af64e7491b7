#include "report/replay.h"

#include "policy/facts.h"
#include "policy/loader.h"

namespace tlsgate::report {

std::unique_ptr<Replay> Replay::load(const std::string& path,
                                     std::vector<policy::ConfigError>& errors) {
  auto loaded = policy::load_policy(path);
  if (!loaded.policy) {
    errors = std::move(loaded.errors);
    return nullptr;
  }
  return std::make_unique<Replay>(std::move(loaded.policy), path);
}

Replay::Replay(std::shared_ptr<const policy::Policy> candidate, std::string path)
    : policy_(std::move(candidate)), path_(std::move(path)) {}

std::uint32_t Replay::rule_for(const std::optional<policy::Address>& client) {
  const policy::Rule& rule = policy_->rule_for(client);
  if (const auto it = index_.find(&rule); it != index_.end()) return it->second;
  auto [named, added] =
      source_ids_.try_emplace(rule.source, static_cast<std::uint32_t>(source_names_.size()));
  if (added) source_names_.push_back(rule.source);
  Candidate c{rule, named->second};
  c.rule.mode = policy::Mode::enforce;
  const auto id = static_cast<std::uint32_t>(candidates_.size());
  candidates_.push_back(std::move(c));
  index_.emplace(&rule, id);
  return id;
}

Replay::Verdict Replay::judge(std::uint32_t rule, const Row& row) const {
  const Candidate& c = candidates_[rule];
  policy::FactText text;
  text.tls_version = row.tls_version;
  text.cipher = row.cipher;
  text.cipher_bits = row.cipher_bits;
  text.cert_subject = row.cert_subject;
  text.cert_issuer = row.cert_issuer;
  // tlsgate logs a certificate's names only for one the MTA verified.
  text.cert_verified = !row.cert_subject.empty() || !row.cert_issuer.empty();
  text.auth_type = row.auth;
  policy::SessionFacts facts = policy::parse_facts(text);
  facts.auth_before_tls = row.auth_before_tls;
  const policy::Decision d = policy::decide(c.rule, facts);
  return {d.reason, c.source};
}

}  // namespace tlsgate::report
