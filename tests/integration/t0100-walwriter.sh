#!/bin/sh
# SPDX-License-Identifier: MIT
# walwriter, the writer the other tests lean on: ~1 s at 50 tx/s leaves a
# sound database whose row count is the last id in its commit log, and
# whose payloads check out.
. "$(dirname "$0")/lib.sh"

[ -x "$WALWRITER" ] || fail "no $WALWRITER (make $WALWRITER)"
db="$T/w.db"

note "1 s at 50 tx/s"
out=$("$WALWRITER" "$db" --rate 50 --duration 1 --log "$T/w.log") || fail "walwriter failed"
echo "$out"
echo "$out" | grep -E -q '^commits=[0-9]+ rows=[0-9]+ seconds=[0-9.]+ commits_per_sec=[0-9.]+ p50_us=[0-9.]+ p99_us=[0-9.]+ p999_us=[0-9.]+$' ||
	fail "summary line has the wrong shape: $out"
commits=$(echo "$out" | sed -E 's/^commits=([0-9]+) .*/\1/')
[ "$commits" -ge 35 ] && [ "$commits" -le 55 ] || fail "$commits commits in 1 s at 50/s"

[ "$(wc -l < "$T/w.log")" -eq "$commits" ] || fail "log has $(wc -l < "$T/w.log") lines for $commits commits"
awk 'NF != 3 || $1 !~ /^[0-9]+$/ || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ { bad = 1 }
     $1 != NR { bad = 1 } END { exit bad }' "$T/w.log" || fail "malformed log line"
last=$(tail -n 1 "$T/w.log" | cut -d' ' -f1)
rows=$(sqlite3 "$db" 'SELECT count(*) FROM t')
[ "$rows" = "$last" ] || fail "table has $rows rows, log's last id is $last"
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
[ "$(sqlite3 "$db" 'PRAGMA journal_mode')" = wal ] || fail "not in WAL mode"
"$WALWRITER" "$db" --verify || fail "payloads do not verify"

note "append: ids continue, K rows per tx, checkpoints, SIGTERM"
"$WALWRITER" "$db" --rows-per-tx 3 --checkpoint-every 10 --checkpoint-mode truncate \
	--log "$T/w2.log" > "$T/out2" &
pid=$!
sleep 0.3
kill -TERM "$pid"
wait "$pid" || fail "walwriter did not exit cleanly on SIGTERM"
grep -q '^commits=' "$T/out2" || fail "no summary after SIGTERM"
last2=$(tail -n 1 "$T/w2.log" | cut -d' ' -f1)
[ "$(head -n 1 "$T/w2.log" | cut -d' ' -f1)" = $((last + 3)) ] || fail "ids did not continue"
[ "$(sqlite3 "$db" 'SELECT count(*) FROM t')" = "$last2" ] || fail "rows after append"
"$WALWRITER" "$db" --verify || fail "payloads do not verify after append"

note "a bad option is a usage error"
"$WALWRITER" "$db" --checkpoint-mode sometimes 2>/dev/null; [ $? -eq 2 ] || fail "exit code for a bad option"
echo ok
