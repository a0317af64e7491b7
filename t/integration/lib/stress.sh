# shellcheck shell=bash
# Helpers for the fault and load tests (t/integration/stress-*.sh, `make stress`).
#
#   st_sample_start PID FILE   sample PID's threads, RSS and open fds every 0.2 s
#                              into FILE ("EPOCH THREADS RSS_KB FDS" lines)
#   st_sample_stop             stop the sampler
#   st_peak FILE [FROM [TO]]   "THREADS RSS_KB FDS": the peaks, over lines whose
#                              EPOCH is in [FROM, TO]
#   st_now                     epoch seconds with fractions
#   st_proc PID                "THREADS RSS_KB FDS" now
#   st_load ARGS...            lib/smtp_load.py (asyncio SMTP sessions)
#   st_pf_exec NAME CMD...     a command in a Postfix container
#   st_config PORT [LINES...]  a tlsgate.ini on stdout: tlsgate's front end on
#                              PORT, [source default] and [source strict]
#                              (127.0.0.3) STARTTLS required, [source open]
#                              (127.0.0.2) not, then LINES
#
# TG_FRONT=milter (default) or policy: how Postfix asks tlsgate, the same
# scenarios either way. $st_front names it; st_front_config PORT gives the
# [milter] socket lines, st_front_env PORT exports MILTER and POLICY for pf_start,
# $st_refused_at is the SMTP stage where a refusal comes (mail or rcpt) and
# $st_down_reply what Postfix answers while tlsgate is down (451 4.7.1 from
# milter_default_action = tempfail, 451 4.3.5 from
# smtpd_policy_service_default_action).
#   st_maildir_ids DIR         the stress ids found in a Maildir tree, one a line
#                              (a message delivered twice gives its id twice)
#
# Source it after lib/suite.sh (suite_begin does the preparing); it sources
# lib/postfix-container.sh.

# shellcheck source-path=SCRIPTDIR source=postfix-container.sh
. "$(dirname "${BASH_SOURCE[0]}")/postfix-container.sh"

_st_sampler=
st_front=${TG_FRONT:-milter}
case $st_front in
milter) st_refused_at=mail st_down_reply='451 4.7.1' ;;
policy) st_refused_at=rcpt st_down_reply='451 4.3.5' ;;
*) tg_die "TG_FRONT=$st_front: milter or policy" ;;
esac
# shellcheck disable=SC2034  # used by the scripts that source this file
readonly st_front st_refused_at st_down_reply

st_front_config() {
    case $st_front in
    milter) echo "socket = inet:$1@127.0.0.1" ;;
    policy) printf '%s\n' "socket = none" "policy_socket = inet:$1@127.0.0.1" ;;
    esac
}

st_front_env() {
    case $st_front in
    milter) export MILTER=inet:127.0.0.1:$1 POLICY= ;;
    policy) export MILTER= POLICY=inet:127.0.0.1:$1 ;;
    esac
}

st_config() {
    cat <<INI
[milter]
$(st_front_config "$1")
[source default]
require_starttls = yes
[source open]
networks = 127.0.0.2
require_starttls = no
[source strict]
networks = 127.0.0.3
require_starttls = yes
INI
    printf '%s\n' "${@:2}"
}

st_now() { date +%s.%N; }

st_proc() {
    local pid=$1 threads rss fds
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 1
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 1
    fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    echo "${threads:-0} ${rss:-0} $fds"
}

st_sample_start() {
    local pid=$1 file=$2
    : >"$file"
    (
        while kill -0 "$pid" 2>/dev/null; do
            s=$(st_proc "$pid") && echo "$(st_now) $s" >>"$file"
            sleep 0.2
        done
    ) &
    _st_sampler=$!
}

st_sample_stop() {
    [[ -n $_st_sampler ]] || return 0
    kill "$_st_sampler" 2>/dev/null || true
    wait "$_st_sampler" 2>/dev/null || true
    _st_sampler=
}

st_peak() {
    awk -v from="${2:-0}" -v to="${3:-9999999999}" '
        $1 >= from && $1 <= to {
            if ($2 > t) t = $2; if ($3 > r) r = $3; if ($4 > f) f = $4
        }
        END { printf "%d %d %d\n", t, r, f }' "$1"
}

st_load() {
    python3 "$TG_LIB_DIR/smtp_load.py" "$@"
}

st_pf_exec() {
    local name=$1
    shift
    tg_podman exec "$name" "$@"
}

st_maildir_ids() {
    find "$1" -path '*/new/*' -type f -print0 2>/dev/null |
        xargs -0 -r grep -h -o '^X-Stress-Id: [^[:space:]]*' 2>/dev/null |
        sed 's/^X-Stress-Id: //' || true
}
