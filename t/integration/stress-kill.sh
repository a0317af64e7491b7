#!/usr/bin/env bash
# kill -9 under load. A client Postfix (a second container, so that deferred mail
# is retried as in real life) relays a mixed stream to the tlsgate-protected
# Postfix from four sources, one smtp transport bound to each address:
#   127.0.0.2 plaintext, allowed              -> must be delivered exactly once
#   127.0.0.3 plaintext, STARTTLS required    -> 530: bounced, never delivered
#   127.0.0.4 TLS (smtp_tls_security_level=encrypt), STARTTLS required
#                                             -> must be delivered exactly once
#   127.0.0.5 plaintext, STARTTLS required, action = tempfail
#                                             -> 450 forever: stays queued
# In the middle of the stream tlsgate is killed with SIGKILL and started again a
# few seconds later (milter_default_action = tempfail, or for the policy service
# smtpd_policy_service_default_action: 4xx meanwhile, the client defers and
# retries). At the end: every message that should be accepted was delivered
# exactly once (none lost, none twice) and logged by tlsgate as accepted, none
# that the policy forbids was delivered at any time; the counts are printed.
#   TG_FRONT (milter or policy)  TG_STRESS_MESSAGES (400)  TG_STRESS_RATE (25 a second)
#   TG_STRESS_DOWN (3 s)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/stress.sh"
suite_begin "stress-kill ($st_front)"

messages=${TG_STRESS_MESSAGES:-400}
rate=${TG_STRESS_RATE:-25}
down=${TG_STRESS_DOWN:-3}
milter_port=${TG_STRESS_MILTER_PORT:-18902}
server_port=${TG_STRESS_SMTP_PORT:-10031}
client_port=${TG_STRESS_CLIENT_PORT:-10032}
server= client=
suite_at_exit '[[ -z $server ]] || pf_stop "$server"'
suite_at_exit '[[ -z $client ]] || pf_stop "$client"'
started=$SECONDS

cat >"$work/tlsgate.ini" <<INI
[milter]
$(st_front_config "$milter_port")
[source default]
require_starttls = yes
[source plain-ok]
networks = 127.0.0.2
require_starttls = no
[source tls-required]
networks = 127.0.0.3
require_starttls = yes
[source tls-ok]
networks = 127.0.0.4
require_starttls = yes
min_tls_version = TLSv1.2
[source tls-soft]
networks = 127.0.0.5
require_starttls = yes
action = tempfail
INI
suite_start_tlsgate "$work/tlsgate.ini"
first_pid=$milter_pid

echo "== the protected Postfix (port $server_port) and the client Postfix (port $client_port)"
st_front_env "$milter_port"
TG_PF_NAME= TG_PF_DIR= SMTP_PORT=$server_port SMTP_LISTEN=127.0.0.1 pf_start
server=$TG_PF_NAME server_dir=$TG_PF_DIR
# The client: mail for client.test (the bounces) stays in its Maildir, the rest
# goes to the protected Postfix through one transport per source address.
TG_PF_NAME= TG_PF_DIR= SMTP_PORT=$client_port MILTER= POLICY= SMTP_LISTEN=127.0.0.1 MAIL_DOMAIN=client.test \
    SASL_USERS= pf_start
client=$TG_PF_NAME client_dir=$TG_PF_DIR
st_pf_exec "$client" sh -c "printf '%s\n' \
    '/^s2-/ src2:[127.0.0.1]:$server_port' '/^s3-/ src3:[127.0.0.1]:$server_port' \
    '/^s4-/ src4:[127.0.0.1]:$server_port' '/^s5-/ src5:[127.0.0.1]:$server_port' \
    >/etc/postfix/stress-transport"
st_pf_exec "$client" postconf -M \
    "src2/unix=src2 unix - - n - - smtp -o smtp_bind_address=127.0.0.2" \
    "src3/unix=src3 unix - - n - - smtp -o smtp_bind_address=127.0.0.3" \
    "src4/unix=src4 unix - - n - - smtp -o smtp_bind_address=127.0.0.4 -o smtp_tls_security_level=encrypt" \
    "src5/unix=src5 unix - - n - - smtp -o smtp_bind_address=127.0.0.5"
# Retry deferred mail within seconds, as a real MTA does within minutes.
st_pf_exec "$client" postconf -e mynetworks=127.0.0.0/8 \
    transport_maps=regexp:/etc/postfix/stress-transport \
    minimal_backoff_time=2s maximal_backoff_time=4s queue_run_delay=2s \
    smtp_tls_loglevel=1 smtp_connection_cache_on_demand=no
st_pf_exec "$client" postfix reload >/dev/null 2>&1
sleep 2

echo "== $messages messages at $rate a second; tlsgate killed (SIGKILL) in the middle, back ${down}s later"
duration=$(awk -v m="$messages" -v r="$rate" 'BEGIN { printf "%.1f", m / r }')
kill_at=$(awk -v d="$duration" 'BEGIN { printf "%.1f", d * 0.4 }')
st_load --port "$client_port" --sessions "$messages" --concurrency 4 --rate "$rate" \
    --source 127.0.0.1 --from sender@client.test --tag kill \
    --rcpt 's2-{n:05d}@example.test' --rcpt 's3-{n:05d}@example.test' \
    --rcpt 's4-{n:05d}@example.test' --rcpt 's5-{n:05d}@example.test' \
    --jsonl "$work/injected.jsonl" >"$work/inject.out" 2>&1 &
loader=$!
sleep "$kill_at"
kill -9 "$milter_pid"
wait "$milter_pid" 2>/dev/null || true
killed_at=$(date '+%T')
echo "tlsgate (pid $milter_pid) killed with SIGKILL at $killed_at, ${kill_at}s into the stream"
sleep "$down"
suite_start_tlsgate "$work/tlsgate.ini"
echo "tlsgate started again (pid $milter_pid) at $(date '+%T')"
wait "$loader" || true
cat "$work/inject.out"
injected=$(grep -c '"result": "queued"' "$work/injected.jsonl" || true)
tg_check "the client Postfix took all $messages messages ($injected)" test "$injected" = "$messages"

# Expected outcome of each message, by its source.
python3 - "$work/injected.jsonl" >"$work/expected" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["id"], r["rcpt"][:2])
PY
count_src() { awk -v s="$1" '$2 == s' "$work/expected" | wc -l; }
n2=$(count_src s2) n3=$(count_src s3) n4=$(count_src s4) n5=$(count_src s5)
want_delivered=$((n2 + n4))

# The client's view: per message, deferrals and the final status (maillog).
client_status() {
    python3 - "$client_dir/log/maillog" <<'PY'
import re, sys, collections
deferred = collections.Counter(); final = {}
for line in open(sys.argv[1], errors="replace"):
    m = re.search(r" to=<(s[2-5]-\d+)@example\.test>.* status=(sent|bounced|deferred)", line)
    if not m:
        continue
    rcpt, status = m.groups()
    if status == "deferred":
        deferred[rcpt] += 1
    else:
        final[rcpt] = status
for r in sorted(set(deferred) | set(final)):
    print(r, deferred[r], final.get(r, "queued"))
PY
}
delivered_ids() { st_maildir_ids "$server_dir/mail"; }
settled() {
    local d b
    d=$(delivered_ids | sort -u | grep -c '' || true)
    b=$(client_status | awk '$1 ~ /^s3-/ && $3 == "bounced"' | wc -l)
    [[ $d -ge $want_delivered && $b -ge $n3 ]]
}
echo "== waiting for the client to deliver or bounce everything (retries every 2-4 s)"
tg_wait_for 240 "deliveries and bounces" settled || true
sleep 3 # a late duplicate would show now

delivered_ids | sort >"$work/delivered"
client_status >"$work/client-status"
st_pf_exec "$client" postqueue -j >"$work/queue.json" 2>/dev/null || true
python3 - "$work" "$n2" "$n3" "$n4" "$n5" <<'PY' | tee "$work/counts"
import collections, json, sys
work = sys.argv[1]
expected = dict(l.split() for l in open(f"{work}/expected"))
ids = open(f"{work}/delivered").read().split()
per_id = collections.Counter(ids)
rcpt_of = {i: f"{expected[i]}-{int(i.split('-')[1]):05d}" for i in expected}
status = {}
deferred_once = 0
for line in open(f"{work}/client-status"):
    r, d, final = line.split()
    status[r] = (int(d), final)
queued = set()
for line in open(f"{work}/queue.json"):
    line = line.strip()
    if line:
        for rc in json.loads(line).get("recipients", []):
            queued.add(rc["address"].split("@")[0])
good = [i for i in expected if expected[i] in ("s2", "s4")]
bad = [i for i in expected if expected[i] in ("s3", "s5")]
delivered_good = [i for i in good if per_id[i] >= 1]
twice = [i for i in good if per_id[i] > 1]
lost = [i for i in good if per_id[i] == 0 and rcpt_of[i] not in queued]
late = [i for i in good if per_id[i] == 0 and rcpt_of[i] in queued]
forbidden = [i for i in bad if per_id[i] > 0]
retried = [i for i in delivered_good if status.get(rcpt_of[i], (0, ""))[0] > 0]
bounced = [i for i in bad if status.get(rcpt_of[i], (0, ""))[1] == "bounced"]
still_queued = [i for i in bad if rcpt_of[i] in queued]
print(f"sent={len(expected)} should_deliver={len(good)} delivered={len(delivered_good)} "
      f"delivered_twice={len(twice)} lost={len(lost)} still_queued_good={len(late)} "
      f"deferred_then_delivered={len(retried)} forbidden={len(bad)} "
      f"refused_bounced={len(bounced)} refused_still_deferred={len(still_queued)} "
      f"forbidden_delivered={len(forbidden)}")
for name, l in (("twice", twice), ("lost", lost), ("late", late), ("FORBIDDEN", forbidden)):
    if l:
        print(f"  {name}: {' '.join(sorted(l)[:20])}")
PY
get() { sed -nE "s/.*\b$1=([0-9]+).*/\1/p" "$work/counts" | head -n 1; }
tg_check "every message that should be accepted was delivered ($(get delivered) of $want_delivered)" \
    test "$(get delivered)" = "$want_delivered"
tg_check "none delivered twice ($(get delivered_twice))" test "$(get delivered_twice)" = 0
tg_check "none lost ($(get lost))" test "$(get lost)" = 0
tg_check "no message the policy forbids was delivered ($(get forbidden_delivered) of $((n3 + n5)))" \
    test "$(get forbidden_delivered)" = 0
tg_check "all $n3 from 127.0.0.3 bounced with 530 ($(awk '$1 ~ /^s3-/ && $3 == "bounced"' "$work/client-status" | wc -l))" \
    test "$(awk '$1 ~ /^s3-/ && $3 == "bounced"' "$work/client-status" | wc -l)" = "$n3"
tg_check "all $n5 from 127.0.0.5 (tempfail) still deferred in the client's queue ($(get refused_still_deferred))" \
    test "$(get refused_still_deferred)" = "$n5"
tg_check "the kill was felt: messages deferred and then delivered ($(get deferred_then_delivered))" \
    test "$(get deferred_then_delivered)" -gt 0
tg_check "the protected Postfix answered $st_down_reply while tlsgate was down" \
    grep -q "$st_down_reply" "$server_dir/log/maillog"
tg_check "the new tlsgate decided mail (pid $milter_pid, the killed one $first_pid)" \
    grep -q "tlsgate\[$milter_pid\]: [0-9A-Z]*: action=accept" "$TG_SYSLOG_FILE"
# Accepted and logged: each delivered message has its accept line (a message
# accepted, logged, and then deferred because tlsgate died before Postfix had the
# answer is logged again when it comes back: more lines, never fewer).
accepts=$(grep -cE 'tlsgate\[[0-9]+\]: [0-9A-Z]+: action=accept client=127\.0\.0\.[24] source=(plain-ok|tls-ok) ' \
    "$TG_SYSLOG_FILE" || true)
tg_check "every delivered message logged as accepted ($accepts accept lines, $(get delivered) delivered)" \
    test "$accepts" -ge "$(get delivered)"
tg_check "no internal error logged" bash -c '! grep -q "internal error" "$0"' "$TG_SYSLOG_FILE"

echo "kill -9: $(cat "$work/counts" | head -n 1)"
echo "(stress-kill: $((SECONDS - started)) s)"
suite_end
