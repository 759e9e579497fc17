# The crash-point loop (issue 11), shared by t1400 (file replica) and
# t5260 (S3, multipart snapshots).  Source it after lib.sh, with:
#   $CRASH_LSC  the crash build;  $M  the model tool;  $MIX, $SEED
#   $URL        the replica URL restores read; $LITESTREAM_RESTORE_ARGS
#               what Litestream v0.3.13 restores with (after -o lit.db)
#   $POINTS     the crash points;  $MAXN  N per point
#   c.ini       the daemon's config;  the model writer running, logging
#               to w.log, stopping when stop-writer appears ($WRITER)
# and call crash_loop, then crash_final.
last_commit() { grep '^commit ' w.log 2>/dev/null | tail -n 1 | cut -d' ' -f2; }
high=0	# the newest step any restore has shown: never to go back
check_restore() {	# check_restore WHAT [--at-least STEP]
	_what=$1; shift
	rm -f out.db out.db-wal out.db-shm
	if ! "$LSC" restore -o out.db "$URL" 2> restore.log; then
		# Only before the first snapshot of all is there nothing to restore.
		! "$LSC" snapshots "$URL" 2>/dev/null | grep -q -E '[0-9a-f]{16}' ||
		    fail "$_what: restore failed: $(tail -n 1 restore.log)"
		return 0
	fi
	out=$($M check out.db --seed "$SEED" --mix "$MIX" "$@") || fail "$_what: $out"
	step=${out#ok step=}; step=${step%% *}
	[ "$step" -ge "$high" ] || fail "$_what: restored step $step, but an earlier restore had $high"
	high=$step
}

crash_loop() {
	runs=0 crashes=0
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
				# Not reached n times in 6 s of this workload: stop it
				# (its final sync may still reach the point: a crash).
				kill -TERM $D; wait $D; st=$?
				if ! grep -q "crashpoint $p hit $n" crash.log; then
					[ "$st" = 0 ] || fail "$p:$n: daemon exit status $st without a crash"
					note "$p: reached $((n - 1)) times, not $n"
					break
				fi
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
}

crash_final() {
	touch stop-writer; wait $WRITER || fail "the writer failed"
	final=$(tail -n 1 w.log | sed -n 's/^done //p')
	[ -n "$final" ] || fail "the writer did not finish cleanly"
	bg "$LSC" replicate -c c.ini 2> final.log; D=$BGPID
	wait_for 10 grep -q -E "resumed generation|new generation" final.log || fail "no final start"
	kill -TERM $D; wait $D || fail "final daemon exit status $?"
	check_restore "final" --exact "$final"
	if [ -x "$LITESTREAM" ]; then
		rm -f lit.db
		"$LITESTREAM" restore -o lit.db $LITESTREAM_RESTORE_ARGS 2>/dev/null || fail "Litestream restore failed"
		$M check lit.db --seed "$SEED" --mix "$MIX" --exact "$final" >/dev/null ||
		    fail "Litestream's restore is not the last commit"
	fi
	gens=$("$LSC" generations "$URL" 2>/dev/null | tail -n +2 | wc -l)
	echo "ok: $crashes crashes over $runs runs of $(echo $POINTS | wc -w) points (N up to $MAXN), $gens generations, final restore exactly step $final"
}
