#!/usr/bin/env bash
# tlsgate report --format html opened in a real headless Chromium (report-html.py):
# the golden accounting files plus one with hostile values in every field that came
# from the network, with a --what-if; no console error, no fetch, each chart with the
# JSON report's numbers, every hostile value shown as text and run nowhere. ~10 s.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/lib/common.sh"

tg_need_pkgs chromium libjs-chart.js python3
tlsgate=${TLSGATE:-$root/build/tlsgate}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Values a client or MTA could have sent, as tlsgate writes them (quoted when they
# hold a space or a quote, quotes doubled).
hostile=('<script>window.pwned=1</script>' '<img src=x onerror="window.pwned=2">'
         '<b>TLS</b>' '<i>src</i>')
{
    printf 'time,queue_id,client,source,action,reason,tls_version,cipher,cipher_bits,'
    printf 'cert_subject,cert_issuer,auth,auth_user,credentials_exposed,transaction,auth_before_tls\r\n'
    printf '2026-11-21T12:00:00Z,,198.51.100.66,default,reject,plaintext_auth,none,,,,,PLAIN,%s,yes,h.1.1,no\r\n' \
        "${hostile[0]}"
    printf '2026-11-21T12:01:00Z,Q1,192.0.2.66,partners,accept,,TLSv1.2,AES256-SHA,256,"%s",CA,,,no,h.2.1,no\r\n' \
        "${hostile[1]//\"/\"\"}"
    printf '2026-11-21T12:02:00Z,Q2,198.51.100.67,default,accept,,%s,,,,,,,no,h.3.1,no\r\n' "${hostile[2]}"
    printf '2026-11-21T12:03:00Z,Q3,198.51.100.68,%s,accept,,none,,,,,,,no,h.4.1,no\r\n' "${hostile[3]}"
} >"$work/hostile.csv"

files=("$root/t/golden/report/accounting.csv" "$root/t/golden/report/accounting.csv.1.gz"
       "$work/hostile.csv")
what_if=(--what-if "$root/t/golden/report/strict.ini")
rc=0
"$tlsgate" report --format html -o "$work/report.html" "${what_if[@]}" "${files[@]}" || rc=$?
[[ $rc == 1 ]] || tg_die "tlsgate report --format html: exit $rc, expected 1 (the strict candidate refuses)"
"$tlsgate" report --format json -o "$work/report.json" "${what_if[@]}" "${files[@]}" || rc=$?
python3 "$here/report-html.py" "$work/report.html" "$work/report.json" "${hostile[@]}"
