#!/usr/bin/env bash
# Milter slow: tlsgate stopped with SIGSTOP (it holds its socket and answers
# nothing) in front of a Postfix whose milter timeouts are lowered to 2 s
# (milter_default_action = tempfail). Asserts:
#   - sessions that start while it is stopped get a 4xx, from an allowed source
#     and from a refused one alike; nothing is delivered;
#   - a session that passed MAIL and RCPT before the stop and sends its message
#     during it gets a 4xx at the end of data; that message is not delivered;
#   - after SIGCONT tlsgate works through the connections Postfix gave up on,
#     stays up, and decides new sessions as before.
# Milter only (its timeouts are what this exercises).
#   TG_STRESS_STOPPED_SESSIONS (20)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/stress.sh"
[[ $st_front == milter ]] || tg_die "stress-slow exercises the milter's timeouts: TG_FRONT=milter only"
suite_begin stress-slow

stopped_sessions=${TG_STRESS_STOPPED_SESSIONS:-20}
milter_port=${TG_STRESS_MILTER_PORT:-18906}
export SMTP_PORT=${TG_STRESS_SMTP_PORT:-10035}
# A stopped tlsgate takes no SIGTERM: let it go on first.
suite_at_exit '[[ -z $milter_pid ]] || kill -CONT "$milter_pid"'
suite_at_exit pf_stop
started=$SECONDS

st_config "$milter_port" >"$work/tlsgate.ini"
suite_start_tlsgate "$work/tlsgate.ini"
export POSTCONF_EXTRA="milter_connect_timeout = 2s
milter_command_timeout = 2s
milter_content_timeout = 2s"
MILTER=inet:127.0.0.1:$milter_port SMTP_LISTEN=127.0.0.1 pf_start

# summary FILE: "SOURCE RESULT STAGE CODE" counts
summary() {
    python3 - "$1" <<'PY'
import collections, json, sys
c = collections.Counter()
for l in open(sys.argv[1]):
    r = json.loads(l)
    c[(r["source"], r["result"], r["stage"], r["reply"][:9])] += 1
for k, v in sorted(c.items()):
    print(v, *k)
PY
}
load() { # load TAG N
    st_load --port "$SMTP_PORT" --sessions "$2" --concurrency 10 --source 127.0.0.2 \
        --source 127.0.0.3 --tag "$1" --jsonl "$work/$1.jsonl" --timeout 60 >"$work/$1.out" 2>&1 || true
    summary "$work/$1.jsonl" >"$work/$1.summary"
}
half_a=$(((stopped_sessions + 1) / 2)) half_b=$((stopped_sessions / 2))

section() { echo "$1 [$((SECONDS - started)) s]"; }
section "== tlsgate running"
load before 4
tg_check "127.0.0.2 accepted" grep -qx "2 127.0.0.2 queued eom 250 2.0.0" "$work/before.summary"
tg_check "127.0.0.3 refused: 530 5.7.0" grep -qx "2 127.0.0.3 refused mail 530 5.7.0" "$work/before.summary"

section "== tlsgate stopped (SIGSTOP): $stopped_sessions new sessions"
kill -STOP "$milter_pid"
t0=$SECONDS
load stopped "$stopped_sessions"
sed 's/^/    /' "$work/stopped.summary"
tg_check "all $half_a from 127.0.0.2 got 451 4.7.1, none queued" \
    grep -qx "$half_a 127.0.0.2 refused mail 451 4.7.1" "$work/stopped.summary"
tg_check "all $half_b from 127.0.0.3 got 451 4.7.1, none queued" \
    grep -qx "$half_b 127.0.0.3 refused mail 451 4.7.1" "$work/stopped.summary"
tg_check "they took the milter timeout, not forever ($((SECONDS - t0)) s for all)" test $((SECONDS - t0)) -lt 60
kill -CONT "$milter_pid"

section "== a session stopped between RCPT and the end of its message"
python3 - "$SMTP_PORT" "$milter_pid" >"$work/midway.out" 2>&1 <<'PY' || true
import os, signal, socket, sys
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0), timeout=30)
f = s.makefile("rwb")
def reply():
    while True:
        line = f.readline().decode().rstrip()
        print("<-", line)
        if len(line) < 4 or line[3] != "-":
            return line
def cmd(c):
    print("->", c)
    f.write(c.encode() + b"\r\n"); f.flush()
    return reply()
reply()
cmd("EHLO midway.example.test")
assert cmd("MAIL FROM:<sender@example.net>").startswith("250")
assert cmd("RCPT TO:<bob@example.test>").startswith("250")
assert cmd("DATA").startswith("354")
os.kill(pid, signal.SIGSTOP)
print("=== tlsgate stopped")
f.write(b"Subject: midway\r\nX-Stress-Id: midway-1\r\n\r\nstress-id=midway-1;\r\n")
end = cmd(".")
os.kill(pid, signal.SIGCONT)
print("=== tlsgate continued")
print("result", end)
cmd("QUIT")
PY
sed 's/^/    | /' "$work/midway.out"
tg_check "MAIL and RCPT accepted before the stop, 451 4.7.1 at the end of data" \
    grep -q '^result 451 4\.7\.1' "$work/midway.out"

section "== tlsgate continued (SIGCONT)"
tg_check "tlsgate still running" kill -0 "$milter_pid"
load after 4
tg_check "127.0.0.2 accepted again" grep -qx "2 127.0.0.2 queued eom 250 2.0.0" "$work/after.summary"
tg_check "127.0.0.3 refused again: 530 5.7.0" grep -qx "2 127.0.0.3 refused mail 530 5.7.0" "$work/after.summary"
tg_check "no internal error logged" bash -c '! grep -q "internal error" "$0"' "$TG_SYSLOG_FILE"

section "== delivery"
ids() { st_maildir_ids "$TG_PF_DIR/mail" | sort; }
four() { [[ $(ids | wc -l) -ge 4 ]]; }
tg_wait_for 30 "4 deliveries" four || true
sleep 2
ids >"$work/delivered"
tg_check "delivered: exactly the 4 accepted before and after ($(tr '\n' ' ' <"$work/delivered"))" \
    test "$(tr '\n' ' ' <"$work/delivered")" = "after-0 after-2 before-0 before-2 "
# tlsgate logs an accepted message at end of data, before its reply goes out: for
# the midway message it logged accept once it ran again, after Postfix had given
# up and answered 451. Its line is its verdict, Postfix's log says what happened.
accepts=$(grep -cE "tlsgate\[$milter_pid\]: [0-9A-Z]+: action=accept" "$TG_SYSLOG_FILE" || true)
echo "note: tlsgate logged $accepts accept lines for 4 delivered messages: the midway one's verdict came after Postfix's 2 s timeout (Postfix: $(grep -c 'END-OF-MESSAGE' "$TG_PF_DIR/log/maillog" || true) END-OF-MESSAGE tempfail)"
echo "milter slow: $stopped_sessions sessions while stopped: $(grep -c '"result": "queued"' "$work/stopped.jsonl" || true) queued, $(grep -c '"code": "451"' "$work/stopped.jsonl" || true) got 451; midway message: $(sed -n 's/^result //p' "$work/midway.out")"
echo "(stress-slow: $((SECONDS - started)) s)"
suite_end
