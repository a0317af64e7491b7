#!/usr/bin/env bash
# Reload under load: a stream of SMTP sessions through a real Postfix while
# tlsgate gets 100 SIGUSR1s, the file going round a good configuration, a changed
# one and a broken one (written to a new file and renamed over the old, as an
# editor or a configuration tool does). The source of 127.0.0.2 has a different
# name in each: [source flip-open] (plaintext accepted) in the good file,
# [source flip-strict] (STARTTLS required) in the changed one, [source
# flip-broken] in the broken one, so each decision line says which policy made it.
# Asserts: every reload logged (reloaded / reload failed with the config error and
# its file:line), no session fails because of a reload (every reply is the one a
# valid policy gives: never a 4xx, never a dropped connection), every decision
# matches one of the two valid policies (accept only under flip-open, 530 only
# under flip-strict, flip-broken never), both were in force at some point,
# accepted mail delivered once, refused mail never.
#   TG_FRONT (milter or policy: refusals at MAIL or RCPT; a policy-service
#   transaction keeps the policy it started with from RCPT to END-OF-MESSAGE)
#   TG_STRESS_RELOADS (100)  TG_STRESS_SESSIONS (5000, at most)  TG_STRESS_RATE (40 a second)
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib/suite.sh"
. "$here/lib/stress.sh"
suite_begin "stress-reload ($st_front)"

reloads=${TG_STRESS_RELOADS:-100}
sessions=${TG_STRESS_SESSIONS:-5000}
rate=${TG_STRESS_RATE:-40}
milter_port=${TG_STRESS_MILTER_PORT:-18905}
export SMTP_PORT=${TG_STRESS_SMTP_PORT:-10034}
loader=
suite_at_exit '[[ -z $loader ]] || kill "$loader"'
suite_at_exit pf_stop
started=$SECONDS
ini=$work/tlsgate.ini

config() { # config good|changed|broken: the text
    local flip=flip-open starttls=no
    [[ $1 == changed ]] && flip=flip-strict starttls=yes
    [[ $1 == broken ]] && flip=flip-broken starttls=perhaps
    cat <<INI
[milter]
$(st_front_config "$milter_port")
[source default]
require_starttls = yes
[source $flip]
networks = 127.0.0.2
require_starttls = $starttls
[source always-open]
networks = 127.0.0.3
require_starttls = no
[source always-strict]
networks = 127.0.0.4
require_starttls = yes
INI
}
install_config() { config "$1" >"$ini.new" && mv "$ini.new" "$ini"; }
bad_line=$(config broken | grep -n '^require_starttls = perhaps$' | cut -d: -f1)

install_config good
suite_start_tlsgate "$ini"
st_front_env "$milter_port"
SMTP_LISTEN=127.0.0.1 pf_start

echo "== sessions at $rate a second from 127.0.0.2-4 (at most $sessions) while $reloads reloads are done"
st_load --port "$SMTP_PORT" --sessions "$sessions" --concurrency 10 --rate "$rate" \
    --source 127.0.0.2 --source 127.0.0.3 --source 127.0.0.4 --tag reload \
    --stop-file "$work/stop" --jsonl "$work/sessions.jsonl" >"$work/load.out" 2>&1 &
loader=$!
sleep 1
outcomes() { grep -cE "tlsgate\[$milter_pid\]: (reloaded |reload failed: )" "$TG_SYSLOG_FILE" || true; }
kinds=(good changed broken)
slow=0
t0=$SECONDS
for i in $(seq 0 $((reloads - 1))); do
    kind=${kinds[i % 3]}
    before=$(outcomes)
    install_config "$kind"
    kill -USR1 "$milter_pid"
    # One signal at a time: a second SIGUSR1 while the first is pending would merge.
    # (On a loaded machine rsyslog may write the line late: slow is not lost.)
    tg_wait_for 30 "reload $i" test "$(outcomes)" -gt "$before" || slow=$((slow + 1))
    sleep 0.15 # each policy in force long enough for sessions to meet it
done
reload_seconds=$((SECONDS - t0))
install_config good
kill -USR1 "$milter_pid"
all_answered() { test "$(outcomes)" -ge $((reloads + 1)); }
tg_wait_for 60 "every reload answered" all_answered || true
lost=$((reloads + 1 - $(outcomes)))
touch "$work/stop" # the stream lasts as long as the reloads
wait "$loader" || true
loader=
cat "$work/load.out"

want_failed=$((reloads / 3)) want_ok=$((reloads - reloads / 3))
reloaded=$(grep -cE "tlsgate\[$milter_pid\]: reloaded $ini: 4 sources" "$TG_SYSLOG_FILE" || true)
failed=$(grep -cE "tlsgate\[$milter_pid\]: reload failed: 1 error in $ini; the previous policy stays in force" "$TG_SYSLOG_FILE" || true)
errors=$(grep -cE "tlsgate\[$milter_pid\]: config error: $ini:$bad_line: require_starttls: \"perhaps\" is not a boolean" "$TG_SYSLOG_FILE" || true)
tg_check "$reloads reloads done in ${reload_seconds}s, each answered in the log ($lost unanswered; $slow after more than 30 s)" test "$lost" = 0
tg_check "$want_ok good and changed files: 'reloaded' ($reloaded, one more at the end)" \
    test "$reloaded" -ge "$want_ok"
tg_check "$want_failed broken files: 'reload failed ... the previous policy stays in force' ($failed)" \
    test "$failed" = "$want_failed"
tg_check "... each with 'config error: $ini:$bad_line: require_starttls: \"perhaps\" is not a boolean' ($errors)" \
    test "$errors" = "$want_failed"

python3 - "$work/sessions.jsonl" "$TG_SYSLOG_FILE" "$milter_pid" "$st_refused_at" >"$work/verdicts" <<'PY'
import collections, json, re, sys
at = sys.argv[4]
sessions = [json.loads(l) for l in open(sys.argv[1])]
res = collections.Counter()
failed = []
for s in sessions:
    key = (s["source"], s["result"], s["stage"], s["code"])
    res[key] += 1
    ok = {"127.0.0.3": [("queued", "eom", "250")],
          "127.0.0.4": [("refused", at, "530")],
          "127.0.0.2": [("queued", "eom", "250"), ("refused", at, "530")]}[s["source"]]
    if key[1:] not in ok or (s["result"] == "refused" and not s["reply"].startswith("530 5.7.0")):
        failed.append(f'{s["source"]} {s["result"]} {s["stage"]} {s["reply"]}')
lines = collections.Counter()
for line in open(sys.argv[2], errors="replace"):
    m = re.search(r"tlsgate\[" + sys.argv[3] + r"\]: \S+: action=(\S+) (?:reason=\S+ )?client=127\.0\.0\.2 source=(\S+)", line)
    if m:
        lines[m.groups()] += 1
q2 = res[("127.0.0.2", "queued", "eom", "250")]
r2 = res[("127.0.0.2", "refused", at, "530")]
print(f"sessions={len(sessions)} failed={len(failed)} flip_accepted={q2} flip_refused={r2} "
      f"open_accepted={res[('127.0.0.3', 'queued', 'eom', '250')]} "
      f"strict_refused={res[('127.0.0.4', 'refused', at, '530')]}")
print(f"lines accept/flip-open={lines[('accept', 'flip-open')]} "
      f"reject/flip-strict={lines[('reject', 'flip-strict')]} "
      f"other={sum(v for k, v in lines.items() if k not in (('accept', 'flip-open'), ('reject', 'flip-strict')))}")
for f in failed[:10]:
    print("  failed:", f)
for k, v in lines.items():
    if k not in (("accept", "flip-open"), ("reject", "flip-strict")):
        print("  unexpected line:", k, v)
PY
cat "$work/verdicts"
get() { sed -nE "s/.*\b$1=([0-9]+).*/\1/p" "$work/verdicts" | head -n 1; }
tg_check "no session failed because of a reload: every reply one a valid policy gives ($(get failed) failed of $(get sessions))" \
    test "$(get failed)" = 0 -a "$(get sessions)" -gt 0
tg_check "127.0.0.2 judged under both policies: $(get flip_accepted) accepted, $(get flip_refused) refused" \
    test "$(get flip_accepted)" -gt 0 -a "$(get flip_refused)" -gt 0
tg_check "every accept of 127.0.0.2 made by [source flip-open] ($(sed -nE 's/.*accept\/flip-open=([0-9]+).*/\1/p' "$work/verdicts") lines, $(get flip_accepted) sessions)" \
    test "$(sed -nE 's/.*accept\/flip-open=([0-9]+).*/\1/p' "$work/verdicts")" = "$(get flip_accepted)"
tg_check "every refusal of 127.0.0.2 made by [source flip-strict] ($(sed -nE 's/.*reject\/flip-strict=([0-9]+).*/\1/p' "$work/verdicts") lines)" \
    test "$(sed -nE 's/.*reject\/flip-strict=([0-9]+).*/\1/p' "$work/verdicts")" = "$(get flip_refused)"
tg_check "no other decision for 127.0.0.2 (the broken file never in force: no flip-broken)" \
    test "$(get other)" = 0
tg_check "no internal error logged" bash -c '! grep -q "internal error" "$0"' "$TG_SYSLOG_FILE"

echo "== delivery"
want=$(grep -c '"result": "queued"' "$work/sessions.jsonl" || true)
ids() { st_maildir_ids "$TG_PF_DIR/mail"; }
enough() { [[ $(ids | wc -l) -ge $want ]]; }
tg_wait_for 60 "$want deliveries" enough || true
sleep 1
ids | sort >"$work/delivered"
python3 - "$work/sessions.jsonl" "$work/delivered" >"$work/delivery" <<'PY'
import collections, json, sys
ids = collections.Counter(open(sys.argv[2]).read().split())
sessions = [json.loads(l) for l in open(sys.argv[1])]
q = [s["id"] for s in sessions if s["result"] == "queued"]
r = [s["id"] for s in sessions if s["result"] != "queued"]
print(f"once={sum(ids[i] == 1 for i in q)} queued={len(q)} "
      f"twice={sum(ids[i] > 1 for i in q)} leaked={sum(ids[i] > 0 for i in r)}")
PY
tg_check "every accepted message delivered once ($(cat "$work/delivery"))" \
    bash -c 'read -r o q t l < <(sed -E "s/[a-z]+=//g" "$0"); [[ $o == "$q" && $t == 0 ]]' "$work/delivery"
tg_check "no refused message delivered" grep -q 'leaked=0$' "$work/delivery"
tg_check "tlsgate still running" kill -0 "$milter_pid"

echo "reload: reloads=$reloads (reloaded $((reloaded - 1)), refused $failed, unanswered $lost) $(head -n 1 "$work/verdicts")"
echo "(stress-reload: $((SECONDS - started)) s)"
suite_end
