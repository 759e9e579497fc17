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
URL="file://$T/rep"
LITESTREAM_RESTORE_ARGS="$URL"
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
bg $M write app.db --seed "$SEED" --mix "$MIX" --log w.log --stop stop-writer --pause-ms 8 --seconds 7200
WRITER=$BGPID
note "seed $SEED, points: $(echo $POINTS | wc -w), N up to $MAXN"

. "$ROOT/tests/integration/lib-crash.sh"
crash_loop
crash_final
