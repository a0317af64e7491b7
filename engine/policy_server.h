// The policy-service front end's network side: Postfix's smtpd processes connect
// (one persistent connection each, hundreds, idle most of the time) and send
// requests; Boost.Asio serves them all from one thread, so a slow or half-written
// request holds up nobody. Each connection has its own PolicyExchange.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "engine/policy_exchange.h"
#include "policy/socket_spec.h"

namespace tlsgate::engine {

class PolicyServer {
 public:
  using Report = std::function<void(const std::string&)>;  // errors worth a log line
  PolicyServer(PolicyExchange::PolicySource policy, DecisionSink sink, Report report);
  ~PolicyServer();
  PolicyServer(const PolicyServer&) = delete;
  PolicyServer& operator=(const PolicyServer&) = delete;

  // Opens the listening socket (a unix one with `unix_mode` and, if not empty, the
  // group `unix_group`), or says why it cannot: in use, no such address, ...
  std::optional<std::string> listen(const policy::SocketSpec& spec, unsigned unix_mode,
                                    const std::string& unix_group);
  void start();           // serves from its own thread
  void stop_accepting();  // no new connections; the open ones go on
  void stop();            // closes everything and joins the thread
  std::size_t connections() const { return connections_.load(); }

  struct Impl;  // the Asio side, in policy_server.cc

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<std::size_t> connections_{0};
  std::thread thread_;
};

}  // namespace tlsgate::engine
