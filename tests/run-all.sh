#!/bin/sh
# make test: unit tests, then integration tests, then one total line.
BUILD=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
# The fuzz corpora replay as unit-level checks (one per input).
unit=$("$here/unit/run.sh" "$BUILD"/tests/test_* "$BUILD"/tests/replay_* 2>&1)
printf '%s\n' "$unit"
integ=$("$here/integration/run.sh" "$BUILD" 2>&1)
printf '%s\n' "$integ"
count() { printf '%s\n' "$1" | grep -E "^$2: " | tail -n1 | sed -E "s/.* ([0-9]+) $3.*/\1/"; }
up=$(printf '%s\n' "$unit" | tail -n1 | sed -E 's/^unit: ([0-9]+) passed.*/\1/')
uf=$(printf '%s\n' "$unit" | tail -n1 | sed -E 's/.* ([0-9]+) failed.*/\1/')
ip=$(printf '%s\n' "$integ" | tail -n1 | sed -E 's/^integration: ([0-9]+) passed.*/\1/')
if_=$(printf '%s\n' "$integ" | tail -n1 | sed -E 's/.* ([0-9]+) failed.*/\1/')
is=$(printf '%s\n' "$integ" | tail -n1 | sed -E 's/.* ([0-9]+) skipped.*/\1/')
case "$up$uf$ip$if_$is" in *[!0-9]*|'') echo "0 passed, 1 failed"; exit 1 ;; esac
echo "$((up + ip)) passed, $((uf + if_)) failed, $is skipped"
[ $((uf + if_)) -eq 0 ]
