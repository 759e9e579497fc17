#!/bin/sh
# Run the integration scripts tests/integration/tNNNN-*.sh against a build.
# Each script runs the real binary in its own temp dir and exits 0 (pass),
# 77 (skip: it must print "SKIP: reason") or anything else (fail).
# Usage: tests/integration/run.sh BUILD_DIR [PATTERN]
BUILD=$(cd "${1:-build}" && pwd)
PATTERN=${2:-t}
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0
logdir="$BUILD/test-logs"
mkdir -p "$logdir"
for t in "$here"/${PATTERN}*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	start=$(date +%s)
	# Every script has a hard time limit, so a hang fails instead of stalling CI.
	BUILD="$BUILD" timeout -k 10 "${TEST_TIMEOUT:-600}" sh "$t" >"$logdir/$name.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)  passed=$((passed + 1)); echo "ok   $name (${secs}s)" ;;
	77) skipped=$((skipped + 1))
	    echo "skip $name: $(grep -m1 '^SKIP:' "$logdir/$name.log" | sed 's/^SKIP: //')" ;;
	*)  failed=$((failed + 1)); echo "FAIL $name (exit $rc, ${secs}s); last lines of $logdir/$name.log:"
	    tail -n 30 "$logdir/$name.log" | sed 's/^/    /' ;;
	esac
done
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
