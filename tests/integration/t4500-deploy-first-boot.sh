#!/bin/sh
# First boots: a configured database that does not exist yet is waited for
# (logged once, in metrics and in STATUS), not refused.
#  1. `replicate --exec APP DB URL` with no database: the app starts, makes
#     the database, commits and exits 0; the daemon exits 0 and the replica
#     restores exactly what the app committed.
#  2. A database created a few seconds after the daemon started (beside one
#     that exists): READY=1 comes without it, it is shown waiting in STATUS
#     and metrics, an empty file is still waited for, and the first write of
#     a rollback-journal database starts it; it never makes the unit
#     un-ready; the replica restores exactly.
#  3. A database removed under the daemon is waited for again, and its
#     successor replicated in a new generation.
#  4. A database whose directory does not exist is refused at start.
# Every commit's id is logged by the writer (tests/tools/id_writer.py): the
# restore must hold exactly ids 1..last, each with its value.
. "$(dirname "$0")/lib.sh"
cd "$T"
. "$ROOT/tests/integration/lib-deploy.sh"

note "1. first boot: --exec, no database; the app creates it"
cat > app.sh <<EOF
[ -e app.db ] && exit 91		# the app must start before the database exists
exec $PY "$WRITER" app.db ids1.log --count 200 --pace 2
EOF
rc=0
"$LSC" replicate --exec "sh app.sh" "$T/app.db" "file://$T/rep1" 2> fb.log || rc=$?
show fb.log
[ $rc = 0 ] || fail "exit status $rc, want 0"
[ "$(grep -c 'waiting for the database to be created' fb.log)" = 1 ] ||
    fail "not logged once as waiting"
grep -q 'msg="application started"' fb.log || fail "the app was not started"
grep -q 'db=.*app.db msg="the database appeared"' fb.log || fail "appearance not logged"
grep -q 'level=error' fb.log && fail "an error was logged"
restore_to out1.db rep1
check_model out1.db ids1.log
[ "$(tail -n 1 ids1.log)" = 200 ] || fail "the app did not commit 200 rows"

note "2. a database created a few seconds after the start"
sql a.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'row 1');" >/dev/null
echo 1 > idsa.log
MP=$(free_port)
cat > c.ini <<EOF
[daemon]
metrics = 127.0.0.1:$MP
[db "$T/a.db"]
replica = file://$T/rep-a
sync-interval = 200ms
[db "$T/late.db"]
replica = file://$T/rep-late
sync-interval = 200ms
EOF
bg $PY "$ROOT/tests/tools/notify_listener.py" "$T/notify.sock" "$T/notify.log" --timeout 120
wait_for 10 test -S notify.sock || fail "the listener did not bind"
NOTIFY_SOCKET="$T/notify.sock" "$LSC" replicate -c c.ini 2> late.log &
D=$!; LSC_PIDS="$LSC_PIDS $D"
wait_for 10 grep -q 'READY=1' notify.log ||
    fail "no READY=1 while late.db is missing: $(cat notify.log late.log)"
t_start=$(date +%s.%N)
grep -q "STATUS=2 databases, worst lag 0s, 1 waiting ($T/late.db: no database yet)" notify.log ||
    fail "STATUS does not show late.db waiting: $(cat notify.log)"
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$MP/metrics" > m.txt; }
waiting_is() { scrape && grep -q "^litestream_c_db_waiting{db=\"$T/late.db\",reason=\"database\"} $1\$" m.txt; }
wait_for 10 waiting_is 1 || fail "metrics do not show late.db waiting: $(grep waiting m.txt)"
grep -q "^litestream_c_db_waiting{db=\"$T/a.db\",reason=\"database\"} 0\$" m.txt || fail "a.db shown waiting"
grep -q "^litestream_c_db_waiting{db=\"$T/late.db\",reason=\"lock\"} 0\$" m.txt || fail "late.db shown locked"
grep -E '^litestream_c_db_waiting' m.txt | sed 's/^/    /'
# "A few seconds later" is the scenario itself.
sleep 2
# An empty file is an app in the middle of creating it: still waited for,
# and left alone (no WAL switch, no tables of ours).  Nothing to await:
# the check is that nothing happens within half a second.
: > late.db
sleep 0.5
[ "$(wc -c < late.db)" = 0 ] || fail "the daemon wrote to an empty file"
grep -q 'late.db msg="the database appeared"' late.log && fail "an empty file taken for a database"
# Rollback journal: no -wal file, only the database's own first write.
t_create=$(date +%s.%N)
$PY "$WRITER" late.db idsl.log --journal delete --count 1 > /dev/null || fail "writer"
wait_for 3 grep -q 'late.db msg=replicating' late.log ||
    fail "late.db not picked up within 3 s of its first write: $(cat late.log)"
t_seen=$(date +%s.%N)
echo "late.db picked up $(awk -v a="$t_create" -v b="$t_seen" 'BEGIN { printf "%.2f", b - a }') s after its first commit"
$PY "$WRITER" late.db idsl.log --count 100 --pace 2 > /dev/null || fail "writer"
wait_for 10 waiting_is 0 || fail "late.db still shown waiting"
sql a.db "INSERT INTO t VALUES (2, 'row 2')"; echo 2 >> idsa.log
kill -TERM $D; wait $D || fail "exit status $?"
show late.log
[ "$(grep -c 'late.db msg="waiting for the database to be created"' late.log)" = 1 ] ||
    fail "the wait was not logged exactly once"
[ "$(grep -c 'READY=1' notify.log)" = 1 ] || fail "READY=1 sent more than once"
# Never un-ready: no "starting" line once READY was sent.
awk '/READY=1/ { r = 1 } r && /STATUS=starting/ { bad = 1 } END { exit bad }' notify.log ||
    fail "STATUS went back to starting after READY: $(cat notify.log)"
echo "--- notify socket:"; sed 's/^/    /' notify.log
restore_to outl.db rep-late
check_model outl.db idsl.log
restore_to outa.db rep-a
check_model outa.db idsa.log

note "3. removed under the daemon: waited for again, the successor replicated"
bg "$LSC" replicate "$T/late.db" "file://$T/rep-late" 2> rm.log; D=$BGPID
wait_for 10 grep -q 'msg="every database has synced once"' rm.log || fail "no first sync: $(cat rm.log)"
rm -f late.db late.db-wal late.db-shm
wait_for 10 grep -q 'late.db msg="waiting for the database to be created"' rm.log ||
    fail "removal not waited for: $(cat rm.log)"
rm -f idsl.log
$PY "$WRITER" late.db idsl.log --count 20 > /dev/null || fail "writer"
# (This run resumed the generation, so a new one is the successor's.)
wait_for 10 grep -q 'late.db msg="snapshot written"' rm.log ||
    fail "the new database not replicated: $(cat rm.log)"
kill -TERM $D; wait $D || fail "exit status $?"
show rm.log
restore_to outr.db rep-late
check_model outr.db idsl.log

note "4. a database whose directory does not exist is refused"
rc=0
"$LSC" replicate "$T/nodir/app.db" "file://$T/rep4" 2> nd.err || rc=$?
show nd.err
[ $rc = 1 ] || fail "exit status $rc, want 1"
[ "$(wc -l < nd.err)" = 1 ] || fail "not one line"
grep -q "directory '$T/nodir' of database '$T/nodir/app.db' does not exist" nd.err || fail "unclear"
[ -e nodir ] || [ -e rep4 ] && fail "something was created"
echo "ok"
