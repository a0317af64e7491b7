// tlsgate's command line: check a configuration, explain a decision, or run the milter.
#include <getopt.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "engine/system_check.h"
#include "engine/version.h"
#include "milter/daemon.h"
#include "policy/explain.h"
#include "policy/facts.h"
#include "policy/loader.h"
#include "report/run.h"

namespace {

using namespace tlsgate;

constexpr const char* kDefaultConfig = "/etc/tlsgate/tlsgate.ini";

// Exit codes, as documented in -h and README.md.
enum Exit { kOk = 0, kConfigError = 1, kUsage = 2 };

constexpr const char* kUsageText =
    R"(Usage: tlsgate [-c FILE] [-f] [-p SOCKET]
       tlsgate [-c FILE] -n
       tlsgate [-c FILE] --explain ADDR [--tls-version V] [--cipher NAME] [--bits N]
                         [--auth MECH] [--cert-verified] [--cert-subject S] [--cert-issuer I]
                         [--sender ADDRESS] [--recipient ADDRESS]...
       tlsgate report [OPTIONS] CSV...   (the rollout report: tlsgate report -h)
       tlsgate -V | -h

Enforces TLS rules per client netblock for Postfix and Sendmail (a milter).

  -c, --config FILE   configuration file (default /etc/tlsgate/tlsgate.ini)
  -n, --check         check the configuration as a start would, without binding
                      (user and group exist, the socket's host resolves), print
                      "OK: N sources, M netblocks[, P partners]; monitor:
                      SOURCES" (the sources and partners in monitor mode, as
                      inherited) or every error as FILE:LINE: message, and exit
      --explain ADDR  show the source governing ADDR (an IPv4/IPv6 address, or
                      "unknown"), the merged rules with the origin of each value,
                      and the decision for the session described by:
      --tls-version V   TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (none, or no option: plaintext;
                        any other text is judged as no TLS, as from an MTA)
      --cipher NAME     OpenSSL cipher name, e.g. ECDHE-RSA-AES256-GCM-SHA384
      --bits N          cipher key size
      --auth MECH       SASL mechanism the client authenticated with
      --cert-verified   the MTA verified the client certificate named by
      --cert-subject S, --cert-issuer I   its subject's and issuer's CN
      --sender ADDRESS  MAIL FROM's address (<> the null sender): the partners
                        whose sender_domains match, and the decision at MAIL
      --recipient ADDRESS   RCPT TO's address, repeatable: the partners whose
                        recipient_domains match, and the decision for each
  -f, --foreground    run in the foreground, also log to stderr
  -p, --socket SPEC   override [milter] socket (the same syntax, checked the same
                      way, also with -n)
  -V, --version       print the version
  -h, --help          print this help

Signals: SIGUSR1 reloads the configuration (a bad file is logged and the running
policy kept) and reopens the accounting file; SIGTERM, SIGINT and SIGHUP stop it,
letting the sessions in flight finish (up to 10 s; SIGHUP is no reload).

Exit status: 0 success; 1 configuration errors, or the daemon cannot start (the
socket is in use, privileges cannot be dropped, ...); 2 usage error.
)";

struct Options {
  std::string config = kDefaultConfig;
  bool check = false;
  std::optional<std::string> explain_address;
  policy::FactText facts;
  policy::ExplainEnvelope envelope;
  bool foreground = false;
  std::optional<std::string> socket;
};

enum LongOnly {
  kExplain = 256,
  kTlsVersion,
  kCipher,
  kBits,
  kAuth,
  kCertVerified,
  kSubject,
  kIssuer,
  kSender,
  kRecipient
};

int usage_error(const std::string& message) {
  std::cerr << "tlsgate: " << message << "\n"
            << "Try 'tlsgate -h'.\n";
  return kUsage;
}

int print_errors(const std::vector<policy::ConfigError>& errors) {
  for (const auto& e : errors) std::cerr << e.to_string() << "\n";
  std::cerr << "tlsgate: " << errors.size() << (errors.size() == 1 ? " error" : " errors")
            << "; configuration not loaded\n";
  return kConfigError;
}

int run_check(const Options& o) {
  // What a start checks, without binding: the values of [milter] against this system.
  const auto loaded = policy::load_policy(o.config, {.check_setting = engine::check_setting_here});
  if (!loaded.policy) return print_errors(loaded.errors);
  std::cout << "OK: " << loaded.policy->summary() << "\n";
  return kOk;
}

int run_explain(const Options& o) {
  std::optional<policy::Address> client;
  if (*o.explain_address != "unknown") {
    client = policy::Address::parse(*o.explain_address);
    if (!client) return usage_error("--explain: '" + *o.explain_address + "' is not an IP address");
  }
  if (o.facts.cert_verified && o.facts.cert_subject.empty() && o.facts.cert_issuer.empty()) {
    // The daemon counts a certificate only when the MTA names it.
    return usage_error("--cert-verified needs --cert-subject or --cert-issuer");
  }
  const auto loaded = policy::load_policy(o.config, {.keep_netblocks = true});
  if (!loaded.policy) return print_errors(loaded.errors);
  std::cout << policy::explain(*loaded.policy, client, policy::parse_facts(o.facts), o.envelope);
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  // The rollout report (report/) is a subcommand with options of its own.
  if (argc > 1 && std::string_view(argv[1]) == "report") {
    return report::run_report(argc - 1, argv + 1);
  }
  static const option kLong[] = {
      {"config", required_argument, nullptr, 'c'},
      {"check", no_argument, nullptr, 'n'},
      {"foreground", no_argument, nullptr, 'f'},
      {"socket", required_argument, nullptr, 'p'},
      {"version", no_argument, nullptr, 'V'},
      {"help", no_argument, nullptr, 'h'},
      {"explain", required_argument, nullptr, kExplain},
      {"tls-version", required_argument, nullptr, kTlsVersion},
      {"cipher", required_argument, nullptr, kCipher},
      {"bits", required_argument, nullptr, kBits},
      {"auth", required_argument, nullptr, kAuth},
      {"cert-verified", no_argument, nullptr, kCertVerified},
      {"cert-subject", required_argument, nullptr, kSubject},
      {"cert-issuer", required_argument, nullptr, kIssuer},
      {"sender", required_argument, nullptr, kSender},
      {"recipient", required_argument, nullptr, kRecipient},
      {nullptr, 0, nullptr, 0},
  };
  Options o;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, ":c:nfp:Vh", kLong, nullptr)) != -1;) {
    switch (c) {
      case 'c': o.config = optarg; break;
      case 'n': o.check = true; break;
      case 'f': o.foreground = true; break;
      case 'p': o.socket = optarg; break;
      case 'V': std::cout << "tlsgate " << kVersion << "\n"; return kOk;
      case 'h': std::cout << kUsageText; return kOk;
      case kExplain: o.explain_address = optarg; break;
      case kTlsVersion: o.facts.tls_version = optarg; break;
      case kCipher: o.facts.cipher = optarg; break;
      case kBits: o.facts.cipher_bits = optarg; break;
      case kAuth: o.facts.auth_type = optarg; break;
      case kCertVerified: o.facts.cert_verified = true; break;
      case kSubject: o.facts.cert_subject = optarg; break;
      case kIssuer: o.facts.cert_issuer = optarg; break;
      case kSender: o.envelope.sender = optarg; break;
      case kRecipient: o.envelope.recipients.push_back(optarg); break;
      case ':': return usage_error(std::string("option needs a value: ") + argv[optind - 1]);
      default: return usage_error(std::string("unknown option: ") + argv[optind - 1]);
    }
  }
  if (optind < argc) return usage_error(std::string("unexpected argument: ") + argv[optind]);
  if (o.check && o.explain_address) return usage_error("-n and --explain do not go together");
  if (!o.explain_address && (o.envelope.sender || !o.envelope.recipients.empty())) {
    return usage_error("--sender and --recipient go with --explain");
  }
  // The check [milter] socket gets, at a start and with -n alike (libmilter would take
  // "-p foo" as a unix socket ./foo).
  if (o.socket) {
    if (auto problem = engine::check_socket_here(*o.socket)) {
      return usage_error("-p " + *o.socket + ": " + *problem);
    }
  }
  if (o.check) return run_check(o);
  if (o.explain_address) return run_explain(o);
  return milter::run_daemon({o.config, o.foreground, o.socket});
}
