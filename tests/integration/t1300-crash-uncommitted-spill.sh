#!/bin/sh
# Issue 11 defect 1: a kill -9 while the app's transaction spills to the
# WAL, then ROLLBACK, a small commit, a restart and more commits.  The
# frames of the rolled-back transaction must never be taken as committed,
# and every commit after the crash must reach the replica.  Before the
# fix, half of the runs restored only the commits made before the crash.
# Oracle: our restore and Litestream v0.3.13's equal the app's database.
. "$(dirname "$0")/lib.sh"
cd "$T"
RUNS=${RUNS:-6}
run_one() {
	n=$1
	rm -rf app.db app.db-wal app.db-shm .app.db-litestream rep go-* rolled-* stop-* ten-done
	sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
	cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 0
EOC
	chmod 600 c.ini
	# The app: 10 small commits, one big transaction that spills (small
	# cache) and is rolled back once the test says so, one small commit,
	# then (after the daemon's restart) 120 more.
	cat > app.py <<'PY'
import os, sqlite3, sys, time
c = sqlite3.connect("app.db", isolation_level=None, timeout=10)
c.execute("PRAGMA cache_size=20")
def wait(f):
    end = time.time() + 60
    while not os.path.exists(f):
        if time.time() > end: sys.exit("timeout waiting for " + f)
        time.sleep(0.01)
for i in range(10):
    c.execute("INSERT INTO t(v) VALUES (randomblob(3000))")
open("ten-done", "w").close()
# The daemon's first generation writes a row, which a long write
# transaction would block: start the big one once it has a snapshot.
wait("go-big")
c.execute("BEGIN")
rows = 4000 + int(sys.argv[1]) * 500
for i in range(rows):
    c.execute("INSERT INTO t(v) VALUES (randomblob(3000))")
    if i % 500 == 0: time.sleep(0.05)
open("spilled", "w").close()
wait("rollback")
c.execute("ROLLBACK")
c.execute("INSERT INTO t(v) VALUES (randomblob(3000))")
open("rolled-back", "w").close()
wait("go-more")
for i in range(120):
    c.execute("INSERT INTO t(v) VALUES (randomblob(3000))")
open("stop-app", "w").close()
wait("release")
PY
	bg /usr/bin/python3 app.py "$n"
	APP=$BGPID
	wait_for 20 test -f ten-done || fail "app did not start"
	bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
	wait_for 20 grep -q "snapshot written" d1.log || fail "run $n: no snapshot: $(tail -n 5 d1.log)"
	touch go-big
	# kill -9 at a moment spread over the spilling transaction
	sleep "0.$(( (n * 37) % 9 + 1 ))"
	kill -9 $D; wait $D 2>/dev/null
	wait_for 60 test -f spilled || fail "app did not spill"
	touch rollback
	wait_for 20 test -f rolled-back || fail "app did not roll back"
	bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
	wait_for 20 grep -q -E "resumed generation|new generation" d2.log || fail "no start: $(cat d2.log)"
	touch go-more
	wait_for 60 test -f stop-app || fail "app did not finish"
	kill -TERM $D; wait $D || fail "run $n: daemon exit status $?"
	rm -f out.db out2.db
	"$LSC" restore -o out.db "file://$T/rep" || fail "run $n: restore failed"
	[ "$(sqlite3 out.db 'SELECT count(*) FROM t')" = 131 ] ||
	    fail "run $n: restored $(sqlite3 out.db 'SELECT count(*) FROM t') of 131 commits ($(grep -h -o 'resumed generation\|new generation[^$]*' d2.log))"
	assert_same_db app.db out.db
	if [ -x "$LITESTREAM" ]; then
		"$LITESTREAM" restore -o out2.db "file://$T/rep" 2>/dev/null || fail "run $n: Litestream restore failed"
		assert_same_db app.db out2.db
	fi
	touch release; wait $APP
	rm -f release rollback spilled go-more
	note "run $n ok: $(grep -o -E 'resumed generation|new generation[^	]*reason="[^"]*"' d2.log | head -n1)"
}
i=1
while [ $i -le "$RUNS" ]; do run_one $i; i=$((i + 1)); done
echo "ok: $RUNS runs, every commit after the crash restored"
