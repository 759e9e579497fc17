#!/bin/sh
# Issue 9: the app's -wal file after a burst.  A reader holds a read
# transaction while a writer writes about 100 MB, so no checkpoint can
# reset the WAL and its file grows past 64 MiB.  Once the reader and the
# writer are done, the daemon checkpoints the WAL fully and truncates the
# file (a TRUNCATE checkpoint that never waits): within seconds it is back
# under 64 MiB, with no write of ours, and the replica restores exactly.
. "$(dirname "$0")/lib.sh"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
cd "$T"
"$WALWRITER" app.db --count 1 >/dev/null || fail "walwriter cannot create its table"
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 200ms
checkpoint-interval = 1s
EOC
chmod 600 c.ini
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d.log || fail "no snapshot"
cat > reader.py <<'PY'
import os, sqlite3, time
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM t").fetchall()
open("reading", "w").close()
end = time.time() + 60
while not os.path.exists("stop-reader") and time.time() < end:
    time.sleep(0.02)
c.execute("COMMIT")
# Stay connected, as an app does (the last connection to close would
# checkpoint and delete the WAL itself).
while not os.path.exists("release") and time.time() < end:
    time.sleep(0.05)
PY
bg /usr/bin/python3 reader.py; R=$BGPID
wait_for 10 test -f reading || fail "reader did not start"
"$WALWRITER" app.db --count 25000 --row-size 3000 >/dev/null || fail writer
big=$(stat -c %s app.db-wal)
[ "$big" -gt $((64 << 20)) ] || fail "the WAL did not grow past 64 MiB ($big bytes)"
touch stop-reader
wait_for 20 sh -c "[ \$(stat -c %s app.db-wal) -lt $((64 << 20)) ]" ||
    fail "the WAL file is still $(stat -c %s app.db-wal) bytes"
note "WAL file $((big >> 20)) MiB after the burst, $(( $(stat -c %s app.db-wal) >> 20 )) MiB once quiet"
"$WALWRITER" app.db --count 100 >/dev/null || fail "writer after the truncation"
kill -TERM $D; wait $D || fail "daemon exit status $?"
[ "$(grep -c 'new generation' d.log)" = 1 ] || fail "the truncation started a new generation"
touch release; wait $R
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed"
assert_same_db app.db out.db
echo "ok: WAL back under 64 MiB after a $((big >> 20)) MiB burst, one generation, restore exact"
