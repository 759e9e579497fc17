#!/bin/sh
# replicate --restore-if-missing: one command for a container's entrypoint.
#  1. From a replica that has a backup: the missing database is restored
#     before the --exec app starts (the app finds every row), then
#     replicated; the replica restores the old rows and the app's new ones.
#  2. From an empty replica: nothing is restored, the app creates the
#     database, and the replica restores exactly what it committed.
#  3. With a config of two databases, the one that exists is left alone
#     and the missing one restored.
#  4. Refusals, with one line, exit 1, and no app started: a -wal file
#     without its database; a replica whose backup cannot be read.
. "$(dirname "$0")/lib.sh"
cd "$T"
. "$ROOT/tests/integration/lib-deploy.sh"

note "0. a replica with a backup (a first machine that is then lost)"
mkdir m1
$PY "$WRITER" m1/app.db ids.log --count 150 > /dev/null || fail "writer"
"$LSC" replicate --exec "$PY $WRITER m1/app.db ids.log --count 50" "$T/m1/app.db" "file://$T/rep" 2> m1.log ||
    fail "first machine: $(cat m1.log)"
rm -rf m1		# the machine, its disk and its shadow WAL are gone

note "1. a new machine: restored before the app starts, then replicated"
mkdir m2
# The app fails (exit 90) unless it finds all 200 rows at its start.
rc=0
"$LSC" replicate --restore-if-missing \
    --exec "$PY $WRITER m2/app.db ids.log --expect-rows 200 --count 100" \
    "$T/m2/app.db" "file://$T/rep" 2> m2.log || rc=$?
show m2.log
[ $rc = 0 ] || fail "exit status $rc (90: the app did not find the restored rows)"
grep -q 'm2/app.db msg="database missing: restoring it from its replica"' m2.log || fail "no restore logged"
grep -q 'm2/app.db msg="restored from the replica"' m2.log || fail "no restore done"
# The restore ends before the app starts.
awk '/restored from the replica/ { r = NR } /application started/ { a = NR } END { exit !(r && a && r < a) }' m2.log ||
    fail "the app started before the restore ended"
restore_to out1.db rep
check_model out1.db ids.log
[ "$(tail -n 1 ids.log)" = 300 ] || fail "want 300 commits in all"

note "2. an empty replica: the app creates the database"
mkdir m3
cat > app3.sh <<EOF
[ -e m3/app.db ] && exit 91		# nothing may have been restored
exec $PY "$WRITER" m3/app.db ids3.log --count 100
EOF
rc=0
"$LSC" replicate --restore-if-missing --exec "sh app3.sh" "$T/m3/app.db" "file://$T/rep3" 2> m3.log || rc=$?
show m3.log
[ $rc = 0 ] || fail "exit status $rc"
grep -q 'm3/app.db msg="the replica has no backup: the application will create the database"' m3.log ||
    fail "no 'no backup' line"
restore_to out3.db rep3
check_model out3.db ids3.log

note "3. a config of two: the existing database untouched, the missing one restored"
mkdir m4
$PY "$WRITER" m4/keep.db idsk.log --count 10 > /dev/null || fail "writer"
sum_before=$(cksum < m4/keep.db)
cat > c.ini <<EOF
[db "$T/m4/keep.db"]
replica = file://$T/rep-keep
[db "$T/m4/app.db"]
replica = file://$T/rep
EOF
rc=0
"$LSC" replicate --restore-if-missing -c c.ini --exec "cksum < m4/keep.db > keep.sum; sqlite3 m4/app.db 'SELECT count(*) FROM t' > app.count" 2> m4.log || rc=$?
show m4.log
[ $rc = 0 ] || fail "exit status $rc"
[ "$(grep -c 'database missing' m4.log)" = 1 ] || fail "the existing database was restored over"
grep -q "m4/keep.db msg=\"database missing" m4.log && fail "keep.db taken for missing"
[ "$(cat keep.sum)" = "$sum_before" ] || fail "keep.db changed before the app started"
[ "$(cat app.count)" = 300 ] || fail "the app saw $(cat app.count) rows, want 300"

note "4. refusals: a -wal without its database; an unreadable backup"
mkdir m5
echo junk > m5/app.db-wal
rc=0
"$LSC" replicate --restore-if-missing --exec "touch started" "$T/m5/app.db" "file://$T/rep" 2> m5.log || rc=$?
show m5.log
[ $rc = 1 ] || fail "exit status $rc, want 1"
[ "$(grep -c . m5.log)" = 2 ] || fail "more than the restore line and the one error line"
grep -q "^litestream-c: cannot restore missing database '$T/m5/app.db': '$T/m5/app.db-wal' exists without its database" m5.log ||
    fail "unclear error"
[ -e started ] && fail "the app was started"
[ -e m5/app.db ] && fail "a database was created"
rm -f m5/app.db-wal
# A backup whose snapshot is damaged: refused, not taken for "no backup"
# (the app would then start on an empty database).
cp -r rep rep-bad
for f in rep-bad/generations/*/snapshots/*.lz4; do printf 'garbage' > "$f"; done
rc=0
"$LSC" replicate --restore-if-missing --exec "touch started" "$T/m5/app.db" "file://$T/rep-bad" 2> m6.log || rc=$?
show m6.log
[ $rc = 1 ] || fail "exit status $rc, want 1"
grep -q "^litestream-c: cannot restore missing database '$T/m5/app.db': " m6.log || fail "unclear error"
[ -e started ] && fail "the app was started"
[ -e m5/app.db ] && fail "a database was left"
ls m5 | grep -q tmp && fail "a temporary file was left: $(ls m5)"
echo "ok"
