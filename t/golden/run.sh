#!/usr/bin/env bash
# Golden tests: each cases/NAME.args holds the arguments of one tlsgate run, one a line (paths
# relative to the repository root); cases/NAME.out the expected stdout and stderr
# followed by "exit N". Compared byte for byte; a diff is printed on failure.
#   t/golden/run.sh build/tlsgate            run all cases
#   t/golden/run.sh build/tlsgate --update   rewrite the .out files (review the diff!)
set -uo pipefail
binary=$(readlink -f "$1")
update=${2:-}
cd "$(dirname "$0")/../.."

# Users, groups: `-n` checks [milter] user and group against the system (getpwnam), so
# every case runs with the fixed users and groups of t/golden/nss/ (root, nobody,
# tlsgate) through nss_wrapper, whatever this machine has.
if [[ -n $(LD_PRELOAD=libnss_wrapper.so true 2>&1) ]]; then  # ld.so: "cannot be preloaded"
  echo "golden: needs nss_wrapper: apt-get install libnss-wrapper (or make test-deps)" >&2
  exit 1
fi
nss=(env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD=t/golden/nss/passwd
  NSS_WRAPPER_GROUP=t/golden/nss/group)

passed=0 failed=0
for args_file in t/golden/cases/*.args; do
  name=$(basename "$args_file" .args)
  expected=t/golden/cases/$name.out
  mapfile -t args <"$args_file"
  actual=$("${nss[@]}" "$binary" "${args[@]}" 2>&1; echo "exit $?")
  if [ "$update" = --update ]; then
    printf '%s\n' "$actual" >"$expected"
  fi
  if diff -u --label "$expected" --label "actual: tlsgate ${args[*]}" "$expected" <(printf '%s\n' "$actual"); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "golden: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
