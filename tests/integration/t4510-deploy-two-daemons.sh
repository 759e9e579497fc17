#!/bin/sh
# One daemon per database (wal/dblock.h), as a rolling deploy meets it.
#  1. Two daemons on one database under a writer: the second waits (one
#     line naming the holder's pid and host, metrics reason="lock", nothing
#     written), the first is stopped mid-way with SIGTERM, the second takes
#     over at once and resumes the same generation; the replica restores
#     exactly the writer's last commit.
#  2. The same with the first killed by SIGKILL (no final sync: the second
#     ships what the first captured, from the shadow WAL).
#  3. --no-lock-wait: exit 1 at once with one line naming the holder's pid,
#     for both command forms; and a database held by another process that a
#     SIGHUP adds stops a --no-lock-wait daemon (exit 1) without touching it.
#  4. `restore` needs no lock.
. "$(dirname "$0")/lib.sh"
cd "$T"
. "$ROOT/tests/integration/lib-deploy.sh"
HOST=$(hostname)

sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" >/dev/null
MP=$(free_port)
printf '[db "%s"]\nreplica = file://%s\nsync-interval = 100ms\n' "$T/app.db" "$T/rep" > a.ini
printf '[daemon]\nmetrics = 127.0.0.1:%s\n' "$MP" > b.ini
cat a.ini >> b.ini
scrape() { curl -sf --max-time 5 "http://127.0.0.1:$MP/metrics" > m.txt; }
locked_is() { scrape && grep -q "^litestream_c_db_waiting{db=\"$T/app.db\",reason=\"lock\"} $1\$" m.txt; }

# handover N HOW: the scenario, with the first daemon stopped by signal HOW.
handover() {
	n=$1 how=$2
	rm -rf rep .app.db-litestream stop$n
	bg "$LSC" replicate -c a.ini 2> a$n.log; A=$BGPID
	wait_for 10 grep -q 'msg="every database has synced once"' a$n.log || fail "first daemon: $(cat a$n.log)"
	bg $PY "$WRITER" app.db ids$n.log --until stop$n --pace 3; W=$BGPID
	wait_for 20 more_lines ids$n.log 50 || fail "the writer is stuck"
	bg "$LSC" replicate -c b.ini 2> b$n.log; B=$BGPID
	wait_for 10 grep -q "msg=\"waiting: another process replicates this database\" holder=\"pid $A on host $HOST\" lock=$T/.app.db-litestream/lock" b$n.log ||
	    fail "the second daemon does not name the holder: $(cat b$n.log)"
	wait_for 10 locked_is 1 || fail "metrics do not show the lock wait: $(grep waiting m.txt)"
	at=$(lines ids$n.log)
	wait_for 20 more_lines ids$n.log $((at + 100)) || fail "the writer is stuck"
	# The second has touched nothing: no open, no generation, no upload.
	grep -E 'generation|replicating|snapshot|checkpoint' b$n.log && fail "the waiting daemon went to work"
	[ "$(ls rep/generations | wc -l)" = 1 ] || fail "more than one generation"
	kill -$how $A
	rc=0; wait $A || rc=$?
	echo "first daemon ended by SIG$how: exit status $rc"
	[ $how = TERM ] && [ $rc != 0 ] && fail "exit status $rc after SIGTERM"
	wait_for 10 grep -q 'msg="lock acquired: the other process is gone, taking over"' b$n.log ||
	    fail "no takeover: $(cat b$n.log)"
	at=$(lines ids$n.log)
	wait_for 20 more_lines ids$n.log $((at + 100)) || fail "the writer is stuck"
	touch stop$n; wait $W || fail "writer failed"
	kill -TERM $B; wait $B || fail "second daemon: exit status $?"
	show a$n.log
	show b$n.log
	[ "$(grep -c 'waiting: another process' b$n.log)" = 1 ] || fail "the wait was not logged once"
	gen=$(ls rep/generations)
	grep -q "msg=\"resumed generation\" generation=$gen" b$n.log ||
	    fail "the second daemon did not resume generation $gen"
	[ "$(ls rep/generations | wc -l)" = 1 ] || fail "a gap: more than one generation"
	restore_to out$n.db rep
	check_model out$n.db ids$n.log
}

note "1. two daemons under a writer; the first stopped with SIGTERM"
handover 1 TERM
t_gone=$(log_time a1.log 'msg="litestream-c shut down"')
t_took=$(log_time b1.log 'msg="lock acquired')
gap=$($PY -c "print('%.3f' % ($t_took - $t_gone))")
echo "takeover: ${gap}s from the first daemon's last log line to the second's lock"
$PY -c "import sys; sys.exit(0 if $gap < 0.5 else 1)" ||
    fail "takeover took ${gap}s: the lock file's close was not noticed"

note "2. the first killed with SIGKILL"
handover 2 KILL

note "3. --no-lock-wait fails at once, naming the holder"
bg "$LSC" replicate -c a.ini 2> h.log; H=$BGPID
wait_for 10 grep -q 'msg="every database has synced once"' h.log || fail "holder: $(cat h.log)"
for form in config single; do
	rc=0
	if [ $form = config ]; then
		"$LSC" replicate --no-lock-wait -c b.ini > nw.out 2> nw.err || rc=$?
	else
		"$LSC" replicate --no-lock-wait --exec "touch started" "$T/app.db" "file://$T/rep" > nw.out 2> nw.err || rc=$?
	fi
	show nw.err
	[ $rc = 1 ] || fail "$form: exit status $rc, want 1"
	[ "$(wc -l < nw.err)" = 1 ] || fail "$form: not one line"
	grep -q "database '$T/app.db' is replicated by another process (pid $H on host $HOST; lock file '$T/.app.db-litestream/lock'); not waiting for it (--no-lock-wait)" nw.err ||
	    fail "$form: unclear message"
done
[ -e started ] && fail "the app was started"
# At run time: a SIGHUP adds the held database to a --no-lock-wait daemon.
sql other.db "PRAGMA journal_mode=wal; CREATE TABLE t(x);" >/dev/null
printf '[db "%s"]\nreplica = file://%s\n' "$T/other.db" "$T/rep-other" > c.ini
bg "$LSC" replicate --no-lock-wait -c c.ini 2> c.log; C=$BGPID
wait_for 10 grep -q 'msg="every database has synced once"' c.log || fail "third daemon: $(cat c.log)"
cat a.ini >> c.ini
kill -HUP $C
rc=0; wait $C || rc=$?
show c.log
[ $rc = 1 ] || fail "exit status $rc after a held database was added, want 1"
grep -q "level=error db=$T/app.db msg=\"another process replicates this database; not waiting for it (--no-lock-wait)\" holder=\"pid $H on host $HOST\"" c.log ||
    fail "no error naming the holder"
grep -E "db=$T/app.db .*(generation|replicating|snapshot)" c.log && fail "the held database was touched"

note "4. restore needs no lock"
restore_to r4.db rep
echo "restored while pid $H holds the lock"
kill -TERM $H; wait $H || fail "holder: exit status $?"
echo "ok"
