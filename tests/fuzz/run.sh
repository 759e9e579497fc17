#!/bin/sh
# SPDX-License-Identifier: MIT
# Run each libFuzzer target for a set time, one at a time (make fuzz).
#   tests/fuzz/run.sh FUZZ_BUILD SECONDS NAME...
# Target NAME is FUZZ_BUILD/fuzz_NAME, seeded from tests/fuzz/corpus/NAME
# (read only: new inputs go to FUZZ_BUILD/corpus/NAME, crashes to
# FUZZ_BUILD/artifacts/NAME-*).  Prints one line per target with its
# executions and exits 1 if any target found a crash, a leak, a timeout
# or a broken property.  To keep a finding as a regression input, fix
# it, then copy the artifact into tests/fuzz/corpus/NAME/.
set -u
build=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
failed=0
for name in "$@"; do
	bin=$build/fuzz_$name
	work=$build/corpus/$name
	art=$build/artifacts
	log=$build/fuzz_$name.log
	mkdir -p "$work" "$art"
	# -timeout: one input over 10 s is a hang; -rss_limit_mb: a bomb
	# must not get past its caps.  The work dir comes first, so that new
	# inputs land there and the checked-in corpus stays as it is.
	"$bin" "$work" "$here/corpus/$name" -max_total_time="$secs" \
	    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	    -artifact_prefix="$art/$name-" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name: ${execs:-?} executions in ${secs}s, coverage ${cov:-?}, no findings"
	else
		failed=1
		echo "fuzz $name: FINDING after ${execs:-?} executions (exit $rc); log $log:"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 8 | sed 's/^/    /'
	fi
done
[ "$failed" -eq 0 ]
