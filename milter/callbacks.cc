#include "milter/callbacks.h"

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

Session* session_of(SMFICTX* ctx) { return static_cast<Session*>(smfi_getpriv(ctx)); }

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

void log_decision(Severity severity, const LogRecord& record) {
  log(severity, format_log_line(record));
  store->accounting().write(record);
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

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long,
                      unsigned long, unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                      unsigned long* pf3) {
  return guarded(ctx, "negotiate", false, [&](Session*) {
    if ((f0 & SMFIF_SETSYMLIST) == 0) {
      // Postfix >= 2.6 and Sendmail >= 8.14 offer it; an older MTA sends its
      // default macro lists, which tlsgate then has to make do with.
      log(Severity::warning, "the MTA cannot take tlsgate's macro lists (no setsymlist)");
      macro_lists_taken = false;
      *pf0 = *pf1 = *pf2 = *pf3 = 0;
      return SMFIS_CONTINUE;
    }
    *pf0 = SMFIF_SETSYMLIST;
    // Skip what tlsgate never reads; the MTA then does not send it.
    constexpr unsigned long kSkip =
        SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;
    *pf1 = f1 & kSkip;
    *pf2 = 0;
    *pf3 = 0;
    const bool ok =
        smfi_setsymlist(ctx, SMFIM_CONNECT, const_cast<char*>(kConnectMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_HELO, const_cast<char*>(kHeloMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>(kMailMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_ENVRCPT, const_cast<char*>(kMailMacros)) == MI_SUCCESS &&
        smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>(kEomMacros)) == MI_SUCCESS;
    if (!ok) throw std::runtime_error("smfi_setsymlist failed");
    return SMFIS_CONTINUE;
  });
}

sfsistat on_connect(SMFICTX* ctx, char*, _SOCK_ADDR* hostaddr) {
  return guarded(ctx, "connect", false, [&](Session*) {
    auto policy = store->current();
    if (!policy) throw std::runtime_error("no policy loaded");
    auto session =
        std::make_unique<Session>(std::move(policy), policy::Address::from_sockaddr(hostaddr),
                                  log_decision, macro_lists_taken.load());
    session->at_connect(macros_of(ctx));
    if (smfi_setpriv(ctx, session.get()) != MI_SUCCESS) throw std::runtime_error("smfi_setpriv");
    session.release();  // owned by the context now; freed in on_close
    live_sessions().opened();
    return SMFIS_CONTINUE;
  });
}

sfsistat on_helo(SMFICTX* ctx, char*) {
  return guarded(ctx, "helo", true, [&](Session* s) {
    s->at_helo(macros_of(ctx));
    note_mta(*s);
    return SMFIS_CONTINUE;  // never refuse here: the client could not reach STARTTLS
  });
}

sfsistat on_envfrom(SMFICTX* ctx, char**) {
  return guarded(ctx, "mail", true, [&](Session* s) {
    const policy::Decision d = s->at_mail(macros_of(ctx));
    note_mta(*s);
    return reply(ctx, d);
  });
}

sfsistat on_envrcpt(SMFICTX* ctx, char**) {
  return guarded(ctx, "rcpt", true,
                 [&](Session* s) { return reply(ctx, s->at_rcpt(macros_of(ctx))); });
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
  return guarded(ctx, "close", false, [&](Session* s) {
    // close may come without connect: then there is no session to free.
    std::unique_ptr<Session> owned(s);
    smfi_setpriv(ctx, nullptr);
    if (owned) live_sessions().closed();
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
