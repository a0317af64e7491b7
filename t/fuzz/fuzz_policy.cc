// Fuzz target: Postfix's policy delegation protocol as tlsgate reads it
// (engine/policy_request) and answers it (engine/policy_exchange), on arbitrary bytes
// cut into pieces at arbitrary places.
//
// The input's first byte picks the piece size (1 to 64 bytes); the rest is the stream.
// Properties:
//  - never a crash; the reader gives the same requests however the stream is cut
//    (byte by byte, in pieces, at once), and the same error if there is one;
//  - every request read holds at most 100 attributes, no name twice, no NUL, and
//    under 64 KiB in all;
//  - every answer is "action=...\n\n", one line, either DUNNO or a refusal of the
//    policy's reply table (4xx/5xx with a matching enhanced status code);
//  - never DUNNO where the same facts, presented cleanly in one RCPT request, are
//    refused (before MAIL, where nothing is refused, excepted).
#include <cstdint>
#include <string>
#include <vector>

#include "engine/log_format.h"
#include "engine/policy_exchange.h"
#include "engine/policy_request.h"
#include "policy/loader.h"
#include "t/fuzz/fuzz_support.h"

namespace tlsgate::fuzz {
namespace {

using engine::PolicyRequest;
using engine::PolicyRequestReader;

std::shared_ptr<const policy::Policy> the_policy;

constexpr const char* kConfig = R"([source default]
require_starttls = yes
min_tls_version = TLSv1.2
[source open]
networks = 127.0.0.2
require_starttls = no
[source monitor]
networks = 127.0.0.3
require_starttls = yes
mode = monitor
[source cert]
networks = 127.0.0.4
require_client_cert = yes
client_cert_issuer = Example CA
)";

struct Read {
  std::vector<PolicyRequest> requests;
  bool ok = true;
  std::string error;
};

Read read_in_pieces(std::string_view stream, std::size_t piece) {
  Read r;
  PolicyRequestReader reader;
  for (std::size_t at = 0; at < stream.size() && r.ok; at += piece) {
    r.ok = reader.feed(stream.substr(at, piece), r.requests, r.error);
  }
  return r;
}

std::vector<std::string> shown(const std::vector<PolicyRequest>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    std::string s;
    for (const auto& [n, v] : r.attributes()) s += n + "=" + v + "\n";
    out.push_back(s);
  }
  return out;
}

bool refusal(const std::string& answer) { return answer != "action=DUNNO\n\n"; }

// The same facts as one clean RCPT request.
std::string clean_answer(const PolicyRequest& r) {
  std::string wire = "protocol_state=RCPT\ninstance=clean\n";
  for (const char* name :
       {"client_address", "encryption_protocol", "encryption_cipher", "encryption_keysize",
        "ccert_subject", "ccert_issuer", "sasl_method", "sasl_username"}) {
    const std::string_view v = r.get(name);
    if (!v.empty() && v.find('\n') == std::string_view::npos) {
      wire += std::string(name) + "=" + std::string(v) + "\n";
    }
  }
  PolicyRequestReader reader;
  std::vector<PolicyRequest> done;
  std::string error;
  FUZZ_CHECK(reader.feed(wire + "\n", done, error) && done.size() == 1, "clean request: %s",
             error.c_str());
  engine::PolicyExchange exchange([] { return the_policy; },
                                  [](engine::Severity, const engine::LogRecord&) {});
  return exchange.answer(done.front());
}

}  // namespace
}  // namespace tlsgate::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto loaded = tlsgate::policy::load_policy_text(tlsgate::fuzz::kConfig, "fuzz.ini", "");
  if (!loaded.policy) std::abort();
  tlsgate::fuzz::the_policy = loaded.policy;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tlsgate::fuzz;
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  const Read at_once = read_in_pieces(stream, stream.size() + 1);
  const Read cut = read_in_pieces(stream, piece);
  FUZZ_CHECK(at_once.ok == cut.ok && at_once.error == cut.error,
             "cut into %zu-byte pieces: %s / %s", piece, at_once.error.c_str(), cut.error.c_str());
  FUZZ_CHECK(shown(at_once.requests) == shown(cut.requests), "the requests depend on the cuts");

  tlsgate::engine::PolicyExchange exchange(
      [] { return the_policy; },
      [](tlsgate::engine::Severity, const tlsgate::engine::LogRecord& r) {
        const std::string line = tlsgate::engine::format_log_line(r);
        FUZZ_CHECK(line.find('\n') == std::string::npos, "a log line with a newline");
      });
  for (const PolicyRequest& r : at_once.requests) {
    std::size_t bytes = 0;
    for (const auto& [n, v] : r.attributes()) {
      FUZZ_CHECK(!n.empty() && n.find('=') == std::string::npos, "attribute name %s",
                 show(n).c_str());
      bytes += n.size() + v.size() + 2;
    }
    FUZZ_CHECK(r.attributes().size() <= PolicyRequestReader::kMaxAttributes, "%zu attributes",
               r.attributes().size());
    FUZZ_CHECK(bytes <= PolicyRequestReader::kMaxRequestBytes, "%zu bytes", bytes);

    const std::string answer = exchange.answer(r);
    FUZZ_CHECK(answer.starts_with("action=") && answer.ends_with("\n\n") &&
                   answer.find('\n') == answer.size() - 2,
               "answer %s", show(answer).c_str());
    if (refusal(answer)) {
      const char cls = answer[7];
      FUZZ_CHECK((cls == '4' || cls == '5') && answer.size() > 13 && answer[11] == cls,
                 "refusal %s", show(answer).c_str());
    }
    const std::string_view state = r.get("protocol_state");
    const bool before_mail = state == "CONNECT" || state == "EHLO" || state == "HELO";
    if (!before_mail && !refusal(answer)) {
      FUZZ_CHECK(!refusal(clean_answer(r)),
                 "DUNNO where the same facts in one clean RCPT are refused");
    }
  }
  return 0;
}
