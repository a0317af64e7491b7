#include "engine/policy_server.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <vector>

#include "engine/metrics.h"
#include "engine/unix_socket.h"

namespace tlsgate::engine {
namespace asio = boost::asio;

struct PolicyServer::Impl {
  asio::io_context io;
  std::optional<asio::ip::tcp::acceptor> tcp;
  std::optional<asio::local::stream_protocol::acceptor> local;
  std::string unix_path;  // removed at stop
  PolicyExchange::PolicySource policy;
  DecisionSink sink;
  Report report;
  std::atomic<std::size_t>* connections = nullptr;
};

namespace {

// One Postfix smtpd's connection: read what arrives, answer each complete
// request, write the answers, read on. A malformed request closes it (Postfix
// then answers its smtpd_policy_service_default_action: 451 4.3.5, a tempfail).
template <class Socket>
class Connection : public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(Socket socket, PolicyServer::Impl& server)
      : socket_(std::move(socket)), server_(server), exchange_(server.policy, server.sink) {
    ++*server_.connections;
  }
  ~Connection() { --*server_.connections; }

  void read() {
    auto self = this->shared_from_this();
    socket_.async_read_some(asio::buffer(buffer_),
                            [self](boost::system::error_code ec, std::size_t n) {
                              if (ec) return;  // closed by the client, or the server stopping
                              self->take(n);
                            });
  }

 private:
  void take(std::size_t n) {
    std::vector<PolicyRequest> requests;
    std::string error;
    if (!reader_.feed(std::string_view(buffer_.data(), n), requests, error)) {
      server_.report("policy service: a malformed request (" + error + "): connection closed");
      return;  // the last reference goes, and the socket closes
    }
    for (const PolicyRequest& r : requests) {
      try {
        out_ += exchange_.answer(r);
      } catch (const std::exception& e) {
        // Never an answer that might let through what the policy forbids.
        server_.report(std::string("internal error in the policy service: ") + e.what() +
                       "; connection closed (Postfix tempfails)");
        metrics().count_internal_error("policy");
        return;
      }
    }
    if (out_.empty()) return read();
    auto self = this->shared_from_this();
    asio::async_write(socket_, asio::buffer(out_),
                      [self](boost::system::error_code ec, std::size_t) {
                        self->out_.clear();
                        if (!ec) self->read();
                      });
  }

  Socket socket_;
  PolicyServer::Impl& server_;
  PolicyExchange exchange_;
  PolicyRequestReader reader_;
  std::array<char, 4096> buffer_{};
  std::string out_;
};

template <class Acceptor>
void accept(Acceptor& acceptor, PolicyServer::Impl& server) {
  acceptor.async_accept([&acceptor, &server](boost::system::error_code ec, auto socket) {
    if (ec == asio::error::operation_aborted) return;  // stop_accepting
    if (!ec) {
      std::make_shared<Connection<decltype(socket)>>(std::move(socket), server)->read();
    }
    accept(acceptor, server);
  });
}

}  // namespace

PolicyServer::PolicyServer(PolicyExchange::PolicySource policy, DecisionSink sink, Report report)
    : impl_(std::make_unique<Impl>()) {
  impl_->policy = std::move(policy);
  impl_->sink = std::move(sink);
  impl_->report = std::move(report);
  impl_->connections = &connections_;
}

PolicyServer::~PolicyServer() { stop(); }

std::optional<std::string> PolicyServer::listen(const policy::SocketSpec& spec, unsigned unix_mode,
                                                const std::string& unix_group) {
  boost::system::error_code ec;
  if (spec.kind == policy::SocketSpec::Kind::unix_path) {
    if (auto problem = claim_unix_socket(spec.path)) return problem;
    auto& a = impl_->local.emplace(impl_->io);
    a.open(asio::local::stream_protocol(), ec);
    if (!ec) a.bind(asio::local::stream_protocol::endpoint(spec.path), ec);
    if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return ec.message();
    impl_->unix_path = spec.path;
    if (chmod(spec.path.c_str(), unix_mode) != 0) {
      return "chmod " + spec.path + ": " + std::strerror(errno);
    }
    if (!unix_group.empty()) {
      const group* g = getgrnam(unix_group.c_str());
      if (g == nullptr) return "unknown group " + unix_group;
      if (chown(spec.path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
        return "chown " + spec.path + ": " + std::strerror(errno);
      }
    }
    return std::nullopt;
  }
  asio::ip::tcp::resolver resolver(impl_->io);
  const bool v6 = spec.kind == policy::SocketSpec::Kind::inet6;
  const std::string host = spec.host.empty() ? (v6 ? "::" : "0.0.0.0") : spec.host;
  const auto found = resolver.resolve(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), host,
                                      std::to_string(spec.port), ec);
  if (ec || found.empty()) return host + ": " + (ec ? ec.message() : "no address");
  const asio::ip::tcp::endpoint endpoint = found.begin()->endpoint();
  auto& a = impl_->tcp.emplace(impl_->io);
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec.message();
  return std::nullopt;
}

void PolicyServer::start() {
  if (impl_->tcp) accept(*impl_->tcp, *impl_);
  if (impl_->local) accept(*impl_->local, *impl_);
  thread_ = std::thread([this] { impl_->io.run(); });
}

void PolicyServer::stop_accepting() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    if (impl_->tcp) impl_->tcp->close(ec);
    if (impl_->local) impl_->local->close(ec);
  });
}

void PolicyServer::stop() {
  if (!thread_.joinable()) return;
  impl_->io.stop();
  thread_.join();
  if (!impl_->unix_path.empty()) unlink(impl_->unix_path.c_str());
}

}  // namespace tlsgate::engine
