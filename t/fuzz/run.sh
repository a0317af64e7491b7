#!/usr/bin/env bash
# Runs libFuzzer targets one after the other for a given time each and prints one
# summary line per target (its exec count from -print_final_stats).
#   t/fuzz/run.sh BUILD_DIR SECONDS TARGET...
# The checked-in seeds (t/fuzz/corpus/TARGET/) are only read; what a run adds goes to
# BUILD_DIR/corpus/TARGET/ (kept from run to run), or with FUZZ_FRESH=1 to an emptied
# BUILD_DIR/smoke-corpus/TARGET/; crash inputs go to BUILD_DIR/crashes/, the full
# output to BUILD_DIR/logs/TARGET.log. t/fuzz/TARGET.options holds extra flags.
# Exit status: 0 if every target ran clean, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=$1 seconds=$2
shift 2
mkdir -p "$build/crashes" "$build/logs"
failed=()
for target in "$@"; do
  corpus="$build/corpus/$target"
  if [[ ${FUZZ_FRESH:-} == 1 ]]; then
    corpus="$build/smoke-corpus/$target"
    rm -rf "$corpus"
  fi
  log="$build/logs/$target.log"
  mkdir -p "$corpus"
  options=()
  if [[ -f t/fuzz/$target.options ]]; then
    while read -r opt; do
      [[ -z $opt || $opt == \#* ]] || options+=("$opt")
    done <"t/fuzz/$target.options"
  fi
  start=$SECONDS
  "$build/$target" -max_total_time="$seconds" -print_final_stats=1 -timeout=25 \
    -rss_limit_mb=2048 -artifact_prefix="$build/crashes/$target-" "${options[@]}" \
    "$corpus" "t/fuzz/corpus/$target" >"$log" 2>&1
  status=$?
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs=$(stat number_of_executed_units)
  rss=$(stat peak_rss_mb)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  printf '%s: %ss, %s execs (%s/s), %s, corpus %s files, peak rss %s MB\n' "$target" \
    $((SECONDS - start)) "${execs:-?}" "$(((${execs:-0}) / (SECONDS - start > 0 ? SECONDS - start : 1)))" \
    "${cov:-cov: ?}" "$(find "$corpus" "t/fuzz/corpus/$target" -type f | wc -l)" "${rss:-?}"
  if ((status != 0)); then
    echo "$target: FAILED (exit $status); the end of $log:" >&2
    tail -40 "$log" >&2
    failed+=("$target")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]} (inputs in $build/crashes/)" >&2
  exit 1
fi
echo "fuzz: $# targets ran clean for ${seconds}s each"
