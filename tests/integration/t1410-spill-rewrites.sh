#!/bin/sh
# Issue 11, also tested: a writer whose spilling transactions rewrite
# pages they already spilled (SQLite then rewrites those frames, and at
# COMMIT the checksums of every frame after the first rewritten one), at
# sync-interval = 0, so the daemon looks at the WAL while frames change
# under it.  Every state the replica holds must be exact: the latest
# restore is the last commit, and a restore to each WAL index boundary
# (--index) is the exact state after some committed step, in order.
. "$(dirname "$0")/lib.sh"
cd "$T"
M="/usr/bin/python3 $ROOT/tests/tools/model.py"
MIX="commit=55,spill=30,rollback=10,passive=5"
SEED=${SEED:-$$}
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 0
min-checkpoint-page-count = 400
# A full-speed writer never pauses for a checkpoint's fsyncs, so the WAL
# resets at this bound (with a brief write lock): several WAL indexes.
max-checkpoint-page-count = 800
EOC
chmod 600 c.ini
$M write app.db --seed "$SEED" --mix "$MIX" --steps 0 >/dev/null || fail "cannot create the database"
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d.log || fail "no snapshot"
# A few milliseconds between steps, as an app has: checkpoints then find
# the quiet moments that let the WAL restart.
$M write app.db --seed "$SEED" --mix "$MIX" --log w.log --steps 120 --pause-ms 3 >/dev/null || fail writer
final=$(sed -n 's/^done //p' w.log)
kill -TERM $D; wait $D || fail "daemon exit status $?"
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed"
$M check out.db --seed "$SEED" --mix "$MIX" --exact "$final" || fail "latest restore"
gen=$(ls rep/generations | head -n 1)
[ "$(ls rep/generations | wc -l)" = 1 ] || fail "expected one generation: $(ls rep/generations)"
prev=0 n=0
for idx in $(ls "rep/generations/$gen/wal" | cut -c1-8 | sort -u); do
	rm -f at.db
	"$LSC" restore -o at.db --index "$idx" "file://$T/rep" 2>/dev/null || fail "restore --index $idx failed"
	out=$($M check at.db --seed "$SEED" --mix "$MIX") || fail "index $idx: $out"
	step=${out#ok step=}; step=${step%% *}
	[ "$step" -ge "$prev" ] || fail "index $idx restores step $step, before $prev"
	prev=$step n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "expected several WAL indexes, found $n"
echo "ok: seed $SEED, $final steps, $n index restores each an exact committed state, latest exact"
