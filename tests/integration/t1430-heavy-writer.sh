#!/bin/sh
# Issue 11, also tested: a 50 MB/s writer in 5 MB transactions (each
# spills before it commits) for HEAVY_SECONDS (10 here; the review asked
# for 30: HEAVY_SECONDS=30).  Continuity must hold throughout: exactly one
# generation, no sync errors, the WAL's size kept bounded by the daemon's
# checkpoints (reported), and the restore exact.
. "$(dirname "$0")/lib.sh"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
SECS=${HEAVY_SECONDS:-10}
cd "$T"
"$WALWRITER" app.db --count 1 >/dev/null || fail "walwriter cannot create its table"
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 1s
EOC
chmod 600 c.ini
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d.log || fail "no snapshot"
# 10 transactions a second of 1700 rows of 3000 bytes: about 5 MB each.
"$WALWRITER" app.db --rate 10 --duration "$SECS" --rows-per-tx 1700 --row-size 3000 > w.out &
WP=$!
maxwal=0 i=0
while kill -0 $WP 2>/dev/null && [ $i -lt $((SECS * 20 + 200)) ]; do
	s=$(stat -c %s app.db-wal 2>/dev/null || echo 0)
	[ "$s" -gt "$maxwal" ] && maxwal=$s
	sleep 0.05
	i=$((i + 1))
done
wait $WP || fail "writer: $(cat w.out)"
kill -TERM $D; wait $D || fail "daemon exit status $?"
gens=$(grep -c "new generation" d.log)
[ "$gens" = 1 ] || fail "expected 1 generation, $gens started: $(grep 'new generation' d.log | sed 's/.*reason=//' | sort | uniq -c)"
grep -q "sync failed" d.log && fail "sync errors: $(grep 'sync failed' d.log | head -n 3)"
"$WALWRITER" app.db --verify >/dev/null || fail "the app's own database does not verify"
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed"
assert_same_db app.db out.db
echo "ok: $(cat w.out); 1 generation; the WAL peaked at $((maxwal / 1048576)) MiB"
