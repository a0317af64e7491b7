#!/usr/bin/env bash
# 1,000 concurrent SMTP sessions through a real Postfix (process limits raised),
# all held open at once (every client reads its banner, then they all go on
# together), from three sources with three verdicts: accept, reject, tempfail.
# Asserts: every session decided as its source's rule says (SMTP reply and
# tlsgate's line), every accepted message delivered exactly once, no refused
# one; all 1,000 milter connections open in tlsgate at once (its fds), its
# threads and memory bounded (Debian's libmilter serves connections from a pool
# of worker threads: a handful, not one each), back to idle afterwards; then
# 20,000 sessions straight at the milter socket leave its RSS where it was (no
# leak). Prints the peaks.
# TG_FRONT=policy: the same through Postfix's policy service (refusals at RCPT):
# one persistent connection per smtpd process, all 1,000 open at once, served by
# tlsgate's one policy thread (its thread count never moves); the leak check
# sends 20,000 transactions straight at the policy socket.
#   TG_FRONT (milter or policy)  TG_STRESS_SESSIONS (1000)  TG_STRESS_WAVES (2)  TG_STRESS_LEAK_SESSIONS (20000)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/stress.sh"
suite_begin "stress-concurrency ($st_front)"

sessions=${TG_STRESS_SESSIONS:-1000}
waves=${TG_STRESS_WAVES:-2}
leak_sessions=${TG_STRESS_LEAK_SESSIONS:-20000}
milter_port=${TG_STRESS_MILTER_PORT:-18903}
export SMTP_PORT=${TG_STRESS_SMTP_PORT:-10033}
suite_at_exit st_sample_stop
suite_at_exit pf_stop
started=$SECONDS

st_config "$milter_port" "[source soft]" "networks = 127.0.0.4" "require_starttls = yes" "action = tempfail" >"$work/tlsgate.ini"
suite_start_tlsgate "$work/tlsgate.ini"

# One smtpd (and one milter connection) per session: raise Postfix's limits.
export POSTCONF_EXTRA="default_process_limit = $((sessions + 100))
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
in_flow_delay = 0
milter_connect_timeout = 60s"
st_front_env "$milter_port"
SMTP_LISTEN=127.0.0.1 pf_start

idle=$(st_proc "$milter_pid")
echo "tlsgate idle: threads, RSS kB, fds: $idle"
st_sample_start "$milter_pid" "$work/samples"
wave_threads=0 wave_rss=0
for wave in $(seq 1 "$waves"); do
    echo "== wave $wave: $sessions sessions at once"
    mark=$(wc -l <"$TG_SYSLOG_FILE")
    t0=$(st_now)
    st_load --port "$SMTP_PORT" --sessions "$sessions" --concurrency "$sessions" --barrier \
        --barrier-file "$work/barrier.$wave" --hold 2 --source 127.0.0.2 --source 127.0.0.3 \
        --source 127.0.0.4 --tag "w$wave" --jsonl "$work/wave$wave.jsonl" --timeout 300 \
        | tee "$work/wave$wave.out"
    t1=$(st_now)
    summary() { python3 - "$work/wave$wave.jsonl" <<'PY'
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    r = json.loads(line)
    c[(r["source"], r["result"], r["stage"], r["code"], r["reply"][:9])] += 1
for k, v in sorted(c.items()):
    print(v, *k)
PY
    }
    summary >"$work/wave$wave.summary"
    want_open=$(( (sessions + 2) / 3 )) want_strict=$(( (sessions + 1) / 3 )) want_soft=$((sessions / 3))
    tg_check "wave $wave: all $want_open from 127.0.0.2 queued" \
        grep -qx "$want_open 127.0.0.2 queued eom 250 250 2.0.0" "$work/wave$wave.summary"
    tg_check "wave $wave: all $want_strict from 127.0.0.3 refused: 530 5.7.0 at ${st_refused_at^^}" \
        grep -qx "$want_strict 127.0.0.3 refused $st_refused_at 530 530 5.7.0" "$work/wave$wave.summary"
    tg_check "wave $wave: all $want_soft from 127.0.0.4 refused: 450 4.7.0 at ${st_refused_at^^}" \
        grep -qx "$want_soft 127.0.0.4 refused $st_refused_at 450 450 4.7.0" "$work/wave$wave.summary"
    lines() { tail -n "+$((mark + 1))" "$TG_SYSLOG_FILE" | grep -c -E "tlsgate\[$milter_pid\]: $1" || true; }
    count_lines() {
        [[ $(lines '[0-9A-Z]+: action=accept client=127\.0\.0\.2 source=open ') == "$want_open" &&
            $(lines 'NOQUEUE: action=reject reason=starttls_required client=127\.0\.0\.3 source=strict ') == "$want_strict" &&
            $(lines 'NOQUEUE: action=tempfail reason=starttls_required client=127\.0\.0\.4 source=soft ') == "$want_soft" ]]
    }
    tg_check "wave $wave: tlsgate logged $want_open accept, $want_strict reject, $want_soft tempfail lines, the right source each" \
        tg_wait_for 30 "decision lines" count_lines
    tg_check "wave $wave: no internal error logged" \
        bash -c '! tail -n "+$(($1 + 1))" "$2" | grep -q "internal error"' _ "$mark" "$TG_SYSLOG_FILE"
    # Wait until the sessions are closed and tlsgate is back to idle.
    back() { [[ $(st_proc "$milter_pid" | cut -d' ' -f1) -le $(($(cut -d' ' -f1 <<<"$idle") + 2)) ]]; }
    tg_check "wave $wave: tlsgate's threads back to idle after the wave" tg_wait_for 60 "threads back" back
    sleep 1
    read -r pt pr pf < <(st_peak "$work/samples" "$t0" "$t1")
    ((pt > wave_threads)) && wave_threads=$pt
    ((pr > wave_rss)) && wave_rss=$pr
    at_barrier=$(cat "$work/barrier.$wave" 2>/dev/null || echo "$t1")
    read -r bt br bf < <(st_peak "$work/samples" "$at_barrier" "$t1")
    now=$(st_proc "$milter_pid")
    echo "wave $wave: tlsgate peak threads $pt, peak RSS $pr kB, peak fds $pf; after: $now (threads RSS fds); $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
    # One socket per milter connection: libmilter (Debian's, with its workers
    # pool) serves them with a few threads, not one each. The policy service
    # serves all its connections from one thread.
    tg_check "wave $wave: all $sessions $st_front connections open in tlsgate at once (peak fds $bf >= $sessions)" \
        test "$bf" -ge "$sessions"
    if [[ $st_front == policy ]]; then
        tg_check "wave $wave: no thread per connection: peak $pt threads, idle $(cut -d' ' -f1 <<<"$idle")" \
            test "$pt" = "$(cut -d' ' -f1 <<<"$idle")"
    fi
    tg_check "wave $wave: threads bounded: peak $pt <= sessions + 10" test "$pt" -le $((sessions + 10))
    tg_check "wave $wave: RSS bounded: peak $pr kB < 256 MiB" test "$pr" -lt 262144
done

# Memory per session: RSS after the waves grows a little (malloc arenas of the
# worker threads, fd tables); a leak grows with every session. 20,000 more
# sessions straight at the milter socket (lib/milter_driver.py bench), or as many
# transactions at the policy socket (lib/policy_load.py).
echo "== leak check: $leak_sessions sessions through the $st_front protocol"
before=$(st_proc "$milter_pid" | cut -d' ' -f2)
if [[ $st_front == milter ]]; then
    python3 "$here/lib/milter_driver.py" -s "inet:$milter_port@127.0.0.1" bench \
        --sessions "$leak_sessions" --concurrency 50 --addr 127.0.0.2 --macro 'eom:{i}=LEAKCHECK'
else
    tg_check "$leak_sessions transactions over 50 connections, each answered DUNNO" \
        python3 "$here/lib/policy_load.py" --port "$milter_port" \
        --transactions "$leak_sessions" --connections 50 --addr 127.0.0.2
fi
after=$(st_proc "$milter_pid" | cut -d' ' -f2)
tg_check "no leak: RSS $before kB before, $after kB after $leak_sessions sessions (< 100 bytes a session)" \
    test $(((after - before) * 1024)) -lt $((leak_sessions * 100))
st_sample_stop

echo "== delivery"
expect=$(( waves * ((sessions + 2) / 3) ))
ids() { st_maildir_ids "$TG_PF_DIR/mail"; }
delivered_all() { [[ $(ids | wc -l) -ge $expect ]]; }
tg_wait_for 120 "$expect deliveries" delivered_all || true
ids | sort >"$work/delivered"
total=$(wc -l <"$work/delivered")
unique=$(sort -u "$work/delivered" | wc -l)
forbidden=$(python3 - "$work" "$waves" <<'PY'
import json, sys
bad = set()
for w in range(1, int(sys.argv[2]) + 1):
    for line in open(f"{sys.argv[1]}/wave{w}.jsonl"):
        r = json.loads(line)
        if r["source"] != "127.0.0.2":
            bad.add(r["id"])
print(len(bad & set(open(f"{sys.argv[1]}/delivered").read().split())))
PY
)
tg_check "every accepted message delivered exactly once ($unique unique, $total files, $expect expected)" \
    test "$unique" = "$expect" -a "$total" = "$expect"
tg_check "no refused message delivered ($forbidden)" test "$forbidden" = 0
tg_check "tlsgate still running" kill -0 "$milter_pid"

echo "concurrency ($st_front): $waves x $sessions concurrent sessions; tlsgate idle $(cut -d' ' -f1 <<<"$idle") threads $(cut -d' ' -f2 <<<"$idle") kB; during the waves peak $wave_threads threads, $wave_rss kB RSS; with the 50-connection leak check peak $(st_peak "$work/samples" | cut -d' ' -f1) threads, $(st_peak "$work/samples" | cut -d' ' -f2) kB"
echo "(stress-concurrency: $((SECONDS - started)) s)"
suite_end
