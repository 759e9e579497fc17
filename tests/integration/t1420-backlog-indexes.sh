#!/bin/sh
# Issue 11, also tested: big WALs and big transactions against the index
# limit (here 1 MiB instead of 4 GiB, LITESTREAM_C_MAX_INDEX_BYTES).
#  1. A 6 MB WAL found when a generation starts is split across indexes
#     of at most the limit (before, index 0 took the whole WAL).
#  2. One transaction bigger than the limit goes into one index (the only
#     allowed overflow).  A restart after it starts at most one new
#     generation (an index that rolled has a header of our own and does
#     not resume: README, known limits) and then no more: a huge last
#     segment once failed the position finder's fixed 8 GiB cap, and each
#     new generation made the same segment again, for ever; the cap is now
#     what the shadow WAL holds of the index.
# Oracle: per-index sizes from the segments themselves (lz4 -d), the
# generations, restores by us and by Litestream v0.3.13 exact.
. "$(dirname "$0")/lib.sh"
command -v lz4 >/dev/null 2>&1 || skip "lz4 CLI missing"
cd "$T"
LIMIT=1048576
export LITESTREAM_C_MAX_INDEX_BYTES=$LIMIT
cat > w.py <<'PY'
import os, sqlite3, sys, time
c = sqlite3.connect("app.db", isolation_level=None, timeout=10)
c.execute("PRAGMA journal_mode=wal")
c.execute("PRAGMA wal_autocheckpoint=0")
c.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)")
for i in range(int(sys.argv[1])):
    c.execute("INSERT INTO t(v) VALUES (randomblob(1500))")
if len(sys.argv) > 2:  # one big transaction
    c.execute("PRAGMA cache_size=50")
    c.execute("BEGIN")
    for i in range(int(sys.argv[2])):
        c.execute("INSERT INTO t(v) VALUES (randomblob(3000))")
    c.execute("COMMIT")
open(sys.argv[0] + ".done", "w").close()
# Stay connected (as an app does), so the WAL is not checkpointed away.
end = time.time() + 120
while not os.path.exists("release") and time.time() < end:
    time.sleep(0.05)
PY
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
min-checkpoint-page-count = 100000
max-checkpoint-page-count = 0
checkpoint-interval = 0
EOC
chmod 600 c.ini
note "1. a 6 MB WAL at the start of a generation"
bg /usr/bin/python3 w.py 3000; W=$BGPID
wait_for 30 test -f w.py.done || fail "writer"
[ "$(stat -c %s app.db-wal)" -gt 5000000 ] || fail "expected a long WAL"
bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d1.log || fail "no snapshot: $(tail -n 3 d1.log)"
note "2. one transaction of 3 MB, then a restart"
rm -f w.py.done
/usr/bin/python3 w.py 0 1000 & W2=$!
wait_for 30 test -f w.py.done || fail "big transaction"
kill -TERM $D; wait $D || fail "daemon exit status $?"
bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
wait_for 10 grep -q -E "resumed generation|snapshot written" d2.log || fail "no restart"
sleep 1
[ "$(grep -c 'new generation' d2.log)" -le 1 ] || fail "generations keep starting: $(grep -c 'new generation' d2.log)"
kill -TERM $D; wait $D || fail "daemon exit status $?"
touch release; wait $W; wait $W2
[ "$(ls rep/generations | wc -l)" -le 2 ] || fail "expected at most two generations"
# The first generation holds the backlog and the big transaction.
gen=$(ls -t rep/generations | tail -n 1)
for g in rep/generations/*; do [ -e "$g/wal/00000002_00000000.wal.lz4" ] && gen=$(basename "$g"); done
over=0
for idx in $(ls "rep/generations/$gen/wal" | cut -c1-8 | sort -u); do
	sz=0
	for f in rep/generations/$gen/wal/${idx}_*.wal.lz4; do
		sz=$((sz + $(lz4 -dc "$f" | wc -c)))
	done
	if [ "$sz" -gt "$LIMIT" ]; then over=$((over + 1)); note "index $idx: $sz bytes (over the limit)"; fi
done
# Only the index of the single 3 MB transaction may pass the limit.
[ "$over" -le 1 ] || fail "$over indexes over the limit"
find rep -name '*.wal.lz4' | grep -v -E '/[0-9a-f]{8}_[0-9a-f]{8}\.wal\.lz4$' && fail "segment name past 8 hex digits"
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed"
assert_same_db app.db out.db
if [ -x "$LITESTREAM" ]; then
	"$LITESTREAM" restore -o out2.db "file://$T/rep" 2>/dev/null || fail "Litestream restore failed"
	assert_same_db app.db out2.db
fi
echo "ok: $(ls rep/generations/$gen/wal | cut -c1-8 | sort -u | wc -l) indexes, $over over the limit, $(ls rep/generations | wc -l) generation(s), restores exact"
