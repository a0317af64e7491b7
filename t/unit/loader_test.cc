// The config loader: every mistake reported as FILE:LINE with the right message, all of
// them; files that cannot be read; what a good file loads to.
#include "policy/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policy/ini_source.h"
#include "t/unit/test_support.h"

namespace tlsgate::policy {
namespace {

using namespace std::string_literals;
using testing::addr;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using testing::error_strings;
using ::testing::StartsWith;
using testing::TempDir;
using testing::with_dir;

constexpr const char* kFile = "test.ini";

struct ErrorCase {
  std::string name;
  std::string text;                 // the config; "{dir}" is the scratch directory
  std::vector<std::string> errors;  // exactly these, in this order ("{dir}" as above)
};

// Files a case may refer to, in the scratch directory.
void write_fixtures(const TempDir& dir) {
  dir.write("good.txt", "203.0.113.0/24\n");
  dir.write("bad.txt",
            "# partner list\n"
            "203.0.113.0/24\n"
            "\n"
            "192.0.2.1/24   # typo\n"
            "198.51.100.0/24 198.51.100.7\n"
            "2001:db8::/129\n"
            "nonsense\n");
  dir.write("dup.txt", "# first line\n10.9.0.0/16\n");
  dir.mkdir("subdir");
}

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class LoaderErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(LoaderErrors, ReportsEveryMistake) {
  const ErrorCase& c = GetParam();
  TempDir dir;
  write_fixtures(dir);
  const LoadResult r = load_policy_text(with_dir(c.text, dir.path()), kFile, dir.path());
  std::vector<std::string> expected;
  for (const auto& e : c.errors) expected.push_back(with_dir(e, dir.path()));
  EXPECT_THAT(error_strings(r.errors), ElementsAreArray(expected));
  EXPECT_EQ(r.policy, nullptr) << "a file with mistakes loads no policy";
}

const std::string kUnknownSection =
    "] (expected [milter], [source NAME] or [partner NAME], NAME of letters, digits, - _ .)";

INSTANTIATE_TEST_SUITE_P(
    Table, LoaderErrors,
    ::testing::Values(
        ErrorCase{"unknown_section",
                  "[policy]\nanything = 1\n",
                  {"test.ini:1: unknown section [policy" + kUnknownSection}},
        ErrorCase{"unknown_section_variants",
                  "[source]\na = 1\n"
                  "[source a b]\nb = 1\n"
                  "[source bad/name]\nc = 1\n"
                  "[Milter]\nd = 1\n"
                  "[sources x]\ne = 1\n",
                  {"test.ini:1: unknown section [source" + kUnknownSection,
                   "test.ini:3: unknown section [source a b" + kUnknownSection,
                   "test.ini:5: unknown section [source bad/name" + kUnknownSection,
                   "test.ini:7: unknown section [Milter" + kUnknownSection,
                   "test.ini:9: unknown section [sources x" + kUnknownSection}},
        ErrorCase{"unknown_section_reported_once_per_header",
                  "[policy]\na = 1\nb = 2\nc = 3\n",
                  {"test.ini:1: unknown section [policy" + kUnknownSection}},
        ErrorCase{"key_before_any_section",
                  "networks = 192.0.2.0/24\n\n[source a]\nnetworks = 198.51.100.0/24\n",
                  {"test.ini:1: 'networks' is not in any section (expected [milter], "
                   "[source NAME] or [partner NAME] before it)"}},
        // Regression (fuzz_loader, issue 15): a UTF-8 byte-order mark hid line 1's
        // header from the line bookkeeping, and the error had no line.
        ErrorCase{"byte_order_mark_keeps_line_numbers",
                  "\xEF\xBB\xBF[source a]\nrequire_starttls = yes\n",
                  {"test.ini:1: [source a] has no networks (set networks or networks_file)"}},
        // A section whose keys are all commented out is not silently dropped.
        ErrorCase{"section_without_keys",
                  "[source partners]\n# networks = 192.0.2.0/24\n\n[source b]\n"
                  "networks = 198.51.100.0/24\n[source c]\n",
                  {"test.ini:1: [source partners] has no networks (set networks or networks_file)",
                   "test.ini:6: [source c] has no networks (set networks or networks_file)"}},
        ErrorCase{"unknown_section_without_keys",
                  "[policy]\n; nothing\n[source a]\nnetworks = 192.0.2.0/24\n",
                  {"test.ini:1: unknown section [policy" + kUnknownSection}},
        ErrorCase{"unknown_key",
                  "[source a]\nnetworks = 192.0.2.0/24\ncolour = blue\n",
                  {"test.ini:3: unknown key 'colour' in [source a]"}},
        ErrorCase{"milter_key_in_source_and_source_key_in_milter",
                  "[milter]\nrequire_starttls = yes\n[source a]\nnetworks = 192.0.2.0/24\n"
                  "socket = inet:8891@127.0.0.1\n[source default]\npid_file = /run/x.pid\n",
                  {"test.ini:2: unknown key 'require_starttls' in [milter]",
                   "test.ini:5: unknown key 'socket' in [source a]",
                   "test.ini:7: unknown key 'pid_file' in [source default]"}},
        ErrorCase{"key_names_are_case_sensitive",
                  "[source a]\nNetworks = 192.0.2.0/24\nnetworks = 192.0.2.0/24\n",
                  {"test.ini:2: unknown key 'Networks' in [source a]"}},
        ErrorCase{"key_set_twice",
                  "[source a]\nnetworks = 192.0.2.0/24\nrequire_starttls = yes\n"
                  "require_starttls = no\n",
                  {"test.ini:4: require_starttls is set twice in [source a] (first at line 3)"}},
        ErrorCase{"networks_set_twice",
                  "[source a]\nnetworks = 192.0.2.0/24\nnetworks = 198.51.100.0/24\n",
                  {"test.ini:3: networks is set twice in [source a] (first at line 2)"}},
        ErrorCase{"milter_key_set_twice",
                  "[milter]\nmode = monitor\nmode = monitor\n",
                  {"test.ini:3: mode is set twice in [milter] (first at line 2)"}},
        ErrorCase{"bad_boolean",
                  "[source default]\nrequire_starttls = maybe\nrequire_client_cert =\n"
                  "allow_unencrypted_plain_auth = 2\nrequire_starttls_before_auth = yess\n",
                  {"test.ini:2: require_starttls: \"maybe\" is not a boolean (yes or no)",
                   "test.ini:3: require_client_cert: \"\" is not a boolean (yes or no)",
                   "test.ini:4: allow_unencrypted_plain_auth: \"2\" is not a boolean (yes or no)",
                   "test.ini:5: require_starttls_before_auth: \"yess\" is not a boolean (yes or "
                   "no)"}},
        ErrorCase{"bad_integer",
                  "[source default]\nmin_cipher_bits = lots\n"
                  "[source a]\nnetworks = 192.0.2.0/24\nmin_cipher_bits = -1\n"
                  "[source b]\nnetworks = 192.0.3.0/24\nmin_cipher_bits = +1\n"
                  "[source c]\nnetworks = 192.0.4.0/24\nmin_cipher_bits = 1.5\n"
                  "[source d]\nnetworks = 192.0.5.0/24\nmin_cipher_bits = 1234567890\n"
                  "[source e]\nnetworks = 192.0.6.0/24\nmin_cipher_bits = 99999999999999999999\n"
                  "[source f]\nnetworks = 192.0.7.0/24\nmin_cipher_bits = 0x80\n",
                  {"test.ini:2: min_cipher_bits: \"lots\" is not a whole number",
                   "test.ini:5: min_cipher_bits: \"-1\" is not a whole number",
                   "test.ini:8: min_cipher_bits: \"+1\" is not a whole number",
                   "test.ini:11: min_cipher_bits: \"1.5\" is not a whole number",
                   "test.ini:14: min_cipher_bits: \"1234567890\" is not a whole number",
                   "test.ini:17: min_cipher_bits: \"99999999999999999999\" is not a whole number",
                   "test.ini:20: min_cipher_bits: \"0x80\" is not a whole number"}},
        ErrorCase{"bad_cidrs_each_reported",
                  "[source a]\nnetworks = not-an-address, 192.0.2.0/33 2001:db8::/129,"
                  "192.0.2.0/-1, 192.0.2.0/, 192.0.2.0/abc, ::ffff:192.0.2.0/95\n",
                  {"test.ini:2: not-an-address: not an IPv4 or IPv6 address",
                   "test.ini:2: 192.0.2.0/33: prefix length must be a number from 0 to 32",
                   "test.ini:2: 2001:db8::/129: prefix length must be a number from 0 to 128",
                   "test.ini:2: 192.0.2.0/-1: prefix length must be a number from 0 to 32",
                   "test.ini:2: 192.0.2.0/: prefix length must be a number from 0 to 32",
                   "test.ini:2: 192.0.2.0/abc: prefix length must be a number from 0 to 32",
                   "test.ini:2: ::ffff:192.0.2.0/95: an IPv4-mapped prefix must be /96 or "
                   "longer"}},
        ErrorCase{"host_bits_set",
                  "[source a]\nnetworks = 192.0.2.1/24\n",
                  {"test.ini:2: 192.0.2.1/24: host bits set; perhaps 192.0.2.0/24"}},
        ErrorCase{
            "empty_networks", "[source a]\nnetworks =\n", {"test.ini:2: networks: empty value"}},
        ErrorCase{"same_prefix_in_two_sections",
                  "[source a]\nnetworks = 192.0.2.0/24\n\n[source b]\n"
                  "networks = 198.51.100.0/24, 192.0.2.0/24\n",
                  {"test.ini:5: 192.0.2.0/24 is already in [source a] at test.ini:2"}},
        ErrorCase{"same_prefix_written_differently",
                  "[source a]\nnetworks = 2001:db8::/32, 192.0.2.0/24\n[source b]\n"
                  "networks = 2001:0DB8:0:0::/32\nnetworks_file = {dir}/good.txt\n"
                  "[source c]\nnetworks = ::ffff:192.0.2.0/120, 203.0.113.0/24\n",
                  {"test.ini:4: 2001:db8::/32 is already in [source a] at test.ini:2",
                   "test.ini:7: 192.0.2.0/24 is already in [source a] at test.ini:2",
                   "test.ini:7: 203.0.113.0/24 is already in [source b] at {dir}/good.txt:1"}},
        ErrorCase{"same_prefix_in_a_networks_file_later",
                  "[source a]\nnetworks = 10.9.0.0/16\n[source b]\nnetworks_file = dup.txt\n",
                  {"{dir}/dup.txt:2: 10.9.0.0/16 is already in [source a] at test.ini:2"}},
        ErrorCase{"same_prefix_zero_length",
                  "[source a]\nnetworks = 0.0.0.0/0\n[source b]\nnetworks = ::/0, 0.0.0.0/0\n",
                  {"test.ini:4: 0.0.0.0/0 is already in [source a] at test.ini:2"}},
        ErrorCase{"named_source_without_networks",
                  "[source a]\naction = tempfail\n\n[source b]\nnetworks = 192.0.2.0/24\n",
                  {"test.ini:1: [source a] has no networks (set networks or networks_file)"}},
        ErrorCase{"networks_in_source_default",
                  "[source default]\nnetworks = 10.0.0.0/8\nnetworks_file = good.txt\n",
                  {"test.ini:2: networks: [source default] governs every client no other source "
                   "does; it takes no networks",
                   "test.ini:3: networks_file: [source default] governs every client no other "
                   "source does; it takes no networks"}},
        ErrorCase{"unknown_min_tls_version",
                  "[source default]\nmin_tls_version = TLSv1.4\n"
                  "[source a]\nnetworks = 192.0.2.0/24\nmin_tls_version = tlsv1.2\n"
                  "[source b]\nnetworks = 192.0.3.0/24\nmin_tls_version = SSLv3\n"
                  "[source c]\nnetworks = 192.0.4.0/24\nmin_tls_version = TLSv1.0\n",
                  {"test.ini:2: min_tls_version: \"TLSv1.4\" is not one of TLSv1, TLSv1.1, "
                   "TLSv1.2, TLSv1.3",
                   "test.ini:5: min_tls_version: \"tlsv1.2\" is not one of TLSv1, TLSv1.1, "
                   "TLSv1.2, TLSv1.3",
                   "test.ini:8: min_tls_version: \"SSLv3\" is not one of TLSv1, TLSv1.1, "
                   "TLSv1.2, TLSv1.3",
                   "test.ini:11: min_tls_version: \"TLSv1.0\" is not one of TLSv1, TLSv1.1, "
                   "TLSv1.2, TLSv1.3"}},
        ErrorCase{"bad_action_and_mode",
                  "[milter]\nmode = audit\n[source default]\naction = bounce\nmode = Monitor\n",
                  {"test.ini:2: mode: \"audit\" is not enforce or monitor",
                   "test.ini:4: action: \"bounce\" is not reject or tempfail",
                   "test.ini:5: mode: \"Monitor\" is not enforce or monitor"}},
        ErrorCase{"bad_milter_values",
                  "[milter]\nsocket = inet:99999@127.0.0.1\nsocket_mode = 0999\n"
                  "syslog_facility = kern\nuser =\n",
                  {"test.ini:2: socket: \"inet:99999@127.0.0.1\": port must be a number from 1 "
                   "to 65535",
                   "test.ini:3: socket_mode: \"0999\" is not an octal file mode such as 0660",
                   "test.ini:4: syslog_facility: \"kern\" is not a syslog facility (mail, daemon, "
                   "user, auth, local0-local7)",
                   "test.ini:5: user: empty value"}},
        ErrorCase{"bad_sockets",
                  "[milter]\nsocket = tcp:25\n",
                  {"test.ini:2: socket: \"tcp:25\": expected inet:PORT@ADDR, inet6:PORT@ADDR or "
                   "unix:PATH"}},
        ErrorCase{"relative_unix_socket",
                  "[milter]\nsocket = unix:tlsgate.sock\n",
                  {"test.ini:2: socket: \"unix:tlsgate.sock\": a unix socket needs an absolute "
                   "path"}},
        ErrorCase{"unreadable_networks_file",
                  "[source a]\nnetworks = 192.0.2.0/24\nnetworks_file = missing.txt\n"
                  "[source b]\nnetworks_file = {dir}/subdir\n",
                  {"test.ini:3: networks_file {dir}/missing.txt: No such file or directory",
                   "test.ini:5: networks_file {dir}/subdir: is a directory"}},
        ErrorCase{"bad_lines_inside_networks_file",
                  "; comment\n[source a]\nnetworks_file = bad.txt\n",
                  {"{dir}/bad.txt:4: 192.0.2.1/24: host bits set; perhaps 192.0.2.0/24",
                   "{dir}/bad.txt:5: one netblock per line expected",
                   "{dir}/bad.txt:6: 2001:db8::/129: prefix length must be a number from 0 to "
                   "128",
                   "{dir}/bad.txt:7: nonsense: not an IPv4 or IPv6 address"}},
        ErrorCase{"certificate_names_without_require_client_cert",
                  "[source a]\nnetworks = 192.0.2.0/24\nclient_cert_issuer = Partner CA\n"
                  "client_cert_subject = mx.partner.example\n"
                  "[source default]\nclient_cert_subject = anyone\n",
                  {"test.ini:3: client_cert_issuer: applies only with require_client_cert = yes, "
                   "which [source a] does not set (nor a source it inherits from)",
                   "test.ini:4: client_cert_subject: applies only with require_client_cert = "
                   "yes, which [source a] does not set (nor a source it inherits from)",
                   "test.ini:6: client_cert_subject: applies only with require_client_cert = "
                   "yes, which [source default] does not set (nor a source it inherits from)"}},
        ErrorCase{"certificate_names_with_require_client_cert_set_explicitly_no",
                  "[source a]\nnetworks = 192.0.2.0/24\nrequire_client_cert = no\n"
                  "client_cert_issuer = Partner CA\n",
                  {"test.ini:4: client_cert_issuer: applies only with require_client_cert = yes, "
                   "which [source a] does not set (nor a source it inherits from)"}},
        ErrorCase{"line_without_equals",
                  "[source a]\nnetworks = 192.0.2.0/24\nthis line has no equals sign\n",
                  {"test.ini:3: syntax error (expected key = value)"}},
        ErrorCase{"several_syntax_errors",
                  "[source a]\nfirst\nnetworks = 192.0.2.0/24\nsecond\n\tthird\n"
                  "require_starttls = yes\nfourth\n",
                  {"test.ini:2: syntax error (expected key = value)",
                   "test.ini:4: syntax error (expected key = value)",
                   "test.ini:5: syntax error (expected key = value)",
                   "test.ini:7: syntax error (expected key = value)"}},
        ErrorCase{"broken_header_keys_not_misfiled",
                  // Without care, line 4 would land in [source a] as a second `networks`.
                  "[source a]\nnetworks = 10.0.0.0/8\n[source b\nnetworks = 11.0.0.0/8\n"
                  "bogus_key = 1\n[source c]\nnetworks = 12.0.0.0/8\n",
                  {"test.ini:3: bad section header (expected [name])"}},
        ErrorCase{"broken_header_first",
                  "[milter\nmode = monitor\n",
                  {"test.ini:1: bad section header (expected [name])"}},
        ErrorCase{"section_appears_twice",
                  "[source a]\nnetworks = 192.0.2.0/24\n[source b]\nnetworks = 192.0.3.0/24\n"
                  "[source a]\naction = tempfail\n",
                  {"test.ini:5: [source a] appears twice (first at line 1)"}},
        ErrorCase{"source_default_appears_twice",
                  "[source default]\naction = tempfail\n[milter]\nmode = monitor\n"
                  "[source   default]\nrequire_starttls = yes\n[milter]\nuser = mail\n",
                  {"test.ini:5: [source default] appears twice (first at line 1)",
                   "test.ini:7: [milter] appears twice (first at line 3)"}},
        ErrorCase{"section_name_too_long_for_inih",
                  // inih keeps 49 bytes of a section name: these two must not merge silently.
                  "[source " + std::string(60, 'a') +
                      "1]\nnetworks = 192.0.2.0/24\n"
                      "[source " +
                      std::string(60, 'a') + "2]\nnetworks = 192.0.3.0/24\n",
                  {"test.ini:1: section name longer than 49 characters",
                   "test.ini:3: section name longer than 49 characters"}},
        ErrorCase{"nul_byte",
                  "[source a]\nnetworks = 192.0.2.0/24\nmode = monitor\0\n"
                  "require_starttls = maybe\n"s,
                  {"test.ini:3: NUL byte in line",
                   "test.ini:4: require_starttls: \"maybe\" is not a boolean (yes or no)"}},
        ErrorCase{"overlong_line",
                  "[source a]\nnetworks = 192.0.2.0/24\nclient_cert_subject = " +
                      std::string(kMaxIniLine, 'x') + "\nrequire_starttls = maybe\n",
                  {"test.ini:3: line longer than 1048576 bytes",
                   "test.ini:4: require_starttls: \"maybe\" is not a boolean (yes or no)"}}),
    [](const auto& info) { return info.param.name; });

// OpenSSL's own words vary between versions: check the part tlsgate writes.
TEST(LoaderErrors, CipherStringsOpenSslRejects) {
  const LoadResult r = load_policy_text(
      "[source default]\n"
      "ciphers = NOSUCHCIPHER\n"
      "tls13_ciphersuites = HIGH\n"
      "[source a]\n"
      "networks = 192.0.2.0/24\n"
      "ciphers = NOSUCHCIPHER\n"  // the same string again: reported again
      "tls13_ciphersuites = ECDHE-RSA-AES256-GCM-SHA384\n"
      "[source b]\n"
      "networks = 192.0.3.0/24\n"
      "ciphers = TLS_AES_256_GCM_SHA384\n"
      "tls13_ciphersuites = TLS_NO_SUCH_SUITE\n"
      "[source c]\n"
      "networks = 192.0.4.0/24\n"
      "ciphers = !ALL\n",  // a valid cipher string that selects nothing
      kFile, "");
  EXPECT_EQ(r.policy, nullptr);
  EXPECT_THAT(
      error_strings(r.errors),
      ElementsAre(StartsWith("test.ini:2: ciphers: OpenSSL rejects \"NOSUCHCIPHER\": "),
                  StartsWith("test.ini:3: tls13_ciphersuites: OpenSSL rejects \"HIGH\": "),
                  StartsWith("test.ini:6: ciphers: OpenSSL rejects \"NOSUCHCIPHER\": "),
                  StartsWith("test.ini:7: tls13_ciphersuites: OpenSSL rejects "
                             "\"ECDHE-RSA-AES256-GCM-SHA384\": "),
                  StartsWith("test.ini:10: ciphers: OpenSSL rejects \"TLS_AES_256_GCM_SHA384\": "),
                  StartsWith("test.ini:11: tls13_ciphersuites: OpenSSL rejects "
                             "\"TLS_NO_SUCH_SUITE\": "),
                  StartsWith("test.ini:14: ciphers: OpenSSL rejects \"!ALL\": ")));
}

// One file with many kinds of mistakes: every one is reported, at its own line, in
// line order, however the syntax errors shift inih's view of the file.
TEST(LoaderErrors, EveryMistakeOfAFileWithItsLine) {
  TempDir dir;
  write_fixtures(dir);
  const std::string text =
      "; every kind of mistake\n"                   // 1
      "[milter]\n"                                  // 2
      "socket = inet:0@127.0.0.1\n"                 // 3
      "mode = audit\n"                              // 4
      "\n"                                          // 5
      "[source default]\n"                          // 6
      "networks = 10.0.0.0/8\n"                     // 7
      "require_starttls = maybe\n"                  // 8
      "garbage line\n"                              // 9
      "[source partners]\n"                         // 10
      "networks = 192.0.2.1/24, 198.51.100.0/24\n"  // 11
      "min_tls_version = TLSv1.4\n"                 // 12
      "min_cipher_bits = lots\n"                    // 13
      "ciphers = NOSUCHCIPHER\n"                    // 14
      "require_starttls = yes\n"                    // 15
      "require_starttls = no\n"                     // 16
      "colour = blue\n"                             // 17
      "[broken\n"                                   // 18
      "networks = 10.1.0.0/16\n"                    // 19
      "[source legacy]\n"                           // 20
      "networks = 198.51.100.0/24\n"                // 21
      "networks_file = missing.txt\n"               // 22
      "[source listed]\n"                           // 23
      "networks_file = bad.txt\n"                   // 24
      "[source empty]\n"                            // 25
      "action = tempfail\n"                         // 26
      "bad\0line\n"                                 // 27
      "[policy]\n"                                  // 28
      "anything = 1\n"                              // 29
      "[source partners]\n"                         // 30
      "mode = monitor\n"                            // 31
      "no equals here either\n"s;                   // 32
  const LoadResult r = load_policy_text(text, kFile, dir.path());
  EXPECT_EQ(r.policy, nullptr);
  const std::string d = dir.path();
  EXPECT_THAT(
      error_strings(r.errors),
      ElementsAre(
          // The networks_file's errors first: sorted by file, then line.
          d + "/bad.txt:4: 192.0.2.1/24: host bits set; perhaps 192.0.2.0/24",
          d + "/bad.txt:5: one netblock per line expected",
          d + "/bad.txt:6: 2001:db8::/129: prefix length must be a number from 0 to 128",
          d + "/bad.txt:7: nonsense: not an IPv4 or IPv6 address",
          "test.ini:3: socket: \"inet:0@127.0.0.1\": port must be a number from 1 to 65535",
          "test.ini:4: mode: \"audit\" is not enforce or monitor",
          "test.ini:7: networks: [source default] governs every client no other source does; it "
          "takes no networks",
          "test.ini:8: require_starttls: \"maybe\" is not a boolean (yes or no)",
          "test.ini:9: syntax error (expected key = value)",
          "test.ini:11: 192.0.2.1/24: host bits set; perhaps 192.0.2.0/24",
          "test.ini:12: min_tls_version: \"TLSv1.4\" is not one of TLSv1, TLSv1.1, TLSv1.2, "
          "TLSv1.3",
          "test.ini:13: min_cipher_bits: \"lots\" is not a whole number",
          StartsWith("test.ini:14: ciphers: OpenSSL rejects \"NOSUCHCIPHER\": "),
          "test.ini:16: require_starttls is set twice in [source partners] (first at line 15)",
          "test.ini:17: unknown key 'colour' in [source partners]",
          "test.ini:18: bad section header (expected [name])",
          "test.ini:21: 198.51.100.0/24 is already in [source partners] at test.ini:11",
          "test.ini:22: networks_file " + d + "/missing.txt: No such file or directory",
          "test.ini:25: [source empty] has no networks (set networks or networks_file)",
          "test.ini:27: NUL byte in line", "test.ini:28: unknown section [policy" + kUnknownSection,
          "test.ini:30: [source partners] appears twice (first at line 10)",
          "test.ini:32: syntax error (expected key = value)"));
}

// ---------------------------------------------------------------------------
// load_policy on the file system.

TEST(LoaderErrors, SystemChecksOfMilterValuesWithTheirLine) {
  // `tlsgate -n` and the daemon pass a check of [milter] values against the system;
  // its findings are errors like any other, and it only sees values that parsed.
  std::vector<std::string> asked;
  const LoadOptions options{
      .check_setting = [&](const KeySpec& key,
                           std::string_view value) -> std::optional<std::string> {
        asked.push_back(std::string(key.name) + "=" + std::string(value));
        if (key.type == ValueType::user) return "unknown user " + std::string(value);
        return std::nullopt;
      }};
  const LoadResult r = load_policy_text(
      "[milter]\nsocket = inet:0\nuser = nobody-here\ngroup = staff\n"
      "[source a]\nnetworks = 192.0.2.0/24\nmode = monitor\n",
      kFile, "", options);
  EXPECT_EQ(r.policy, nullptr);
  EXPECT_THAT(error_strings(r.errors),
              ElementsAre("test.ini:2: socket: \"inet:0\": port must be a number from 1 to 65535",
                          "test.ini:3: user: unknown user nobody-here"));
  EXPECT_THAT(asked, ElementsAre("user=nobody-here", "group=staff"))
      << "only [milter] values that parsed are checked";
}

TEST(LoadPolicy, MissingFile) {
  TempDir dir;
  const std::string path = dir.file("nope.ini");
  const LoadResult r = load_policy(path);
  EXPECT_EQ(r.policy, nullptr);
  EXPECT_THAT(error_strings(r.errors),
              ElementsAre(path + ": cannot read: No such file or directory"));
}

TEST(LoadPolicy, Directory) {
  TempDir dir;
  const LoadResult r = load_policy(dir.path());
  EXPECT_EQ(r.policy, nullptr);
  EXPECT_THAT(error_strings(r.errors), ElementsAre(dir.path() + ": is a directory, not a file"));
}

TEST(LoadPolicy, EmptyOrBlankFile) {
  TempDir dir;
  for (const char* content : {"", "\n", "  \n\t\n\r\n"}) {
    const std::string path = dir.write("empty.ini", content);
    const LoadResult r = load_policy(path);
    EXPECT_EQ(r.policy, nullptr);
    EXPECT_THAT(error_strings(r.errors),
                ElementsAre(path + ": the file is empty: nothing to enforce"))
        << "[" << content << "]";
  }
}

TEST(LoadPolicy, NetworksFileRelativeToTheConfigFile) {
  TempDir dir;
  dir.write("partners.txt", "192.0.2.0/24\n");
  const std::string path = dir.write("tlsgate.ini",
                                     "[source partners]\n"
                                     "networks_file = partners.txt\n"
                                     "require_starttls = yes\n");
  const LoadResult r = load_policy(path);
  ASSERT_TRUE(r.errors.empty()) << error_strings(r.errors)[0];
  ASSERT_NE(r.policy, nullptr);
  EXPECT_EQ(r.policy->rule_for(addr("192.0.2.7")).source, "partners");
  EXPECT_TRUE(r.policy->rule_for(addr("192.0.2.7")).require_starttls);
}

TEST(LoadPolicy, MilterPathsRelativeToTheConfigFile) {
  TempDir dir;
  const std::string path = dir.write("tlsgate.ini",
                                     "[milter]\n"
                                     "pid_file = tlsgate.pid\n"
                                     "accounting_file = accounting.csv\n");
  const LoadResult r = load_policy(path);
  ASSERT_TRUE(r.errors.empty()) << error_strings(r.errors)[0];
  ASSERT_NE(r.policy, nullptr);
  EXPECT_EQ(r.policy->milter().pid_file, dir.file("tlsgate.pid"));
  EXPECT_EQ(r.policy->milter().accounting_file, dir.file("accounting.csv"));
}

TEST(LoadPolicy, ErrorsNameThePathGiven) {
  TempDir dir;
  const std::string path = dir.write("bad.ini", "[source a]\nnetworks = 192.0.2.1/24\n");
  const LoadResult r = load_policy(path);
  EXPECT_EQ(r.policy, nullptr);
  EXPECT_THAT(error_strings(r.errors),
              ElementsAre(path + ":2: 192.0.2.1/24: host bits set; perhaps 192.0.2.0/24"));
}

// ---------------------------------------------------------------------------
// Files that load.

LoadResult load_ok(const std::string& text, const std::string& base_dir = "",
                   LoadOptions options = {}) {
  LoadResult r = load_policy_text(text, kFile, base_dir, options);
  EXPECT_THAT(error_strings(r.errors), ElementsAre()) << text.substr(0, 200);
  EXPECT_NE(r.policy, nullptr);
  return r;
}

TEST(LoaderFiles, NetworksFileWithCommentsAndBlankLines) {
  TempDir dir;
  dir.write("partners.txt",
            "# partners, one netblock a line\n"
            "\n"
            "192.0.2.0/24   # trailing comment\n"
            "   198.51.100.0/24\t\n"
            "\t\n"
            "2001:db8::/32\r\n"
            "#203.0.113.0/24 commented out\n"
            "  # indented comment\n"
            "::ffff:203.0.113.128/121\n"
            "192.0.2.0/24\n"  // listed twice in the same source: harmless
            "10.1.2.3");      // no final newline
  const LoadResult r = load_ok("[source partners]\nnetworks_file = partners.txt\n", dir.path());
  ASSERT_NE(r.policy, nullptr);
  const Policy& p = *r.policy;
  for (const char* a :
       {"192.0.2.1", "198.51.100.255", "2001:db8::1", "203.0.113.130", "10.1.2.3"}) {
    EXPECT_EQ(p.rule_for(addr(a)).source, "partners") << a;
  }
  for (const char* a : {"203.0.113.1", "10.1.2.4", "2001:db9::"}) {
    EXPECT_EQ(p.rule_for(addr(a)).source, "default") << a;
  }
  EXPECT_EQ(p.netblock_count(), 5u);  // 192.0.2.0/24 counts once
  EXPECT_EQ(p.source_count(), 1u);
}

// A networks_file larger than the reader's buffer, with a line longer than it, and
// netblocks from files and `networks` values interleaved: every duplicate still names
// the right FILE:LINE on both sides.
TEST(LoaderFiles, BigFilesKeepTheirLineNumbers) {
  TempDir dir;
  std::string big = "#" + std::string(600000, 'x') + "\n";  // line 1
  for (int i = 0; i < 20000; ++i) {                         // lines 2-20001
    big += "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "\n";
  }
  big += "192.0.2.0/24";  // line 20002, no final newline
  dir.write("a.txt", big);
  dir.write("b.txt", "\n\n192.0.2.0/24\n");
  const LoadResult r = load_policy_text(
      "[source a]\n"
      "networks_file = a.txt\n"
      "[source b]\n"
      "networks = 198.51.100.0/24, 10.0.0.5\n"
      "networks_file = b.txt\n"
      "[source c]\n"
      "networks = 198.51.100.0/24\n",
      kFile, dir.path());
  const std::string d = dir.path();
  EXPECT_THAT(
      error_strings(r.errors),
      ElementsAre(d + "/b.txt:3: 192.0.2.0/24 is already in [source a] at " + d + "/a.txt:20002",
                  "test.ini:4: 10.0.0.5/32 is already in [source a] at " + d + "/a.txt:7",
                  "test.ini:7: 198.51.100.0/24 is already in [source b] at test.ini:4"));

  dir.write("b.txt", "\n");
  const LoadResult ok = load_ok(
      "[source a]\nnetworks_file = a.txt\n[source b]\nnetworks = 198.51.100.0/24\n"
      "networks_file = b.txt\n",
      dir.path());
  ASSERT_NE(ok.policy, nullptr);
  EXPECT_EQ(ok.policy->netblock_count(), 20002u);
  EXPECT_EQ(ok.policy->rule_for(addr("10.0.78.31")).source, "a");  // line 20001
  EXPECT_EQ(ok.policy->rule_for(addr("10.0.78.32")).source, "default");
  EXPECT_EQ(ok.policy->rule_for(addr("192.0.2.77")).source, "a");
}

TEST(LoaderFiles, SamePrefixTwiceInOneSourceIsFine) {
  TempDir dir;
  dir.write("list.txt", "192.0.2.0/24\n2001:db8::/32\n");
  const LoadResult r = load_ok(
      "[source a]\n"
      "networks = 192.0.2.0/24, 192.0.2.0/24 ::ffff:192.0.2.0/120\n"
      "networks_file = list.txt\n"
      "[source b]\n"
      "networks = 2001:db8:1::/48, 2001:db8:1::/48\n",
      dir.path());
  ASSERT_NE(r.policy, nullptr);
  EXPECT_EQ(r.policy->rule_for(addr("192.0.2.9")).source, "a");
  EXPECT_EQ(r.policy->rule_for(addr("2001:db8::9")).source, "a");
  EXPECT_EQ(r.policy->rule_for(addr("2001:db8:1::9")).source, "b");
  EXPECT_EQ(r.policy->netblock_count(), 3u);
}

TEST(LoaderFiles, CertificateNamesUnderAnInheritedRequirement) {
  // b names an issuer and inherits require_client_cert from a; c inherits b's issuer
  // and turns the requirement off on purpose: both load.
  TempDir dir;
  const LoadResult r = load_ok(
      "[source a]\n"
      "networks = 10.0.0.0/8\n"
      "require_client_cert = yes\n"
      "[source b]\n"
      "networks = 10.1.0.0/16\n"
      "client_cert_issuer = Lab CA\n"
      "[source c]\n"
      "networks = 10.1.2.0/24\n"
      "require_client_cert = no\n",
      dir.path());
  ASSERT_NE(r.policy, nullptr);
  const Rule& b = r.policy->rule_for(addr("10.1.9.9"));
  EXPECT_TRUE(b.require_client_cert);
  EXPECT_EQ(b.client_cert_issuer, "Lab CA");
  EXPECT_FALSE(r.policy->rule_for(addr("10.1.2.3")).require_client_cert);
}

TEST(LoaderFiles, NetworksSeparators) {
  const LoadResult r = load_ok(
      "[source a]\nnetworks = 192.0.2.0/24,198.51.100.0/24 ,\t203.0.113.0/24  ,  "
      "2001:db8::/32,,\n");
  ASSERT_NE(r.policy, nullptr);
  for (const char* a : {"192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1"}) {
    EXPECT_EQ(r.policy->rule_for(addr(a)).source, "a") << a;
  }
  EXPECT_EQ(r.policy->netblock_count(), 4u);
}

TEST(LoaderFiles, SyntaxThatIsAccepted) {
  // Comments with ; and #, inline ; comments, blanks around '=', CRLF, a source
  // written [source default] explicitly, names with - _ . and digits.
  const LoadResult r = load_ok(
      "; comment\r\n"
      "# comment\r\n"
      "[milter]\r\n"
      "  mode   =   monitor   ; inline comment\r\n"
      "[ source  default ]\r\n"
      "action=tempfail\r\n"
      "[source Part-ners_2.x]\r\n"
      "networks = 192.0.2.0/24 ; the partners\r\n"
      "client_cert_subject = CN=mx.example.com;O=Example\r\n"
      "require_client_cert = yes\r\n");
  ASSERT_NE(r.policy, nullptr);
  const Rule& rule = r.policy->rule_for(addr("192.0.2.1"));
  EXPECT_EQ(rule.source, "Part-ners_2.x");
  EXPECT_EQ(rule.mode, Mode::monitor);
  EXPECT_EQ(rule.action, Action::tempfail);
  EXPECT_EQ(rule.client_cert_subject, "CN=mx.example.com;O=Example");
  EXPECT_EQ(r.policy->source_count(), 2u);
}

TEST(LoaderFiles, InlineCommentsWithSemicolonOrHashAfterABlank) {
  // One rule for every value: ; or # after a space or tab starts a comment.
  const LoadResult r = load_ok(
      "[milter] # the daemon\n"
      "mode = monitor\t# a tab before it\n"
      "[source a] ; partners\n"
      "networks = 192.0.2.0/24 # the partners, 198.51.100.0/24\n"
      "require_client_cert = yes ; needed\n"
      "client_cert_issuer = Example CA # our CA\n"
      "client_cert_subject = relay;O=x#1 ; a comment after the value\n");
  ASSERT_NE(r.policy, nullptr);
  const Rule& rule = r.policy->rule_for(addr("192.0.2.1"));
  EXPECT_EQ(rule.source, "a");
  EXPECT_EQ(rule.mode, Mode::monitor);
  EXPECT_EQ(rule.client_cert_issuer, "Example CA");
  EXPECT_EQ(rule.client_cert_subject, "relay;O=x#1") << "no blank before: part of the value";
  EXPECT_EQ(r.policy->rule_for(addr("198.51.100.1")).source, "default") << "commented out";
  EXPECT_EQ(r.policy->netblock_count(), 1u);
}

TEST(LoaderErrors, SemicolonOrHashWithoutABlankIsPartOfTheValue) {
  for (const char* mark : {";", "#"}) {
    const std::string text = "[source a]\nnetworks = 10.0.0.0/8"s + mark + "comment\n";
    const LoadResult r = load_policy_text(text, kFile, "");
    EXPECT_EQ(r.policy, nullptr) << mark;
    EXPECT_THAT(error_strings(r.errors),
                ElementsAre(StartsWith("test.ini:2: 10.0.0.0/8"s + mark + "comment: ")))
        << mark;
  }
}

TEST(LoaderFiles, ByteOrderMarkAndKeylessSectionsThatAreFine) {
  // A BOM before line 1 is not part of it; an empty [milter] or [source default]
  // changes nothing (both are optional) and is not an error.
  const LoadResult r =
      load_ok("\xEF\xBB\xBF[milter]\n[source default]\n[source a]\nnetworks = 192.0.2.0/24\n");
  ASSERT_NE(r.policy, nullptr);
  EXPECT_EQ(r.policy->rule_for(addr("192.0.2.1")).source, "a");
  EXPECT_EQ(r.policy->source_count(), 2u);
}

TEST(LoaderFiles, LongestAcceptedLine) {
  // A line of exactly kMaxIniLine bytes (without its line end) is accepted, and the
  // lines after it keep their numbers.
  const std::string prefix = "client_cert_subject = ";
  const std::string line = prefix + std::string(kMaxIniLine - prefix.size(), 's');
  ASSERT_EQ(line.size(), kMaxIniLine);
  for (const char* eol : {"\n", "\r\n"}) {
    const LoadResult r = load_policy_text(
        "[source default]\n" + line + eol + "require_starttls = maybe\nrequire_client_cert = yes\n",
        kFile, "");
    EXPECT_THAT(error_strings(r.errors),
                ElementsAre("test.ini:3: require_starttls: \"maybe\" is not a boolean (yes or "
                            "no)"));
  }
  const LoadResult ok = load_ok("[source default]\n" + line + "\nrequire_client_cert = yes\n");
  ASSERT_NE(ok.policy, nullptr);
  EXPECT_EQ(ok.policy->default_rule().client_cert_subject.size(), kMaxIniLine - prefix.size());
  // One more byte is too long, with or without a final newline.
  for (const char* eol : {"\n", ""}) {
    const LoadResult r = load_policy_text("[source default]\n" + line + "s" + eol, kFile, "");
    EXPECT_THAT(error_strings(r.errors), ElementsAre("test.ini:2: line longer than 1048576 bytes"));
  }
}

TEST(LoaderFiles, ErrorsSortedByFileThenLine) {
  TempDir dir;
  dir.write("z.txt", "bad1\n");
  dir.write("a.txt", "\nbad2\n");
  const LoadResult r = load_policy_text(
      "[source z]\nnetworks_file = z.txt\nrequire_starttls = x\n[source a]\n"
      "networks_file = a.txt\n",
      kFile, dir.path());
  const std::string d = dir.path();
  EXPECT_THAT(error_strings(r.errors),
              ElementsAre(d + "/a.txt:2: bad2: not an IPv4 or IPv6 address",
                          d + "/z.txt:1: bad1: not an IPv4 or IPv6 address",
                          "test.ini:3: require_starttls: \"x\" is not a boolean (yes or no)"));
}

TEST(LoaderFiles, KeptNetblocksForExplain) {
  const std::string text =
      "[source corp]\nnetworks = 10.0.0.0/8\n[source lab]\nnetworks = 10.1.7.0/24, "
      "2001:db8::/32\n";
  const LoadResult kept = load_ok(text, "", LoadOptions{.keep_netblocks = true});
  ASSERT_NE(kept.policy, nullptr);
  const auto m = kept.policy->matched_netblock(addr("10.1.7.9"));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->prefix.to_string(), "10.1.7.0/24");
  EXPECT_EQ(m->section, "lab");
  const auto outer = kept.policy->matched_netblock(addr("10.1.8.9"));
  ASSERT_TRUE(outer.has_value());
  EXPECT_EQ(outer->prefix.to_string(), "10.0.0.0/8");
  EXPECT_EQ(outer->section, "corp");
  EXPECT_EQ(kept.policy->matched_netblock(addr("192.0.2.1")), std::nullopt);

  const LoadResult plain = load_ok(text);
  ASSERT_NE(plain.policy, nullptr);
  EXPECT_EQ(plain.policy->matched_netblock(addr("10.1.7.9")), std::nullopt);
  EXPECT_EQ(plain.policy->rule_for(addr("10.1.7.9")).source, "lab");
}

// Found by t/fuzz/fuzz_loader: a bare CR (or any control character) inside a value was
// quoted into the error as is, so `tlsgate -n` printed a line that a terminal
// overwrote, and a reload logged it raw. Errors print control characters as \xNN.
TEST(LoaderErrorText, ControlCharactersInQuotedValuesArePrintedEscaped) {
  const LoadResult r = load_policy_text(
      "[source default]\nrequire_starttls = ye\rs\nclient_cert_subject = ok\n"
      "[source a]\nnetworks = 10.0.0.0/8 \x1b[2J\n",
      kFile, "");
  EXPECT_THAT(error_strings(r.errors),
              ElementsAre("test.ini:2: require_starttls: \"ye\\x0ds\" is not a boolean (yes or no)",
                          "test.ini:5: \\x1b[2J: not an IPv4 or IPv6 address"));
  // The message itself keeps the bytes; only its text form is escaped.
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].message, "require_starttls: \"ye\rs\" is not a boolean (yes or no)");
  EXPECT_EQ((ConfigError{"f\x7f.ini", 0, "tab\there"}.to_string()), "f\\x7f.ini: tab\\x09here");
}

// Found while writing t/fuzz/fuzz_loader's "nothing is silently ignored" property: the
// stand-in for a broken [header was a section *name* ("\x01broken", which C++ reads
// as ESC "roken"), so a file whose header was that name had every key under it
// skipped without a word and loaded as valid. Broken headers are now known by line.
TEST(LoaderErrorText, NoSectionNameSilencesItsKeys) {
  const LoadResult r = load_policy_text(
      "[\x1b"
      "roken]\nrequire_starttls = banana\n[broken]\nnetworks = 10.0.0.0/8\n"
      "[source a\nmode = whatever\n",
      kFile, "");
  EXPECT_THAT(error_strings(r.errors),
              ElementsAre(StartsWith("test.ini:1: unknown section [\\x1broken]"),
                          StartsWith("test.ini:3: unknown section [broken]"),
                          "test.ini:5: bad section header (expected [name])"));
  EXPECT_EQ(r.policy, nullptr);
}

// A header left out for a NUL byte or its length used to be blanked, so the keys under
// it were filed into the section before and reported as set twice there.
TEST(LoaderErrorText, KeysUnderARejectedHeaderAreNotBlamedOnTheSectionBefore) {
  const std::string text =
      "[source a]\nnetworks = 10.0.0.0/8\nrequire_starttls = yes\n"
      "[source b\0]\nnetworks = 10.2.0.0/16\nrequire_starttls = no\n"s +
      "[source " + std::string(kMaxIniLine, 'c') + "]\nnetworks = 10.3.0.0/16\n";
  const LoadResult r = load_policy_text(text, kFile, "");
  EXPECT_THAT(error_strings(r.errors), ElementsAre("test.ini:4: NUL byte in line",
                                                   "test.ini:7: line longer than " +
                                                       std::to_string(kMaxIniLine) + " bytes"));
}

}  // namespace
}  // namespace tlsgate::policy
