#!/bin/sh
# The daemon's start-up position finding against a hostile replica (fault
# matrix rows 22, 23).  At start-up the daemon lists its generation and
# reads the last segment to learn where the replica ends.
#  1. That segment is replaced by an 8 GiB LZ4 bomb: the daemon reads no
#     more of it than its own shadow WAL holds, warns once naming the key,
#     starts exactly one new generation (not one per sync), replicates on,
#     with bounded memory and time; a restore equals the source.
#  2. A restart finds the new generation clean and resumes it.
#  3. A key with a 16-digit offset (ffffffffffffffff) appears in that
#     generation: before, the position overflowed to a small offset (99)
#     and the daemon shipped a segment there (00000000_00000063), over the
#     replica's own bytes: a replica that no longer restores.
#     Now: one warning, one new generation, nothing shipped into the old
#     one, and the restore still equals the source.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-hostile.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI missing"
[ -x /usr/bin/time ] || skip "/usr/bin/time missing (Debian package time)"
cd "$T"
REP=$T/rep
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" >/dev/null
printf '[db "%s/app.db"]\nreplica = file://%s\nsync-interval = 100ms\n' "$T" "$REP" > c.ini
chmod 600 c.ini
n=0
# add: one more row (the daemon ships it; sync_one waits for its log line
# at debug level).
add() { n=$((n + 1)); sql app.db "INSERT INTO t(v) VALUES ('row $n')"; }
segments() { grep -c 'wal segment written' "$1"; }
# sync_one LOG: add a row and wait until the daemon has shipped it.
sync_one() {
	_before=$(segments "$1")
	add
	wait_for 10 sh -c "[ \$(grep -c 'wal segment written' '$1') -gt $_before ]" ||
	    fail "row $n was not shipped (log $1)"
}
export LITESTREAM_C_LOG_LEVEL=debug

# start LOG: the daemon under /usr/bin/time (peak RSS at exit).
start() {
	/usr/bin/time -f 'measured: %M %e' -o "$1.time" "$LSC" replicate -c c.ini 2> "$1" &
	D=$!
	LSC_PIDS="$LSC_PIDS $D"
	wait_for 20 grep -q 'every database has synced once' "$1" ||
	    fail "the daemon did not sync (log $1): $(tail -n 3 "$1")"
}
stop() {
	kill -TERM "$(pgrep -P "$D" -x litestream-c)" 2>/dev/null || kill -TERM "$D"
	wait "$D" || fail "daemon exit status $? (log $1)"
	RSS_KB=$(sed -n 's/^measured: \([0-9]*\) .*/\1/p' "$1.time")
	echo "   daemon peak RSS ${RSS_KB} KiB"
}
gens() { ls "$REP/generations"; }
# restore_equals: the latest restore equals app.db.  Only while a daemon
# runs: a sqlite3 that closes app.db as its last connection checkpoints
# and deletes the WAL, and the next start would rightly begin a new
# generation (README, Known limits).
restore_equals() {
	rm -f r.db
	"$LSC" restore -o r.db "file://$REP" 2> r.err || fail "restore: $(cat r.err)"
	assert_same_db app.db r.db
}

note "a generation with a snapshot and segments"
start d1.log
sync_one d1.log; sync_one d1.log
stop d1.log
GEN1=$(gens)
LAST=$(ls "$REP/generations/$GEN1/wal" | tail -n 1)
echo "generation $GEN1, last segment $LAST"

note "1. the last segment is an 8 GiB bomb"
/usr/bin/python3 "$HOSTILE" bomb "$REP/generations/$GEN1/wal/$LAST" 8.01
t0=$(date +%s)
start d2.log
wait_for 20 grep -q 'is not ours' d2.log || fail "no warning about the bomb: $(tail -n 5 d2.log)"
grep 'level=warn' d2.log | grep 'is not ours' | grep -q "key=generations/$GEN1/wal/$LAST" ||
    fail "the warning does not name the key: $(grep 'is not ours' d2.log)"
for i in 1 2 3 4 5; do sync_one d2.log; done
restore_equals
stop d2.log
[ "$RSS_KB" -le 102400 ] || fail "peak RSS $RSS_KB KiB with a bomb in the replica"
[ $(( $(date +%s) - t0 )) -le 60 ] || fail "phase 1 took over 60 s"
[ "$(grep -c 'msg="new generation"' d2.log)" = 1 ] || { grep 'generation' d2.log; fail "want exactly one new generation"; }
grep 'msg="new generation"' d2.log | grep -q "$LAST" || fail "the new generation's reason does not name the bomb"
[ "$(gens | wc -l)" = 2 ] || fail "want 2 generations, have: $(gens | tr '\n' ' ')"
GEN2=$(gens | grep -v "$GEN1")
grep 'is not ours' d2.log | head -n 1

note "2. a restart resumes the clean generation"
start d3.log
sync_one d3.log
restore_equals
stop d3.log
grep -q "resumed generation.*generation=$GEN2" d3.log || fail "did not resume $GEN2: $(grep generation d3.log)"
grep -q 'msg="new generation"' d3.log && fail "a new generation without cause"

note "3. a key with offset ffffffffffffffff in that generation"
IDX=$(ls "$REP/generations/$GEN2/wal" | tail -n 1 | cut -c1-8)
HUGE=${IDX}_ffffffffffffffff.wal.lz4
# A valid frame of 100 bytes: the old code read it and wrapped the
# position around to offset 99 (0x63).
printf '%0100d' 0 | lz4 -q -c > "$REP/generations/$GEN2/wal/$HUGE" ||
    fail "lz4 CLI missing"
ls "$REP/generations/$GEN2/wal" | sort > before.txt
start d4.log
wait_for 20 grep -q 'is not ours' d4.log || fail "no warning about the huge offset: $(tail -n 5 d4.log)"
grep 'is not ours' d4.log | grep -q "key=generations/$GEN2/wal/$HUGE.*starts at offset 18446744073709551615" ||
    fail "the warning does not explain: $(grep 'is not ours' d4.log)"
sync_one d4.log; sync_one d4.log
restore_equals
stop d4.log
[ "$(grep -c 'msg="new generation"' d4.log)" = 1 ] || fail "want exactly one new generation"
ls "$REP/generations/$GEN2/wal" | sort > after.txt
cmp -s before.txt after.txt || { diff before.txt after.txt; fail "the daemon shipped into the generation it left"; }
echo ok
