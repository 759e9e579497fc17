#!/bin/sh
# Stop and start: a clean restart resumes the generation; writes while
# stopped are picked up; an offline TRUNCATE checkpoint forces a new
# generation; kill -9 mid-write resumes (or starts a new generation) and
# loses nothing; SIGTERM's final sync ships the last commits.
. "$(dirname "$0")/lib.sh"
[ -x "$LITESTREAM" ] || skip "Litestream v0.3.13 not installed (npm ci)"
cd "$T"
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 10s
min-checkpoint-page-count = 40
EOC
chmod 600 c.ini
W="$ROOT/tests/tools/stress_writer.py"
# Like a real app, keep a connection open throughout: otherwise the last
# connection to close (even this test's own sqlite3 checks) checkpoints the
# WAL away, and a new generation is then the only safe answer.
bg /usr/bin/python3 -c "import sqlite3,os,time
c=sqlite3.connect('app.db'); c.execute('select count(*) from t').fetchall()
end=time.time()+300
while not os.path.exists('release') and time.time()<end: time.sleep(0.05)"
HOLDER=$BGPID
gens() { ls rep/generations | wc -l; }
restore_check() {
	rm -f out.db
	"$LITESTREAM" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed ($1)"
	assert_same_db app.db out.db
}

note "1. SIGTERM ships commits made just before it (sync-interval is 10s)"
bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d1.log || fail "no snapshot"
/usr/bin/python3 "$W" app.db 300 >/dev/null
kill -TERM $D; wait $D || fail "exit status $?"
restore_check "after SIGTERM"
[ "$(gens)" = 1 ] || fail "expected 1 generation"

note "2. writes while the daemon is down are resumed in the same generation"
/usr/bin/python3 "$W" app.db 100 >/dev/null
bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
wait_for 10 grep -q "resumed generation" d2.log || fail "did not resume: $(cat d2.log)"
kill -TERM $D; wait $D || fail "exit status $?"
restore_check "after writes while the daemon was down"
[ "$(gens)" = 1 ] || fail "expected still 1 generation"

note "3. an offline TRUNCATE checkpoint starts a new generation"
/usr/bin/python3 "$W" app.db 50 >/dev/null
sqlite3 app.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
/usr/bin/python3 "$W" app.db 50 >/dev/null
bg "$LSC" replicate -c c.ini 2> d3.log; D=$BGPID
wait_for 10 grep -q "new generation" d3.log || fail "no new generation: $(cat d3.log)"
wait_for 10 grep -q "snapshot written" d3.log || fail "no snapshot"
kill -TERM $D; wait $D || fail "exit status $?"
restore_check "after offline TRUNCATE"
[ "$(gens)" = 2 ] || fail "expected 2 generations"

note "4. kill -9 during writes, then restart"
bg "$LSC" replicate -c c.ini 2> d4.log; D=$BGPID
wait_for 10 grep -q "resumed generation" d4.log || fail "did not resume"
/usr/bin/python3 "$W" app.db 400 >/dev/null &
WP=$!
sleep 0.3
kill -9 $D; wait $D 2>/dev/null
wait $WP || fail writer
bg "$LSC" replicate -c c.ini 2> d5.log; D=$BGPID
wait_for 10 grep -q -E "resumed generation|new generation" d5.log || fail "no start"
kill -TERM $D; wait $D || fail "exit status $?"
restore_check "after kill -9"
grep -q "resumed generation" d5.log || note "kill -9 led to a new generation (allowed)"
touch release; wait $HOLDER
echo "ok: $(gens) generations, every restore exact"
