#!/usr/bin/env bash
# Runs libFuzzer targets one after the other and prints one summary line per target
# (its exec count from -print_final_stats).
#   t/fuzz/run.sh BUILD_DIR SECONDS TARGET...   explore: random seeds, SECONDS each
#   t/fuzz/run.sh BUILD_DIR smoke TARGET...     make check: the same runs every time
#   t/fuzz/run.sh BUILD_DIR replay TARGET...    make test: the seeds and regression
#                                               inputs only, a few seconds
# Explore: the checked-in seeds (t/fuzz/corpus/TARGET/) and regression inputs
# (t/fuzz/regressions/TARGET/, each an input that once broke a property) are only
# read; what a run adds goes to BUILD_DIR/corpus/TARGET/, kept from run to run.
# Smoke: an emptied BUILD_DIR/smoke-corpus/TARGET/, -seed=1 and the number of runs
# that t/fuzz/smoke-runs gives the target, so that a green run means the same thing
# twice. Crash inputs go to BUILD_DIR/crashes/, the full output to
# BUILD_DIR/logs/TARGET.log. t/fuzz/TARGET.options holds extra flags.
# Exit status: 0 if every target ran clean, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=$1 budget=$2
shift 2
mkdir -p "$build/crashes" "$build/logs"
failed=()
for target in "$@"; do
  options=()
  if [[ -f t/fuzz/$target.options ]]; then
    while read -r opt; do
      [[ -z $opt || $opt == \#* ]] || options+=("$opt")
    done <"t/fuzz/$target.options"
  fi
  if [[ $budget == replay ]]; then
    corpus="$build/replay-corpus/$target"
    rm -rf "$corpus"
    options+=(-runs=0)
  elif [[ $budget == smoke ]]; then
    corpus="$build/smoke-corpus/$target"
    rm -rf "$corpus"
    runs=$(awk -v t="$target" '$1 == t { print $2 }' t/fuzz/smoke-runs)
    [[ -n $runs ]] || { echo "$target: not in t/fuzz/smoke-runs" >&2; failed+=("$target"); continue; }
    options+=(-seed=1 -runs="$runs")
  else
    corpus="$build/corpus/$target"
    options+=(-max_total_time="$budget")
  fi
  seeds=("t/fuzz/corpus/$target")
  [[ -d t/fuzz/regressions/$target ]] && seeds+=("t/fuzz/regressions/$target")
  log="$build/logs/$target.log"
  mkdir -p "$corpus"
  start=$SECONDS
  "$build/$target" -print_final_stats=1 -timeout=25 -rss_limit_mb=2048 \
    -artifact_prefix="$build/crashes/$target-" "${options[@]}" \
    "$corpus" "${seeds[@]}" >"$log" 2>&1
  status=$?
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  execs=$(stat number_of_executed_units)
  rss=$(stat peak_rss_mb)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  printf '%s: %ss, %s execs (%s/s), %s, corpus %s files, peak rss %s MB\n' "$target" \
    $((SECONDS - start)) "${execs:-?}" "$(((${execs:-0}) / (SECONDS - start > 0 ? SECONDS - start : 1)))" \
    "${cov:-cov: ?}" "$(find "$corpus" "${seeds[@]}" -type f | wc -l)" "${rss:-?}"
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
if [[ $budget == replay ]]; then
  echo "fuzz: $# targets replayed their seeds and regression inputs clean"
elif [[ $budget == smoke ]]; then
  echo "fuzz: $# targets ran clean (seed 1, the runs of t/fuzz/smoke-runs)"
else
  echo "fuzz: $# targets ran clean for ${budget}s each"
fi
