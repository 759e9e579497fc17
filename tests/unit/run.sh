#!/bin/sh
# Run unit-test binaries; print each one's verdict line and a total.
# Usage: tests/unit/run.sh BIN...
passed=0 failed=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(printf '%s' "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	if [ -z "$line" ]; then p=0 f=1; fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	[ "$f" -ne 0 ] && printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed' | tail -n 40
	printf 'unit %-32s %s passed, %s failed\n' "$(basename "$t")" "$p" "$f"
	passed=$((passed + p)) failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
