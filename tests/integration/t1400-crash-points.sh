#!/bin/sh
# Crash points, the SQLite way (issue 11).  One model-checked writer
# (tests/tools/model.py: commits, spills that rewrite their own frames,
# rollbacks, VACUUM, the app's own TRUNCATE and PASSIVE checkpoints) runs
# throughout.  For every named crash point P and N = 1, 2, ... the test
# build of the daemon (build/crash/litestream-c) runs with
# LSC_CRASHPOINT=P:N until it is killed there (SIGKILL at that instant);
# then:
#  - a restore must be a committed prefix (the exact state after some
#    committed step), and never older than an earlier restore;
#  - the real daemon restarts (resuming, or with one new generation),
#    takes SIGTERM, exits 0, and a restore is at least the last step
#    committed before the signal.
# A point not reached N times ends its loop.  Points reached only when a
# generation starts (newgen.*, fs.after-rename: the generation file) get
# one: the generation file is removed before their runs.  At the end: the writer
# stops, a clean run and stop, and the restore is exactly the last commit
# (also by Litestream v0.3.13).
#
# CRASH_MAX_N bounds N per point (make test: 2; `make crash-test`: 30).
# Each crashed run and restart takes about 1-2 s.
. "$(dirname "$0")/lib.sh"
CRASH_LSC="$BUILD/crash/litestream-c"
[ -x "$CRASH_LSC" ] || skip "$CRASH_LSC not built"
MAXN=${CRASH_MAX_N:-2}
POINTS=${CRASH_POINTS:-"capture.batch capture.carry newgen.before-name fs.after-rename
ship.after-put upload.chunk snapshot.after-put file.after-rename
checkpoint.handoff checkpoint.locked checkpoint.after-reset"}
SEED=${SEED:-$$}
M="/usr/bin/python3 $ROOT/tests/tools/model.py"
# Fewer spills and VACUUMs than the model's default: the database must not
# outgrow a short run (snapshots of it go up every second).
MIX="commit=85,spill=2,rollback=5,vacuum=1,truncate=4,passive=3"
cd "$T"
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 50ms
snapshot-interval = 1s
checkpoint-interval = 500ms
min-checkpoint-page-count = 200
max-checkpoint-page-count = 2000
EOC
chmod 600 c.ini
$M write app.db --seed "$SEED" --mix "$MIX" --steps 0 >/dev/null || fail "model writer cannot create the database"
bg $M write app.db --seed "$SEED" --mix "$MIX" --log w.log --stop stop-writer --pause-ms 8 --seconds 900
WRITER=$BGPID
note "seed $SEED, points: $(echo $POINTS | wc -w), N up to $MAXN"

last_commit() { grep '^commit ' w.log 2>/dev/null | tail -n 1 | cut -d' ' -f2; }
high=0	# the newest step any restore has shown: never to go back
check_restore() {	# check_restore WHAT [--at-least STEP]
	_what=$1; shift
	rm -f out.db out.db-wal out.db-shm
	if ! "$LSC" restore -o out.db "file://$T/rep" 2> restore.log; then
		# Only before the first snapshot of all is there nothing to restore.
		[ -z "$(find rep -name '*.snapshot.lz4' 2>/dev/null)" ] ||
		    fail "$_what: restore failed: $(tail -n 1 restore.log)"
		return 0
	fi
	out=$($M check out.db --seed "$SEED" --mix "$MIX" "$@") || fail "$_what: $out"
	step=${out#ok step=}; step=${step%% *}
	[ "$step" -ge "$high" ] || fail "$_what: restored step $step, but an earlier restore had $high"
	high=$step
}

runs=0 crashes=0 gens_before=0
for p in $POINTS; do
	n=1
	while [ $n -le "$MAXN" ]; do
		runs=$((runs + 1))
		case $p in newgen.*|fs.after-rename)
			# Reached once per new generation: start one.
			rm -f .app.db-litestream/generation ;;
		esac
		LSC_CRASHPOINT="$p:$n" bg "$CRASH_LSC" replicate -c c.ini 2> crash.log; D=$BGPID
		if ! wait_for 6 sh -c "! kill -0 $D 2>/dev/null"; then
			# Not reached n times in 6 s of this workload: next point.
			kill -TERM $D; wait $D || fail "$p:$n: daemon exit status $? without a crash"
			note "$p: reached $((n - 1)) times, not $n"
			break
		fi
		wait $D 2>/dev/null
		grep -q "crashpoint $p hit $n" crash.log || fail "$p:$n: died without the crash point: $(tail -n 3 crash.log)"
		crashes=$((crashes + 1))
		check_restore "after crash $p:$n"
		bg "$LSC" replicate -c c.ini 2> run.log; D=$BGPID
		wait_for 10 grep -q -E "resumed generation|new generation" run.log || fail "$p:$n: no restart: $(tail -n 3 run.log)"
		wait_for 10 grep -q "snapshot written" run.log || grep -q "resumed generation" run.log ||
		    fail "$p:$n: no snapshot after a new generation"
		sleep 0.2
		l=$(last_commit)
		kill -TERM $D; wait $D || fail "$p:$n: restarted daemon exit status $?: $(grep -E 'level=(error|warn)' run.log | tail -n 2)"
		check_restore "after the restart from $p:$n" --at-least "${l:-0}"
		n=$((n + 1))
	done
done
touch stop-writer; wait $WRITER || fail "the writer failed"
final=$(tail -n 1 w.log | sed -n 's/^done //p')
[ -n "$final" ] || fail "the writer did not finish cleanly"
bg "$LSC" replicate -c c.ini 2> final.log; D=$BGPID
wait_for 10 grep -q -E "resumed generation|new generation" final.log || fail "no final start"
kill -TERM $D; wait $D || fail "final daemon exit status $?"
check_restore "final" --exact "$final"
if [ -x "$LITESTREAM" ]; then
	rm -f lit.db
	"$LITESTREAM" restore -o lit.db "file://$T/rep" 2>/dev/null || fail "Litestream restore failed"
	$M check lit.db --seed "$SEED" --mix "$MIX" --exact "$final" >/dev/null ||
	    fail "Litestream's restore is not the last commit"
fi
gens=$(ls rep/generations | wc -l)
echo "ok: $crashes crashes over $runs runs of $(echo $POINTS | wc -w) points (N up to $MAXN), $gens generations, final restore exactly step $final"
