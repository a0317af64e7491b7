#include "milter/callbacks.h"

#include <array>
#include <atomic>
#include <exception>
#include <memory>
#include <string>

#include "engine/live_sessions.h"
#include "engine/logger.h"
#include "engine/metrics.h"
#include "engine/policy_store.h"
#include "engine/session.h"

namespace tlsgate::milter {
// The libmilter-free engine this glue drives.
using namespace engine;
namespace {

PolicyStore* store = nullptr;
// Whether the MTA took tlsgate's macro lists (negotiate), per process: every
// connection comes from the same MTA.
std::atomic<bool> macro_lists_taken{true};

void log_decision(Severity severity, const LogRecord& record) {
  store->log_decision(severity, record);
}

// The protocol steps tlsgate asks the MTA to leave out, so that a one-message
// session costs three replies (negotiation, MAIL, end of message): no CONNECT (the
// client comes as {client_addr} at MAIL), no RCPT (the facts do not change after
// MAIL; but RCPT is kept while the policy has recipient partners), no DATA,
// headers or body, and HELO without a reply (its macros still arrive: Sendmail's
// AUTH history needs them). Each is taken where the MTA offers it.
struct Step {
  unsigned long flag;
  const char* name;
};
constexpr std::array<Step, 8> kLeftOut{{{SMFIP_NOCONNECT, "SMFIP_NOCONNECT"},
                                        {SMFIP_NORCPT, "SMFIP_NORCPT"},
                                        {SMFIP_NODATA, "SMFIP_NODATA"},
                                        {SMFIP_NOHDRS, "SMFIP_NOHDRS"},
                                        {SMFIP_NOEOH, "SMFIP_NOEOH"},
                                        {SMFIP_NOBODY, "SMFIP_NOBODY"},
                                        {SMFIP_NOUNKNOWN, "SMFIP_NOUNKNOWN"},
                                        {SMFIP_NR_HELO, "SMFIP_NR_HELO"}}};

// One milter connection: the steps negotiated, and the session once one begins
// (at CONNECT, or at the first HELO or MAIL where CONNECT is left out).
struct Connection {
  unsigned long steps = 0;
  std::unique_ptr<Session> session;
};

Connection* connection_of(SMFICTX* ctx) { return static_cast<Connection*>(smfi_getpriv(ctx)); }

Session* session_of(SMFICTX* ctx) {
  Connection* c = connection_of(ctx);
  return c == nullptr ? nullptr : c->session.get();
}

// The connection's state, made on its first callback (negotiate, or connect for an
// MTA that does not negotiate).
Connection& connection_for(SMFICTX* ctx) {
  if (Connection* c = connection_of(ctx)) return *c;
  auto c = std::make_unique<Connection>();
  if (smfi_setpriv(ctx, c.get()) != MI_SUCCESS) throw std::runtime_error("smfi_setpriv");
  return *c.release();  // owned by the context now; freed in on_close
}

// The session, begun now with the policy in force if none has begun yet.
Session& session_for(SMFICTX* ctx, const std::optional<policy::Address>& client) {
  Connection& c = connection_for(ctx);
  if (!c.session) {
    auto policy = store->current();
    if (!policy) throw std::runtime_error("no policy loaded");
    c.session = std::make_unique<Session>(std::move(policy), client, log_decision,
                                          macro_lists_taken.load());
    live_sessions().opened();
  }
  return *c.session;
}

MacroLookup macros_of(SMFICTX* ctx) {
  return [ctx](const char* name) -> const char* {
    return smfi_getsymval(ctx, const_cast<char*>(name));
  };
}

// Says once per kind how tlsgate recognised the MTA (design: the MTA decides how
// certificate macros are read).
void note_mta(const Session& s) {
  static std::atomic<unsigned> logged{0};
  const unsigned bit = 1u << static_cast<unsigned>(s.mta());
  if ((logged.fetch_or(bit) & bit) != 0) return;
  const char* name = s.mta() == policy::Mta::postfix ? "Postfix" : "Sendmail";
  log(Severity::info, std::string("mta: ") + name + " (" + s.mta_evidence() + ")");
}

// Every callback runs through here: an exception (or a session that is missing
// because connect failed) makes the MTA tempfail. Never accept what the policy
// might forbid, never bounce good mail because of a bug.
template <class Body>
sfsistat guarded(SMFICTX* ctx, const char* stage, bool needs_session, Body&& body) noexcept {
  try {
    Session* s = session_of(ctx);
    if (needs_session && s == nullptr) {
      log(Severity::error, std::string("internal error at ") + stage + ": no session; tempfail");
      metrics().count_internal_error(stage);
      return SMFIS_TEMPFAIL;
    }
    return body(s);
  } catch (const std::exception& e) {
    log(Severity::error,
        std::string("internal error at ") + stage + ": " + e.what() + "; tempfail");
  } catch (...) {
    log(Severity::error, std::string("internal error at ") + stage + "; tempfail");
  }
  metrics().count_internal_error(stage);
  return SMFIS_TEMPFAIL;
}

sfsistat reply(SMFICTX* ctx, const policy::Decision& d) {
  if (d.verdict == policy::Verdict::accept) return SMFIS_CONTINUE;
  // The texts are tlsgate's own (no '%'); smfi_setreply failing leaves the MTA's
  // generic reply of the same class.
  const std::string code = std::to_string(d.smtp_code);
  const std::string status(d.status_code);
  const std::string text(d.text);
  smfi_setreply(ctx, const_cast<char*>(code.c_str()), const_cast<char*>(status.c_str()),
                const_cast<char*>(text.c_str()));
  return d.verdict == policy::Verdict::reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

// Says once per process which step an MTA did not offer (an older Postfix or
// Sendmail): tlsgate then serves that step, as before.
void note_missing_steps(unsigned long offered) {
  static std::atomic<bool> noted{false};
  std::string missing;
  for (const Step& step : kLeftOut) {
    if ((offered & step.flag) == 0)
      missing += (missing.empty() ? "" : ", ") + std::string(step.name);
  }
  if (missing.empty() || noted.exchange(true)) return;
  log(Severity::info, "the MTA does not offer " + missing + ": those steps are served");
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long,
                      unsigned long, unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                      unsigned long* pf3) {
  return guarded(ctx, "negotiate", false, [&](Session*) {
    Connection& c = connection_for(ctx);
    if ((f0 & SMFIF_SETSYMLIST) == 0) {
      // Postfix >= 2.6 and Sendmail >= 8.14 offer it; an older MTA sends its
      // default macro lists, which tlsgate then has to make do with (and then it
      // needs CONNECT for the client's address).
      log(Severity::warning, "the MTA cannot take tlsgate's macro lists (no setsymlist)");
      macro_lists_taken = false;
      *pf0 = *pf1 = *pf2 = *pf3 = 0;
      return SMFIS_CONTINUE;
    }
    *pf0 = SMFIF_SETSYMLIST;
    unsigned long wanted = 0;
    for (const Step& step : kLeftOut) wanted |= step.flag;
    // A recipient partner refuses at RCPT, per recipient: RCPT is needed then. The
    // policy in force now decides for this SMTP session (a reload that adds the
    // first recipient partner takes effect at the next one).
    const auto policy = store->current();
    if (policy && policy->has_recipient_partners())
      wanted &= ~static_cast<unsigned long>(SMFIP_NORCPT);
    note_missing_steps(f1);
    c.steps = f1 & wanted;
    *pf1 = c.steps;
    *pf2 = 0;
    *pf3 = 0;
    const bool ok =
        smfi_setsymlist(ctx, SMFIM_CONNECT, const_cast<char*>(kConnectMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_HELO, const_cast<char*>(kHeloMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>(kMailMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char*>(kRcptMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>(kEomMacros)) == MI_SUCCESS;
    if (!ok) throw std::runtime_error("smfi_setsymlist failed");
    return SMFIS_CONTINUE;
  });
}

sfsistat on_connect(SMFICTX* ctx, char*, _SOCK_ADDR* hostaddr) {
  return guarded(ctx, "connect", false, [&](Session*) {
    session_for(ctx, policy::Address::from_sockaddr(hostaddr)).at_connect(macros_of(ctx));
    return SMFIS_CONTINUE;
  });
}

sfsistat on_helo(SMFICTX* ctx, char*) {
  return guarded(ctx, "helo", false, [&](Session*) {
    Session& s = session_for(ctx, std::nullopt);  // its client is known at MAIL
    s.at_helo(macros_of(ctx));
    note_mta(s);
    // Never refuse here: the client could not reach STARTTLS.
    return (connection_for(ctx).steps & SMFIP_NR_HELO) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
  });
}

// The envelope address: MAIL's or RCPT's argument as the client sent it, else the
// MTA's macro; nullopt if neither came (then no partner can apply).
std::optional<std::string_view> envelope_address(char** argv, const MacroLookup& macros,
                                                 const char* macro) {
  if (argv != nullptr && argv[0] != nullptr) return std::string_view(argv[0]);
  if (const char* v = macros(macro)) return std::string_view(v);
  return std::nullopt;
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
  return guarded(ctx, "mail", false, [&](Session*) {
    const MacroLookup macros = macros_of(ctx);
    Session& s = session_for(ctx, std::nullopt);
    if ((connection_for(ctx).steps & SMFIP_NOCONNECT) != 0) {
      const char* addr = macros("{client_addr}");
      s.set_client(addr == nullptr ? std::nullopt : policy::Address::from_macro(addr));
    }
    const policy::Decision d = s.at_mail(macros, envelope_address(argv, macros, "{mail_addr}"));
    note_mta(s);
    return reply(ctx, d);
  });
}

// Negotiated only while the policy has recipient partners (or where the MTA cannot
// leave RCPT out): a refusal here concerns this recipient only.
sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
  return guarded(ctx, "rcpt", true, [&](Session* s) {
    const MacroLookup macros = macros_of(ctx);
    return reply(ctx, s->at_rcpt(macros, envelope_address(argv, macros, "{rcpt_addr}")));
  });
}

sfsistat on_eom(SMFICTX* ctx) {
  return guarded(ctx, "eom", true,
                 [&](Session* s) { return reply(ctx, s->at_end_of_message(macros_of(ctx))); });
}

sfsistat on_abort(SMFICTX* ctx) {
  return guarded(ctx, "abort", false, [&](Session* s) {
    if (s != nullptr) s->at_abort();
    return SMFIS_CONTINUE;
  });
}

sfsistat on_close(SMFICTX* ctx) {
  return guarded(ctx, "close", false, [&](Session*) {
    // close may come without negotiate or connect: then there is nothing to free.
    std::unique_ptr<Connection> owned(connection_of(ctx));
    smfi_setpriv(ctx, nullptr);
    if (owned && owned->session) live_sessions().closed();
    return SMFIS_CONTINUE;
  });
}

}  // namespace

smfiDesc make_filter(PolicyStore& s) {
  store = &s;
  // guarded()'s stage names: their error counters exist from the start.
  for (const char* stage :
       {"negotiate", "connect", "helo", "mail", "rcpt", "eom", "abort", "close"}) {
    metrics().declare_stage(stage);
  }
  smfiDesc d{};
  d.xxfi_name = const_cast<char*>("tlsgate");
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = SMFIF_SETSYMLIST;
  d.xxfi_connect = on_connect;
  d.xxfi_helo = on_helo;
  d.xxfi_envfrom = on_envfrom;
  d.xxfi_envrcpt = on_envrcpt;
  d.xxfi_eom = on_eom;
  d.xxfi_abort = on_abort;
  d.xxfi_close = on_close;
  d.xxfi_negotiate = on_negotiate;
  return d;
}

}  // namespace tlsgate::milter
