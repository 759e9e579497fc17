#!/bin/sh
# Issue 12: a replica away for long, under a writer, with max-pending =
# 2MiB.  The replica is made unreachable by putting a plain file where its
# directory was (permissions do not stop root).
#  keep:    every byte stays in the shadow WAL (past the bound), one
#           warning at 50% and one at 90%; when the replica is back it
#           catches up in the same generation; the restore is exact.
#  release: past the bound, one error line, the metric-backed state, the
#           shadow WAL no longer grows with what the replica lacks; when
#           it is back, a new generation, and the restore is exact.
# Both: the app's -wal stays bounded (checkpoints go on), reported.
. "$(dirname "$0")/lib.sh"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
cd "$T"
shadow_kb() { du -sk ".$1.db-litestream" | cut -f1; }

run() {	# run keep|release
	pol=$1 db=app_$1
	"$WALWRITER" $db.db --count 1 >/dev/null
	cat > $pol.ini <<EOC
[db "$T/$db.db"]
replica = file://$T/rep_$pol
sync-interval = 100ms
max-pending = 2MiB
on-pending-full = $pol
# The WAL's hard bound (README, "Checkpoints and the app's latency"), low
# so that checkpoints going on during the outage show in the -wal's size.
max-checkpoint-page-count = 1000
EOC
	chmod 600 $pol.ini
	bg "$LSC" replicate -c $pol.ini 2> $pol.log; D=$BGPID
	wait_for 10 grep -q "snapshot written" $pol.log || fail "$pol: no snapshot"
	mv rep_$pol rep_$pol.away && touch rep_$pol
	maxwal=0 series=
	# About 5 MB of WAL in 5 s, the -wal sampled meanwhile.
	"$WALWRITER" $db.db --rate 250 --duration 5 --row-size 3000 >/dev/null &
	WP=$!
	i=0
	while kill -0 $WP 2>/dev/null && [ $i -lt 200 ]; do
		s=$(stat -c %s $db.db-wal); [ "$s" -gt "$maxwal" ] && maxwal=$s
		# Every half second, for the log: -wal and shadow WAL over time.
		[ $((i % 5)) = 0 ] && series="$series $((i / 10)).$((i % 10))s:$((s >> 10))/$(shadow_kb $db)"
		sleep 0.1; i=$((i + 1))
	done
	note "$pol: time:app -wal KiB/shadow WAL KiB during the outage:$series"
	wait $WP || fail "$pol: writer"
	kb=$(shadow_kb $db)
	note "$pol: app -wal peaked at $((maxwal >> 10)) KiB during the outage; shadow WAL ${kb} KiB"
	# 1000 pages (4 MiB) and up to a second of writing between resets.
	[ "$maxwal" -lt $((10 << 20)) ] || fail "$pol: the app's -wal grew to $maxwal"
	if [ $pol = keep ]; then
		[ "$(grep -c 'holds 50% of max-pending' $pol.log)" = 1 ] || fail "keep: no single 50% warning"
		[ "$(grep -c 'holds 90% of max-pending' $pol.log)" = 1 ] || fail "keep: no single 90% warning"
		[ "$kb" -gt 2048 ] || fail "keep: the shadow WAL should hold every byte (${kb} KiB)"
		grep -q "letting go" $pol.log && fail "keep: bytes were let go"
	else
		[ "$(grep -c 'max-pending reached: letting go' $pol.log)" = 1 ] || fail "release: no single error line"
		grep 'letting go' $pol.log | grep -q "level=error" || fail "release: not an error"
		[ "$kb" -lt 4096 ] || fail "release: the shadow WAL still holds ${kb} KiB"
	fi
	rm -f rep_$pol && mv rep_$pol.away rep_$pol
	if [ $pol = keep ]; then
		wait_for 20 grep -q "caught up below a quarter" $pol.log || fail "keep: did not catch up"
		[ "$(grep -c 'msg="new generation"' $pol.log)" = 1 ] || fail "keep: a new generation started"
	else
		# Within its retry back-off (at most 15 s), with commits going on.
		wait_for 40 sh -c "'$WALWRITER' $db.db --count 5 >/dev/null;
		    [ \$(grep -c 'msg=\"new generation\"' $pol.log) -ge 2 ]" ||
		    fail "release: no new generation when the replica was back"
	fi
	"$WALWRITER" $db.db --count 20 >/dev/null || fail "$pol: writer after"
	kill -TERM $D; wait $D || fail "$pol: daemon exit status $?"
	"$LSC" restore -o out_$pol.db "file://$T/rep_$pol" 2>/dev/null || fail "$pol: restore"
	assert_same_db $db.db out_$pol.db
}
run keep
run release
echo "ok: keep kept every byte and warned at 50% and 90%; release let go once and started a new generation; restores exact"
