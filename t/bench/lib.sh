# shellcheck shell=bash
# Helpers the benchmark scripts share (t/bench/*.sh; sourced from the project root).
#   run CMD...          print "$ CMD", then run it
#   field NAME          the value of NAME=... in a "result: a=1 b=2" line on stdin
#   cpu_ticks PID       utime + stime of PID, in clock ticks
#   median              the median of the numbers on stdin, one a line
#   wait_listen PORT    wait (10 s at most) until something listens on 127.0.0.1:PORT

run() { echo "\$ $*" >&2; "$@"; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wait_listen() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): nothing listens on $1" >&2
    return 1
}
