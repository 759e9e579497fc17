#!/bin/sh
# Issue 9 (busy errors): under a web-app-like writer (a commit every few
# milliseconds) our lock-free checkpoints must get the WAL fully
# checkpointed, so that the app's own next write restarts it, and never
# need the reset under the write lock (checkpoint.c, step 4): a deferred
# transaction of the app that meets that lock fails at once with
# SQLITE_BUSY, whatever its busy handler.  One checkpoint round nearly
# always had a commit fall into its fsyncs (bench/app_latency.py, one
# thread at 400 txn/s: 14 checkpoints, none full, then a locked reset
# and 2 errors), so the WAL grew to max-checkpoint-page-count.
. "$(dirname "$0")/lib.sh"
cd "$T"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
# max-checkpoint-page-count 2500: about 3 s of this writer's frames, so a
# WAL that never gets fully checkpointed meets it within the run.
start_file_daemon <<EOC
sync-interval = 1s
min-checkpoint-page-count = 500
max-checkpoint-page-count = 2500
EOC
"$WALWRITER" app.db --rate 400 --duration 8 --row-size 1500 >/dev/null || fail writer
kill -TERM $D; wait $D || fail "daemon exit status $?"
ckpts=$(grep -c 'msg=checkpoint ' d.log)
full=$(grep 'msg=checkpoint ' d.log | grep -c 'full=1')
locked=$(grep 'msg=checkpoint ' d.log | grep -c 'mode=RESTART')
note "$ckpts checkpoints, $full full, $locked due at max-checkpoint-page-count"
[ "$ckpts" -ge 3 ] || fail "only $ckpts checkpoints in 8 s of writing"
[ "$locked" = 0 ] || fail "$locked checkpoints needed the write lock: $(grep 'msg=checkpoint ' d.log | tr '\n' ' ')"
# Most checkpoints end with the WAL fully checkpointed (each may still
# meet a reader or a commit in every round: not all).
[ $((full * 2)) -ge "$ckpts" ] || fail "only $full of $ckpts checkpoints were full"
grep -q "index=00000002" d.log || fail "the app never restarted the WAL"
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed"
assert_same_db app.db out.db
echo "ok: $full of $ckpts checkpoints full under a paced writer, none under the write lock"
