#!/bin/sh
# Issue 11 defect 6 (checkpoints): a checkpoint is due by the frames of
# the whole real WAL cycle, not of the current index (which may have
# rolled while the WAL kept growing), and a WAL that due checkpoints
# cannot reset is warned about (once), and its recovery said.
#  1. Index limit 1 MiB (254 frames), min-checkpoint-page-count 300: per
#     index a checkpoint was never due and the WAL grew without bound.
#  2. A reader holds a read transaction: checkpoints cannot reset the WAL;
#     after LITESTREAM_C_STUCK_WARN_MS a warning, then recovery once the
#     reader ends.  Restores stay exact throughout.
. "$(dirname "$0")/lib.sh"
cd "$T"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
"$WALWRITER" app.db --count 1 >/dev/null || fail "walwriter cannot create its table"
cat > c.ini <<EOC
[daemon]
log-level = debug
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
min-checkpoint-page-count = 300
max-checkpoint-page-count = 0
checkpoint-interval = 0
EOC
chmod 600 c.ini
note "1. checkpoints are due by the whole WAL cycle across index rolls"
LITESTREAM_C_STUCK_WARN_MS=1500 LITESTREAM_C_MAX_INDEX_BYTES=1048576 \
    bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d.log || fail "no snapshot"
# A paced writer (400 commits/s of 1.5 KiB rows: ~100 frames per 100 ms
# pass), so that no single pass fills an index past the threshold by
# itself: only the cycle's count can make a checkpoint due.
"$WALWRITER" app.db --rate 400 --duration 5 --row-size 1500 >/dev/null || fail writer
wait_for 10 grep -q "msg=checkpoint " d.log || fail "no checkpoint ran: $(grep -c rolled d.log) rolls"
grep -q "rolled to a new WAL index" d.log || fail "the index never rolled"
# Per index (254 frames) a checkpoint was never due: not one ran, and the
# WAL held every frame.  How far the WAL grows meanwhile depends on how
# often the full-speed writer holds the write lock: reported, not asserted.
walsz=$(stat -c %s app.db-wal)
note "WAL $walsz bytes after 2000 paced commits, $(grep -c 'msg=checkpoint ' d.log) checkpoints"

note "2. a reader blocks resets: one warning, then recovery"
cat > reader.py <<'PY'
import os, sqlite3, time
c = sqlite3.connect("app.db", isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM t").fetchall()  # a read mark held
open("reading", "w").close()
end = time.time() + 60
while not os.path.exists("stop-reader") and time.time() < end:
    time.sleep(0.02)
c.execute("COMMIT")
PY
bg /usr/bin/python3 reader.py; R=$BGPID
wait_for 10 test -f reading || fail "reader did not start"
"$WALWRITER" app.db --count 400 --row-size 1500 >/dev/null || fail writer
wait_for 15 sh -c "'$WALWRITER' app.db --count 20 --row-size 1500 >/dev/null;
    grep -q 'the WAL has not been reset for' d.log" || fail "no warning about the stuck WAL"
[ "$(grep -c 'the WAL has not been reset for' d.log)" = 1 ] || fail "warned more than once"
grep 'the WAL has not been reset for' d.log | grep -q "level=warn" || fail "not a warning"
touch stop-reader; wait $R
wait_for 15 sh -c "'$WALWRITER' app.db --count 50 --row-size 1500 >/dev/null;
    grep -q 'checkpoints reset the WAL again' d.log" || fail "recovery not reported"
kill -TERM $D; wait $D || fail "daemon exit status $?"
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed"
assert_same_db app.db out.db
echo "ok: checkpoints across rolls; stuck WAL warned once and its recovery said"
