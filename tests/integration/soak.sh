#!/bin/sh
# The soak (issue 12): `make soak`, SOAK_SECONDS long (default 600), not in
# `make test`.  Everything at once, for a while:
#  - a model-checked writer (tests/tools/model.py: commits, spills that
#    rewrite their own frames, rollbacks, VACUUM, the app's TRUNCATE and
#    PASSIVE checkpoints);
#  - the daemon, to S3 (s3rver behind tests/tools/s3proxy.py), killed with
#    SIGKILL at a random moment every 0.3-3 s and restarted at once;
#  - the proxy answering 5% of requests with 503 SlowDown, resetting 2% of
#    responses mid-body and stalling 1% for 2 s;
#  - a restore every 20 s, checked against the model: the exact state after
#    some committed step, never older than the previous restore.
# At the end: the writer stops, faults stop, a clean run and SIGTERM, and
# the restore must be exactly the last commit.  Prints kills, restores,
# faults injected, generations and the result; exit 0 only if all held.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
SECS=${SOAK_SECONDS:-600}
SEED=${SEED:-$$}
M="/usr/bin/python3 $ROOT/tests/tools/model.py"
cd "$T"
s3_start
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_REGION
URL="s3://bkt/soak?endpoint=$EP&region=us-east-1"
cat > c.ini <<EOC
[s3]
endpoint = $EP
region = us-east-1
path-style = true
request-timeout = 5s

[db "$T/app.db"]
replica = s3://bkt/soak
sync-interval = 200ms
snapshot-interval = 30s
checkpoint-interval = 5s
retention = 2m
retention-check-interval = 30s
retention-grace = 1m
EOC
faults '[{"method":"PUT","action":"status","status":503,"code":"SlowDown","times":-1,"prob":0.05},
         {"method":"GET","action":"reset_response","bytes":200,"times":-1,"prob":0.02},
         {"action":"stall","seconds":2,"times":-1,"prob":0.01}]'
$M write app.db --seed "$SEED" --steps 0 >/dev/null || fail "model writer"
bg $M write app.db --seed "$SEED" --log w.log --stop stop-writer --pause-ms 5 --seconds $((SECS + 120))
WRITER=$BGPID
note "soak: $SECS s, seed $SEED"

kills=0 restores=0 high=0
check() {	# check WHAT [--exact N]
	_what=$1; shift
	rm -f out.db out.db-wal out.db-shm
	if ! "$LSC" restore -o out.db "$URL" 2> r.log; then
		grep -q "no matching backups\|no backups" r.log && return 0
		fail "$_what: restore failed: $(tail -n 1 r.log)"
	fi
	out=$($M check out.db --seed "$SEED" "$@") || fail "$_what: $out"
	step=${out#ok step=}; step=${step%% *}
	[ "$step" -ge "$high" ] || fail "$_what: restored step $step after $high"
	high=$step restores=$((restores + 1))
}
end=$(( $(date +%s) + SECS ))
next_restore=$(( $(date +%s) + 20 ))
while [ "$(date +%s)" -lt "$end" ]; do
	bg "$LSC" replicate -c c.ini 2>> d.log; D=$BGPID
	# a random moment 0.3 to 3 s from now
	sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN { printf "%.2f", 0.3 + (r % 2700) / 1000 }')"
	kill -9 $D 2>/dev/null && kills=$((kills + 1))
	wait $D 2>/dev/null
	if [ "$(date +%s)" -ge "$next_restore" ]; then
		check "restore $((restores + 1))"
		next_restore=$(( $(date +%s) + 20 ))
	fi
done
touch stop-writer; wait $WRITER || fail "the writer failed"
final=$(sed -n 's/^done //p' w.log | tail -n 1)
faults '[]'
injected=$(count_since 0 'r.get("action") not in (None, "pass")')
bg "$LSC" replicate -c c.ini 2>> d.log; D=$BGPID
wait_for 30 sh -c "tail -n 50 d.log | grep -q -E 'resumed generation|snapshot written'" || fail "no final start"
sleep 1
kill -TERM $D; wait $D || fail "final daemon exit status $?"
check "final" --exact "$final"
gens=$("$LSC" generations "$URL" 2>/dev/null | tail -n +2 | wc -l)
echo "ok: soak $SECS s, seed $SEED: $kills kills, $restores restores each a committed prefix," \
    "$injected faults injected, $gens generations, final restore exactly step $final"
