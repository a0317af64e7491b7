// Domains: the patterns a partner lists, the domain of an envelope address (hostile
// values included: they come from the network), and the index that finds the
// partners of a domain.
#include "policy/domain.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "policy/domain_index.h"

namespace tlsgate::policy {
namespace {

using namespace std::string_literals;
using Kind = EnvelopeDomain::Kind;

struct EnvelopeCase {
  std::string name;
  std::string address;
  Kind kind;
  std::string domain = "";  // for Kind::domain
};

void PrintTo(const EnvelopeCase& c, std::ostream* os) { *os << c.name; }

class Envelope : public ::testing::TestWithParam<EnvelopeCase> {};

TEST_P(Envelope, Domain) {
  const EnvelopeCase& c = GetParam();
  const EnvelopeDomain d = envelope_domain(c.address);
  EXPECT_EQ(d.kind, c.kind);
  EXPECT_EQ(d.domain, c.domain);
  EXPECT_EQ(d.has_domain(), c.kind == Kind::domain);
}

const std::string k64k(65536, 'a');

INSTANTIATE_TEST_SUITE_P(
    Table, Envelope,
    ::testing::Values(
        EnvelopeCase{"brackets", "<ceo@bank.example>", Kind::domain, "bank.example"},
        EnvelopeCase{"sendmail_mail_addr_bare", "ceo@bank.example", Kind::domain, "bank.example"},
        EnvelopeCase{"upper_case_and_trailing_dot", "<Ceo@BANK.Example.>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"blanks_around", " <ceo@bank.example > ", Kind::domain, "bank.example"},
        EnvelopeCase{"null_sender", "<>", Kind::null_path},
        EnvelopeCase{"null_sender_blank", "< >", Kind::null_path},
        EnvelopeCase{"empty", "", Kind::null_path},
        EnvelopeCase{"no_at", "<postmaster>", Kind::no_domain},
        EnvelopeCase{"quoted_local_part_with_at", "<\"a@evil.example\"@bank.example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"quoted_escaped_quote", "<\"a\\\"@evil.example\"@bank.example>", Kind::domain,
                     "bank.example"},
        // The MTA unquotes the address and splits it at its last '@': Postfix and
        // Sendmail deliver each of these, in plaintext, as mail from bank.example.
        EnvelopeCase{"everything_quoted", "<\"ceo@bank.example\">", Kind::domain, "bank.example"},
        EnvelopeCase{"unclosed_quote", "<\"ceo@bank.example>", Kind::domain, "bank.example"},
        EnvelopeCase{"quoted_local_part_naming_the_partner", "<\"bank.example@x\"@evil.example>",
                     Kind::domain, "evil.example"},
        EnvelopeCase{"comment_after_the_domain", "<ceo@bank.example (comment)>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"comment_glued", "<ceo@bank.example(x)>", Kind::domain, "bank.example"},
        EnvelopeCase{"comment_before_the_domain", "<ceo@(comment)bank.example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"nested_comment", "<ceo@(a(b)\\)c)bank.example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"comment_after_the_brackets", "<ceo@bank.example>(x)", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"unclosed_comment", "<ceo@bank.example(>", Kind::domain, "bank.example"},
        EnvelopeCase{"comment_between_words", "<ceo@bank(x)example>", Kind::unparsable},
        EnvelopeCase{"display_name", "Name<ceo@bank.example>", Kind::domain, "bank.example"},
        EnvelopeCase{"address_after_text", "ceo@bank.example<x@evil.example>", Kind::domain,
                     "evil.example"},
        EnvelopeCase{"blank_after_at", "<ceo@ bank.example>", Kind::domain, "bank.example"},
        EnvelopeCase{"blanks_between_tokens", "<ceo @ bank . example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"quoted_domain", "<ceo@\"bank.example\">", Kind::domain, "bank.example"},
        EnvelopeCase{"quoted_label", "<ceo@bank.\"example\">", Kind::domain, "bank.example"},
        EnvelopeCase{"escaped_dot", "<ceo@bank\\.example>", Kind::domain, "bank.example"},
        // Postfix's policy service sends the sender unquoted ("a(b"@d as a(b@d).
        EnvelopeCase{"unquoted_paren", "a(b@bank.example", Kind::domain, "bank.example"},
        EnvelopeCase{"unquoted_brackets", "a<b>c@bank.example", Kind::domain, "bank.example"},
        EnvelopeCase{"unquoted_quote", "a\"b@bank.example", Kind::domain, "bank.example"},
        EnvelopeCase{"backslash_at", "<a\\@evil.example@bank.example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"source_route", "<@a.example,@b.example:ceo@bank.example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"source_route_to_a_local_name", "<@a.example:postmaster>", Kind::no_domain},
        EnvelopeCase{"source_route_without_colon", "<@a.example>", Kind::unparsable},
        // The MTA reads the domain after the last '@': so does tlsgate.
        EnvelopeCase{"two_ats", "<ceo@bank.example@evil.example>", Kind::domain, "evil.example"},
        EnvelopeCase{"at_then_nothing", "<ceo@>", Kind::unparsable},
        EnvelopeCase{"address_literal", "<ceo@[192.0.2.1]>", Kind::unparsable},
        EnvelopeCase{"ipv6_address_literal", "<ceo@[IPv6:2001:db8::1]>", Kind::unparsable},
        // Sendmail delivers it, taking [host] for that host (no MX lookup).
        EnvelopeCase{"name_in_brackets", "<ceo@[Bank.Example]>", Kind::domain, "bank.example"},
        EnvelopeCase{"dotted_number", "<ceo@192.0.2.1>", Kind::unparsable},
        EnvelopeCase{"empty_label", "<ceo@bank..example>", Kind::unparsable},
        EnvelopeCase{"leading_dot", "<ceo@.bank.example>", Kind::unparsable},
        EnvelopeCase{"space_inside", "<ceo@bank example>", Kind::unparsable},
        EnvelopeCase{"nul_in_domain", "<ceo@bank.example\0evil>"s, Kind::unparsable},
        EnvelopeCase{"nul_in_local_part", "<ce\0o@bank.example>"s, Kind::domain, "bank.example"},
        EnvelopeCase{"label_of_63", "<a@" + std::string(63, 'b') + ".example>", Kind::domain,
                     std::string(63, 'b') + ".example"},
        EnvelopeCase{"label_of_64", "<a@" + std::string(64, 'b') + ".example>", Kind::unparsable},
        EnvelopeCase{"domain_of_64k", "<a@" + k64k + ">", Kind::unparsable},
        EnvelopeCase{"local_part_of_64k", "<" + k64k + "@bank.example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"utf8_local_part", "<m\xc3\xbcller@bank.example>", Kind::domain,
                     "bank.example"},
        // SMTPUTF8: an internationalized domain is matched by its A-labels, case
        // folded, full-width letters and dots mapped (UTS #46).
        EnvelopeCase{"u_label", "<a@b\xc3\xa4nk.example>", Kind::domain, "xn--bnk-qla.example"},
        EnvelopeCase{"u_label_upper_case", "<a@B\xc3\x84NK.example>", Kind::domain,
                     "xn--bnk-qla.example"},
        EnvelopeCase{"full_width_letters",
                     "<a@\xef\xbd\x82\xef\xbd\x81\xef\xbd\x8e\xef\xbd\x8b.example>", Kind::domain,
                     "bank.example"},
        EnvelopeCase{"ideographic_full_stop",
                     "<a@bank\xe3\x80\x82"
                     "example>",
                     Kind::domain, "bank.example"},
        EnvelopeCase{"invalid_utf8", "<a@\xff\xfe.example>", Kind::unparsable},
        EnvelopeCase{"a_label_as_sent", "<a@XN--BNK-QLA.example>", Kind::domain,
                     "xn--bnk-qla.example"}),
    [](const auto& info) { return info.param.name; });

TEST(EnvelopeDomain, LogText) {
  EXPECT_EQ(envelope_domain("<a@B.example>").log_text(), "b.example");
  EXPECT_EQ(envelope_domain("<>").log_text(), "<>");
  EXPECT_EQ(envelope_domain("<postmaster>").log_text(), "(none)");
  EXPECT_EQ(envelope_domain("<a@b..c>").log_text(), "(unparsable)");
  EXPECT_EQ(EnvelopeDomain{}.log_text(), "");
}

// ---------------------------------------------------------------------------
// Patterns, as sender_domains and recipient_domains list them.

struct ListCase {
  std::string name;
  std::string text;
  std::vector<std::string> patterns;  // to_string() of each; empty: `problem`
  std::string problem = "";
};

void PrintTo(const ListCase& c, std::ostream* os) { *os << c.name; }

class DomainListParse : public ::testing::TestWithParam<ListCase> {};

TEST_P(DomainListParse, PatternsOrProblem) {
  const ListCase& c = GetParam();
  const auto parsed = parse_domain_list(c.text);
  if (c.patterns.empty()) {
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
    EXPECT_EQ(std::get<std::string>(parsed), c.problem);
    return;
  }
  ASSERT_TRUE(std::holds_alternative<DomainList>(parsed)) << std::get<std::string>(parsed);
  std::vector<std::string> got;
  for (const auto& p : std::get<DomainList>(parsed).patterns) got.push_back(p.to_string());
  EXPECT_EQ(got, c.patterns);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DomainListParse,
    ::testing::Values(
        ListCase{"exact_and_subdomains",
                 "bank.example, *.bank.example",
                 {"bank.example", "*.bank.example"}},
        ListCase{"case_trailing_dot_blanks",
                 "  BANK.Example. ,\t*.Mail.Bank.EXAMPLE  ",
                 {"bank.example", "*.mail.bank.example"}},
        ListCase{"repeated_once", "a.example, A.example., a.example", {"a.example"}},
        ListCase{"a_label", "xn--bnk-qla.example", {"xn--bnk-qla.example"}},
        ListCase{"single_label", "localdomain", {"localdomain"}},
        ListCase{"empty_label", "bank..example", {}, "\"bank..example\": empty label"},
        ListCase{"star_dot", "*.", {}, "\"*.\": no domain after \"*.\""},
        ListCase{
            "star_alone", "*", {}, "\"*\": '*' only as the whole first label, as in *.d.example"},
        ListCase{"star_inside",
                 "a.*.example",
                 {},
                 "\"a.*.example\": '*' only as the whole first label, as in *.d.example"},
        ListCase{"star_glued",
                 "*bank.example",
                 {},
                 "\"*bank.example\": '*' only as the whole first label, as in *.d.example"},
        ListCase{"space_inside", "bank example", {}, "\"bank example\": a space inside"},
        ListCase{"non_ascii_label",
                 "b\xc3\xa4nk.example",
                 {},
                 "\"b\xc3\xa4nk.example\": a non-ASCII label (write it in its A-label form: "
                 "xn--bnk-qla.example)"},
        ListCase{"address_not_domain",
                 "ceo@bank.example",
                 {},
                 "\"ceo@bank.example\": '@' in a domain (name the domain, not an address)"},
        ListCase{"hyphen_at_an_end",
                 "-bank.example",
                 {},
                 "\"-bank.example\": a label starts or ends with '-'"},
        ListCase{"underscore",
                 "bank_x.example",
                 {},
                 "\"bank_x.example\": '_' is not allowed (letters, digits, '-' and '.')"},
        ListCase{"control_character",
                 "bank\x01.example",
                 {},
                 "\"bank\x01.example\": byte 0x01 is not allowed (letters, digits, '-' and '.')"},
        ListCase{"address",
                 "192.0.2.1",
                 {},
                 "\"192.0.2.1\": ends in a number: an address, not a domain name"},
        ListCase{"label_too_long",
                 std::string(64, 'a') + ".example",
                 {},
                 "\"" + std::string(64, 'a') + ".example\": a label longer than 63 characters"},
        ListCase{"name_too_long",
                 std::string(250, 'a') + ".example",
                 {},
                 "\"" + std::string(250, 'a') + ".example\": longer than 253 characters"},
        ListCase{"empty_items",
                 "a.example,,b.example,",
                 {},
                 "empty domain (two commas, or one at an end)"},
        ListCase{"every_problem_named",
                 "bank..example, good.example, *.",
                 {},
                 "\"bank..example\": empty label; \"*.\": no domain after \"*.\""}),
    [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Matching: a pattern by itself, and the index of many.

struct MatchCase {
  std::string domain;  // an envelope address's domain, as written
  std::vector<std::uint32_t> partners;
};

// Partner 0: bank.example and its subdomains. 1: only the subdomains of
// mail.bank.example. 2: legal.example.org exactly. 3: *.example.org. 4: bank.example
// twice over (exact and a subdomain pattern of its parent).
const std::vector<std::pair<std::string, std::uint32_t>> kPatterns = {
    {"bank.example", 0},      {"*.bank.example", 0}, {"*.mail.bank.example", 1},
    {"legal.example.org", 2}, {"*.example.org", 3},  {"bank.example", 4},
    {"*.example", 4},
};

const std::vector<MatchCase> kMatches = {
    {"bank.example", {0, 4}},
    {"BANK.example.", {0, 4}},
    {"mx.bank.example", {0, 4}},
    {"a.b.mail.bank.example", {0, 1, 4}},
    {"mail.bank.example", {0, 4}},  // *.mail.bank.example: subdomains only
    {"notbank.example", {4}},       // look-alike: only *.example
    {"bank.example.evil.test", {}},
    {"bankexample", {}},
    {"example", {}},
    {"legal.example.org", {2, 3}},
    {"x.legal.example.org", {3}},
    {"example.org", {}},
    {"org", {}},
};

DomainPattern pattern_of(const std::string& text) {
  auto parsed = parse_domain_list(text);
  return std::get<DomainList>(parsed).patterns.at(0);
}

TEST(DomainMatch, PatternsAndIndexAgree) {
  std::vector<DomainPattern> patterns;  // the builder keeps views into them
  for (const auto& [text, partner] : kPatterns) patterns.push_back(pattern_of(text));
  DomainIndex::Builder builder;
  for (std::size_t i = 0; i < patterns.size(); ++i) builder.add(patterns[i], kPatterns[i].second);
  const DomainIndex index = std::move(builder).build();
  EXPECT_EQ(index.domain_count(), 5u);  // bank, mail.bank, legal, example.org, example
  for (const MatchCase& c : kMatches) {
    const EnvelopeDomain d = envelope_domain("<a@" + c.domain + ">");
    ASSERT_TRUE(d.has_domain()) << c.domain;
    std::vector<std::uint32_t> by_index;
    index.for_each_match(d.domain, [&](std::uint32_t p) { by_index.push_back(p); });
    std::sort(by_index.begin(), by_index.end());
    by_index.erase(std::unique(by_index.begin(), by_index.end()), by_index.end());
    EXPECT_EQ(by_index, c.partners) << c.domain;
    std::vector<std::uint32_t> by_pattern;
    for (const auto& [text, partner] : kPatterns) {
      if (pattern_of(text).matches(d.domain)) by_pattern.push_back(partner);
    }
    std::sort(by_pattern.begin(), by_pattern.end());
    by_pattern.erase(std::unique(by_pattern.begin(), by_pattern.end()), by_pattern.end());
    EXPECT_EQ(by_pattern, c.partners) << c.domain;
  }
}

TEST(DomainMatch, EmptyIndexAndOddInput) {
  const DomainIndex empty = DomainIndex::Builder().build();
  int calls = 0;
  empty.for_each_match("bank.example", [&](std::uint32_t) { ++calls; });
  DomainIndex::Builder builder;
  const DomainPattern example = pattern_of("*.example");
  builder.add(example, 7);
  const DomainIndex index = std::move(builder).build();
  // Not canonical, as no envelope gives them: no match, no crash.
  for (const std::string& odd :
       {""s, "."s, std::string(300, '.'), std::string(253, '.'), ".example"s, "a..example"s}) {
    index.for_each_match(odd, [&](std::uint32_t) { ++calls; });
  }
  EXPECT_EQ(calls, 2) << ".example and a..example end in a label under example";
}

// Many partners: the index answers as a scan of every pattern does.
TEST(DomainMatch, IndexAgreesWithAScanOfEveryPattern) {
  std::vector<std::pair<DomainPattern, std::uint32_t>> patterns;
  for (std::uint32_t p = 0; p < 2000; ++p) {
    const std::string base =
        "p" + std::to_string(p % 700) + ".d" + std::to_string(p % 13) + ".example";
    patterns.emplace_back(DomainPattern{base, p % 3 == 0}, p);
  }
  DomainIndex::Builder builder;
  for (const auto& [pattern, p] : patterns) builder.add(pattern, p);
  const DomainIndex index = std::move(builder).build();
  std::size_t matched = 0;
  for (std::uint32_t q = 0; q < 3000; ++q) {
    std::string domain = "p" + std::to_string(q % 800) + ".d" + std::to_string(q % 17) + ".example";
    if (q % 2 == 0) domain = "mx" + std::to_string(q % 5) + "." + domain;
    std::vector<std::uint32_t> got, want;
    index.for_each_match(domain, [&](std::uint32_t p) { got.push_back(p); });
    for (const auto& [pattern, p] : patterns) {
      if (pattern.matches(domain)) want.push_back(p);
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << domain;
    matched += want.empty() ? 0 : 1;
  }
  EXPECT_GT(matched, 100u) << "the probes must hit as well as miss";
}

}  // namespace
}  // namespace tlsgate::policy
