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
    : policy_(std::move(candidate)), path_(std::move(path)), partners_(policy_->partners()) {
  for (policy::Rule& partner : partners_) {
    partner.mode = policy::Mode::enforce;
    if (partner.recipient_domains) keyed_on_recipients_.insert(partner.partner);
  }
}

const std::vector<std::uint32_t>& Replay::partners_of(std::string_view sender_domain) {
  if (last_partners_ != nullptr && sender_domain == last_domain_) return *last_partners_;
  auto it = partners_by_domain_.find(sender_domain);
  if (it == partners_by_domain_.end()) {
    std::vector<std::uint32_t> numbers;
    // The column holds a domain as tlsgate logged it, or "<>", "(none)",
    // "(unparsable)", which match no partner (nor does an empty one: no MAIL FROM);
    // read again as the milter reads MAIL FROM, so that only a domain matches.
    const policy::EnvelopeDomain domain =
        sender_domain.empty() ? policy::EnvelopeDomain{}
                              : policy::envelope_domain("<u@" + std::string(sender_domain) + ">");
    if (domain.has_domain()) {
      const policy::Rule* first = policy_->partners().data();
      for (const policy::Rule* r : policy_->partners_for_sender(domain).for_transaction) {
        numbers.push_back(static_cast<std::uint32_t>(r - first));
      }
    }
    it = partners_by_domain_.emplace(std::string(sender_domain), std::move(numbers)).first;
  }
  last_domain_ = sender_domain;
  last_partners_ = &it->second;
  return it->second;
}

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

Replay::Verdict Replay::judge(std::uint32_t rule, const std::optional<policy::Address>& client,
                              const Row& row) {
  const Candidate& c = candidates_[rule];
  if (row.action != Action::accept && !row.partner.empty() &&
      keyed_on_recipients_.contains(row.partner)) {
    return {policy::Reason::none, c.source, kNone, true};
  }
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
  facts.client = client;  // a partner's networks are checked against it
  const std::vector<std::uint32_t>& partners = partners_of(row.sender_domain);
  if (partners.empty()) return {policy::decide(c.rule, facts).reason, c.source};
  rules_.assign(1, &c.rule);
  for (const std::uint32_t p : partners) rules_.push_back(&partners_[p]);
  const policy::Decision d = policy::decide(rules_, facts);
  Verdict v{d.reason, c.source};
  for (const std::uint32_t p : partners) {
    if (!d.partner.empty() && partners_[p].partner == d.partner) v.partner = p;
  }
  return v;
}

}  // namespace tlsgate::report
