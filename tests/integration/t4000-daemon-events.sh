#!/bin/sh
# The event-driven daemon: sync-interval = 0 ships a commit as it lands;
# idle databases cost no CPU; a database replaced under us starts a new
# generation; SIGHUP adds, removes and restarts databases while leaving
# the others alone (and a bad config changes nothing); --exec starts the
# app after the first sync, forwards SIGTERM, and exits with the app's
# status; too low an open-file limit is refused at start; quick use
# without a config file.
. "$(dirname "$0")/lib.sh"
cd "$T"
PY=/usr/bin/python3

mkdb() { sql "$1" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" >/dev/null; }
# A connection held open, as an app would (see t1120 for why).
hold() {
	bg $PY -c "import sqlite3,os,time
c=sqlite3.connect('$1'); c.execute('select count(*) from t').fetchall()
end=time.time()+300
while not os.path.exists('release') and time.time()<end: time.sleep(0.05)"
}
restore_check() { # DB REPLICA_DIR
	rm -f out.db
	"$LSC" restore -o out.db "file://$T/$2" 2> r.err || fail "restore of $2: $(cat r.err)"
	assert_same_db "$1" out.db
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

note "1. sync-interval = 0: each commit ships as it lands"
for i in 1 2 3 4 5; do mkdb "db$i.db"; hold "db$i.db"; done
cat > a.ini <<EOC
[db "$T/db1.db"]
replica = file://$T/rep1
sync-interval = 0
EOC
for i in 2 3 4 5; do printf '[db "%s"]\nreplica = file://%s\n' "$T/db$i.db" "$T/rep$i" >> a.ini; done
chmod 600 a.ini
bg "$LSC" replicate -c a.ini 2> a.log; D=$BGPID
wait_for 10 grep -q "every database has synced once" a.log || fail "no first sync: $(cat a.log)"
nseg() { find rep1 -name '*.wal.lz4' | wc -l; }
# wait_for runs its command again each time: no $(...) in its arguments.
more_segs() { [ "$(nseg)" -gt "$1" ]; }
for k in 1 2 3 4 5; do
	before=$(nseg)
	sql db1.db "INSERT INTO t(v) VALUES ('row $k')"
	wait_for 5 more_segs "$before" || fail "commit $k not shipped within 5s"
done
restore_check db1.db rep1
echo "5 commits, each shipped on its own"

note "2. idle databases cost no CPU"
# Let any start-up work settle (awaited: no new segment for a second).
sleep 1
t0=$(cpu_ticks $D)
sleep 3
t1=$(cpu_ticks $D)
echo "daemon CPU over 3 s idle with 5 databases: $((t1 - t0)) ticks of 1/$(getconf CLK_TCK) s"
[ $((t1 - t0)) -le 3 ] || fail "idle daemon used $((t1 - t0)) ticks"

note "3. a database replaced under the daemon starts a new generation"
# What a careful operator does: the app is stopped, the new file moved
# in, the old WAL and shm removed.
kill_holder() { touch release; sleep 0.2; rm -f release; }
sql db2.db "INSERT INTO t(v) VALUES ('old')"
wait_for 5 sh -c "ls rep2/generations/*/wal/*.wal.lz4" || fail "db2 never shipped"
g_before=$(ls rep2/generations)
sql new2.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('new');" >/dev/null
kill_holder
mv new2.db db2.db && rm -f db2.db-wal db2.db-shm
wait_for 10 grep -q "db=$T/db2.db.*new generation.*reason=\"no generation exists\"\|db=$T/db2.db msg=\"the database file was replaced" a.log ||
    fail "replacement not noticed: $(grep db2 a.log)"
two_gens() { [ "$(ls rep2/generations | wc -l)" = 2 ]; }
wait_for 10 two_gens || fail "no second generation: $(ls rep2/generations)"
hold db2.db
sql db2.db "INSERT INTO t(v) VALUES ('after')"
kill -TERM $D; wait $D || fail "exit status $?"
restore_check db2.db rep2
[ "$(sqlite3 out.db "SELECT group_concat(v) FROM t")" = "new,after" ] || fail "restored the old database"

note "4. SIGHUP: add, remove, change, and a bad config changes nothing"
for i in 1 2 3 4 5; do hold "db$i.db"; done
cat > h.ini <<EOC
[db "$T/db1.db"]
replica = file://$T/rep1
[db "$T/db3.db"]
replica = file://$T/rep3
EOC
chmod 600 h.ini
bg "$LSC" replicate -c h.ini 2> h.log; D=$BGPID
wait_for 10 grep -q "every database has synced once" h.log || fail "no first sync"
g1=$(ls rep1/generations)
cat > h.ini <<EOC
[db "$T/db1.db"]
replica = file://$T/rep1
[db "$T/db3.db"]
replica = file://$T/rep3
sync-interval = 200ms
[db "$T/db4.db"]
replica = file://$T/rep4h
EOC
sql db3.db "INSERT INTO t(v) VALUES ('before reload')"
kill -HUP $D
wait_for 10 grep -q "configuration reloaded.*added=1 removed=0 changed=1 unchanged=1" h.log ||
    fail "reload not done: $(tail -n 5 h.log)"
wait_for 10 sh -c "ls rep4h/generations/*/snapshots/*" || fail "added database not replicated"
wait_for 10 grep -q "db=$T/db3.db msg=\"restarting with the new settings\"" h.log || fail "db3 not restarted"
grep -q "db=$T/db1.db msg=\"restarting\|db=$T/db1.db msg=\"no longer" h.log && fail "db1 was touched"
# db1 kept running: a commit still ships, in the same generation.
sql db1.db "INSERT INTO t(v) VALUES ('after reload')"
printf '[db "%s"]\nreplica = file://%s\n[db "%s"]\nreplica = file://%s\n' \
    "$T/db1.db" "$T/rep1" "$T/db4.db" "$T/rep4h" > h.ini
sql db3.db "INSERT INTO t(v) VALUES ('last before removal')"
kill -HUP $D
wait_for 10 grep -q "db=$T/db3.db msg=\"no longer replicated\"" h.log || fail "db3 not removed"
restore_check db3.db rep3
echo "[db" > h.ini
kill -HUP $D
wait_for 10 grep -q "reload failed; keeping the running configuration" h.log || fail "bad config not refused"
printf '[db "%s"]\nreplica = file://%s\n' "$T/nodir/missing.db" "$T/repx" > h.ini
kill -HUP $D
wait_for 10 grep -q "reload refused.*directory .*nodir.* of database .*missing.db.* does not exist" h.log ||
    fail "database in a missing directory not refused"
kill -TERM $D; wait $D || fail "exit status $?"
[ "$(ls rep1/generations)" = "$g1" ] || fail "db1 changed generation"
restore_check db1.db rep1
restore_check db4.db rep4h

note "5. --exec: the app starts after the first sync, its status is ours"
cat > app.sh <<'EOS'
# The replica must already hold a snapshot when the app starts.
ls rep5x/generations/*/snapshots/* >/dev/null 2>&1 || exit 90
for i in 1 2 3 4 5 6 7 8 9 10; do
	sqlite3 -cmd ".timeout 5000" db5.db "INSERT INTO t(v) VALUES ('app $i')"
done
exit 7
EOS
rc=0
"$LSC" replicate --exec "sh app.sh" "$T/db5.db" "file://$T/rep5x" 2> e.log || rc=$?
[ $rc = 7 ] || fail "exit status $rc, want the app's 7: $(cat e.log)"
grep -q "application started" e.log || fail "no start logged"
restore_check db5.db rep5x
[ "$(sqlite3 out.db "SELECT count(*) FROM t WHERE v LIKE 'app %'")" = 10 ] || fail "app rows missing"

note "5b. --exec: SIGTERM goes to the app, which finishes its work"
cat > app2.py <<'EOS'
import signal, sqlite3, sys, time
def term(*_):
    c = sqlite3.connect("db5.db", timeout=5)
    c.execute("INSERT INTO t(v) VALUES ('written on SIGTERM')"); c.commit()
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
open("app2.started", "w").close()
end = time.time() + 60
while time.time() < end: time.sleep(0.05)
sys.exit(3)
EOS
bg "$LSC" replicate --exec "exec $PY app2.py" "$T/db5.db" "file://$T/rep5x" 2> e2.log; D=$BGPID
wait_for 10 test -e app2.started || fail "app not started: $(cat e2.log)"
kill -TERM $D
wait $D || fail "exit status $? (want the app's 0): $(cat e2.log)"
grep -q "passing the signal to the application" e2.log || fail "signal not forwarded"
restore_check db5.db rep5x
[ "$(sqlite3 out.db "SELECT count(*) FROM t WHERE v = 'written on SIGTERM'")" = 1 ] ||
    fail "the app's last write was not shipped"

note "6. too low an open-file limit is refused at start"
: > many.ini
for i in $(seq 1 10); do
	mkdb "m$i.db"
	printf '[db "%s"]\nreplica = file://%s\n' "$T/m$i.db" "$T/mrep$i" >> many.ini
done
chmod 600 many.ini
rc=0
(ulimit -n 40; exec "$LSC" replicate -c many.ini) 2> m.err || rc=$?
cat m.err
[ $rc = 1 ] || fail "exit status $rc, want 1"
[ "$(wc -l < m.err)" = 1 ] || fail "not one line"
grep -q "10 databases need about .* open files.*limit is 40" m.err || fail "unclear error"
touch release
echo "ok"
