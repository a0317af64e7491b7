/* The floor any milter pays: a libmilter milter that registers the same callbacks
 * as tlsgate (connect, helo, envfrom, envrcpt, eom, abort, close, negotiate),
 * negotiates the same protocol steps away and asks for the same macros at each
 * stage, and answers SMFIS_CONTINUE to everything.
 *   build/noop_milter SOCKET        e.g. inet:18910@127.0.0.1; runs in the foreground
 */
#include <libmilter/mfapi.h>
#include <stdio.h>
#include <stdlib.h>

/* The lists of milter/session.h (kConnectMacros ...). */
static char connect_macros[] = "{daemon_name} v";
static char helo_macros[] =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify}";
static char mail_macros[] =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify} "
    "{auth_type} {auth_authen} {i}";
static char eom_macros[] = "{i}";

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3) {
  (void)f2;
  (void)f3;
  *pf0 = f0 & SMFIF_SETSYMLIST;
  *pf1 = f1 & (SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA);
  *pf2 = *pf3 = 0;
  if (f0 & SMFIF_SETSYMLIST) {
    smfi_setsymlist(ctx, SMFIM_CONNECT, connect_macros);
    smfi_setsymlist(ctx, SMFIM_HELO, helo_macros);
    smfi_setsymlist(ctx, SMFIM_ENVFROM, mail_macros);
    smfi_setsymlist(ctx, SMFIM_ENVRCPT, mail_macros);
    smfi_setsymlist(ctx, SMFIM_EOM, eom_macros);
  }
  return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr) {
  (void)ctx, (void)host, (void)addr;
  return SMFIS_CONTINUE;
}
static sfsistat on_helo(SMFICTX *ctx, char *helo) {
  (void)ctx, (void)helo;
  return SMFIS_CONTINUE;
}
static sfsistat on_envfrom(SMFICTX *ctx, char **argv) {
  (void)ctx, (void)argv;
  return SMFIS_CONTINUE;
}
static sfsistat on_envrcpt(SMFICTX *ctx, char **argv) {
  (void)ctx, (void)argv;
  return SMFIS_CONTINUE;
}
static sfsistat on_ctx(SMFICTX *ctx) {
  (void)ctx;
  return SMFIS_CONTINUE;
}

int main(int argc, char **argv) {
  struct smfiDesc d = {0};
  if (argc != 2) {
    fprintf(stderr, "usage: noop_milter SOCKET\n");
    return 2;
  }
  d.xxfi_name = "noop";
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = SMFIF_SETSYMLIST;
  d.xxfi_connect = on_connect;
  d.xxfi_helo = on_helo;
  d.xxfi_envfrom = on_envfrom;
  d.xxfi_envrcpt = on_envrcpt;
  d.xxfi_eom = on_ctx;
  d.xxfi_abort = on_ctx;
  d.xxfi_close = on_ctx;
  d.xxfi_negotiate = on_negotiate;
  if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(d) != MI_SUCCESS ||
      smfi_opensocket(1) != MI_SUCCESS) {
    fprintf(stderr, "noop_milter: cannot listen on %s\n", argv[1]);
    return 1;
  }
  fprintf(stderr, "noop_milter: listening on %s\n", argv[1]);
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
