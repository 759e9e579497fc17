# Retention end to end, shared by t4100 (file replica) and t4110 (S3).
# Source it after lib.sh, from $T, with:
#   URL        the replica URL for the config and our restores
#   ls_restore a function OUT: Litestream v0.3.13 restores the replica to OUT
#   LS_RACING  1: also run ls_restore while retention deletes (else only at
#              the end)
#
# Short settings: snapshots every 1 s, retention 2 s, a pass every 500 ms,
# grace 2 s, a checkpoint every 20 pages.  Generation A runs for a few
# seconds; an offline TRUNCATE checkpoint then forces generation B, which
# runs with a writer while we restore over and over (ours and Litestream's,
# racing the deletes).  We await (bounded) that generation A, B's first
# snapshot and B's first WAL index disappear, and check after each round
# that every remaining snapshot of B has a segment at offset 0 for every
# index from its own up to the newest.  At the end both restorers must give
# exactly the writer's committed rows, and the passes must not have run
# more often than retention-check-interval allows.
#
# The grace period, measured: a poller lists B's snapshots about 5 times a
# second; B's first snapshot becomes unneeded at X = max(its last time +
# retention, the time of the first snapshot after it).  It must still be
# listed at X + grace - 1 s (without the grace it goes by X + 0.5 s, one
# pass later) and gone by X + grace + 5 s.

CHECK_MS=500 RET_MS=2000 GRACE_MS=2000
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
cat > c.ini <<EOC
[db "$T/app.db"]
replica = $URL
sync-interval = 100ms
snapshot-interval = 1s
retention = ${RET_MS}ms
retention-check-interval = ${CHECK_MS}ms
retention-grace = ${GRACE_MS}ms
min-checkpoint-page-count = 20
checkpoint-interval = 500ms
EOC
chmod 600 c.ini
W="$ROOT/tests/tools/stress_writer.py"

gens() { "$LSC" generations "$URL" 2>/dev/null | awk 'NR > 1 { print $2 }'; }
# snaps GEN: the snapshot indexes of GEN; segs GEN: "index offset" lines
snaps() { "$LSC" snapshots "$URL" 2>/dev/null | awk -v g="$1" 'NR > 1 && $2 == g { print $3 }'; }
segs() { "$LSC" wal "$URL" 2>/dev/null | awk -v g="$1" 'NR > 1 && $2 == g { print $3, $4 }'; }

# Every remaining snapshot of GEN has offset 0 of each index from its own
# to the newest segment's (so the newest chain, too, is whole).  Segments
# are listed before snapshots: retention deletes a snapshot before its
# segments (repl_retention), so a snapshot still listed second had its
# segments when they were listed first; the other order could see a
# snapshot that was deleted, with its chain, between the two listings.
chains_ok() {
	segs "$1" > chk.segs || return 1
	snaps "$1" > chk.snaps || return 1
	[ -s chk.snaps ] || { echo "no snapshot left in $1"; return 1; }
	awk 'NR == FNR { s[$1] = 1; next }
	     { if ($1 > max) max = $1; if ($2 == 0) z[$1] = 1 }
	     END { for (i in s) for (j = i + 0; j <= max; j++)
	               if (!(j in z)) { print "snapshot " i " lacks index " j " offset 0"; exit 1 } }' \
	    chk.snaps chk.segs
}

note "generation A"
bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d1.log || fail "no snapshot: $(cat d1.log)"
/usr/bin/python3 "$W" app.db 300 >/dev/null || fail "writer"
wait_for 10 grep -q "msg=retention" d1.log || fail "no retention pass: $(tail -n 5 d1.log)"
kill -TERM $D; wait $D || fail "daemon exit status $?"
GA=$(gens)
[ "$(echo "$GA" | wc -l)" = 1 ] || fail "expected one generation, got: $GA"
note "A=$GA: $(snaps "$GA" | wc -l) snapshots, $(segs "$GA" | wc -l) segments"

note "generation B, with a writer, restores racing retention"
/usr/bin/python3 "$W" app.db 20 >/dev/null
sqlite3 app.db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
start=$(date +%s%N)
wait_for 10 grep -q "new generation" d2.log || fail "no new generation: $(cat d2.log)"
wait_for 10 grep -q "snapshot written" d2.log || fail "no snapshot in B"
GB=$(grep -m1 "new generation" d2.log | sed 's/.*generation=\([0-9a-f]*\).*/\1/')
[ "$GB" != "$GA" ] || fail "same generation"
# A writer with its connection kept open (like an app) until told to stop.
bg /usr/bin/python3 -c "import sqlite3,os,time
db=sqlite3.connect('app.db',isolation_level=None,timeout=10)
end=time.time()+60; n=0
while not os.path.exists('stop') and time.time()<end:
    db.execute('INSERT INTO t(v) VALUES (randomblob(1500))'); n+=1; time.sleep(0.01)
open('writer.n','w').write(str(n))"
WR=$BGPID
first_idx=$(snaps "$GB" | head -n1)
bg sh -c 'end=$(( $(date +%s) + 90 ))
while [ ! -e stop ] && [ "$(date +%s)" -lt "$end" ]; do
	t=$(date +%s%N)
	if out=$("$0" snapshots --json "$1" 2>/dev/null); then
		printf "%s\n" "$out" | grep "^{" | sed "s/^/$t /"; echo "$t ok"
	fi
	sleep 0.1
done > poll.log' "$LSC" "$URL"
POLL=$BGPID
rounds=0 ours=0 theirs=0 a_gone="" snap_gone="" seg_gone="" prev=0
end=$(( $(date +%s) + 60 ))
while [ "$(date +%s)" -lt "$end" ]; do
	rounds=$((rounds + 1))
	rm -f o.db ls.db
	"$LSC" restore -o o.db "$URL" 2> r.log || fail "round $rounds: our restore failed: $(cat r.log)"
	[ "$(sqlite3 o.db 'PRAGMA integrity_check')" = ok ] || fail "round $rounds: integrity"
	n=$(sqlite3 o.db "SELECT count(*) FROM t")
	[ "$n" -ge "$prev" ] || fail "round $rounds: $n rows after $prev"
	prev=$n ours=$((ours + 1))
	if [ "$LS_RACING" = 1 ]; then
		ls_restore ls.db 2> r.log || fail "round $rounds: litestream restore failed: $(cat r.log)"
		[ "$(sqlite3 ls.db 'PRAGMA integrity_check')" = ok ] || fail "round $rounds: litestream integrity"
		theirs=$((theirs + 1))
	fi
	chains_ok "$GB" || fail "round $rounds: broken chain in $GB"
	gens | grep -q "$GA" || a_gone=${a_gone:-$rounds}
	snaps "$GB" | grep -qx "$first_idx" || snap_gone=${snap_gone:-$rounds}
	segs "$GB" | grep -q "^$first_idx 0$" || seg_gone=${seg_gone:-$rounds}
	[ -n "$a_gone" ] && [ -n "$snap_gone" ] && [ -n "$seg_gone" ] && [ "$rounds" -ge 10 ] && break
done
[ -n "$a_gone" ] || fail "generation A was never deleted: $(gens | tr '\n' ' ')"
[ -n "$snap_gone" ] || fail "B's first snapshot ($first_idx) was never deleted"
[ -n "$seg_gone" ] || fail "B's first WAL index ($first_idx) was never deleted"
note "rounds=$rounds (restores: ours $ours, litestream $theirs); A gone by round $a_gone, B's snapshot $first_idx by $snap_gone, its WAL by $seg_gone"

note "stop; the newest chain stays and both restorers give the committed rows"
# Let the poller see the deletion too (two more of its polls).
polls() { test "$(grep -c ' ok$' poll.log)" -ge "$1"; }
wait_for 20 polls $(( $(grep -c ' ok$' poll.log) + 2 )) || fail "poller stalled"
touch stop; wait $WR || fail "writer failed"
wait $POLL
/usr/bin/python3 - "$GB" "$first_idx" "$RET_MS" "$GRACE_MS" <<'PY' || fail "grace period not kept"
import json, sys
gen, idx, ret, grace = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) * 10**6, int(sys.argv[4]) * 10**6
polls = {}
for line in open("poll.log"):
    t, rest = line.split(" ", 1)
    t = int(t)
    if rest.strip() == "ok":
        polls.setdefault(t, [])
        continue
    s = json.loads(rest.rstrip().rstrip(","))
    if s["generation"] == gen:
        polls.setdefault(t, []).append((s["index"], s["created_ns"]))
ok = [t for t in sorted(polls)]
present = [t for t in ok if any(i == idx for i, _ in polls[t])]
l0 = max(c for t in present for i, c in polls[t] if i == idx)
n1 = min(c for t in ok for i, c in polls[t] if i > idx)
x = max(l0 + ret, n1)
last = max(present)
gone = [t for t in ok if t > last]
ms = lambda v: "%+.0f ms" % ((v - x) / 1e6)
print("== grace: %d polls; snapshot %d unneeded at X, listed until X %s, gone by X %s (grace %d ms)"
      % (len(ok), idx, ms(last), ms(gone[0]) if gone else "never", grace // 10**6))
if last < x + grace - 10**9:
    sys.exit("deleted too early: last listed at X %s" % ms(last))
if not gone or gone[0] > x + grace + 5 * 10**9:
    sys.exit("not deleted in time")
PY
kill -TERM $D; wait $D || fail "daemon exit status $?"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
chains_ok "$GB" || fail "broken chain at the end"
[ "$(gens)" = "$GB" ] || fail "generations left: $(gens | tr '\n' ' ')"
nsnap=$(snaps "$GB" | wc -l)
note "left: $nsnap snapshots ($(snaps "$GB" | tr '\n' ' ')), $(segs "$GB" | wc -l) segments"
# retention 2 s + grace 2 s + a pass 0.5 s, one snapshot a second, plus
# the newest: never more than about 6 (10 allows for a slow machine).
[ "$nsnap" -le 10 ] || fail "$nsnap snapshots left"
rm -f o.db ls.db
"$LSC" restore -o o.db "$URL" 2> r.log || fail "final restore: $(cat r.log)"
assert_same_db app.db o.db
[ "$(sqlite3 o.db 'SELECT count(*) FROM t')" = "$(sqlite3 app.db 'SELECT count(*) FROM t')" ] || fail "row count"
ls_restore ls.db 2> r.log || fail "final litestream restore: $(cat r.log)"
assert_same_db app.db ls.db
# Every remaining snapshot restores on its own (--index = its index, hex).
for i in $(snaps "$GB"); do
	rm -f x.db
	"$LSC" restore --generation "$GB" --index "$(printf %x "$i")" -o x.db "$URL" 2> r.log ||
	    fail "restore of snapshot $i: $(cat r.log)"
	[ "$(sqlite3 x.db 'PRAGMA integrity_check')" = ok ] || fail "integrity of snapshot $i"
done

passes=$(grep -c "msg=retention" d2.log)
deleted=$(grep "msg=retention" d2.log | sed 's/.*snapshots_deleted=\([0-9]*\) segments_deleted=\([0-9]*\).*/\1 \2/' |
    awk '{ s += $1; w += $2 } END { print s + 0, w + 0 }')
note "passes=$passes in ${elapsed_ms} ms; deleted (snapshots, segments): $deleted; writer commits: $(cat writer.n)"
grep "retention failed" d1.log d2.log && fail "a retention pass failed"
# snapshot-interval = 1s really gives a snapshot a second.
nw=$(grep -c "snapshot written" d2.log)
note "snapshots written: $nw in ${elapsed_ms} ms"
[ "$nw" -ge $((elapsed_ms / 1000 - 1)) ] && [ "$nw" -le $((elapsed_ms / 1000 + 2)) ] ||
    fail "$nw snapshots in $elapsed_ms ms with snapshot-interval = 1s"
[ "$passes" -ge 3 ] || fail "only $passes retention passes"
[ "$passes" -le $((elapsed_ms / CHECK_MS + 1)) ] || fail "$passes passes in $elapsed_ms ms: more often than every $CHECK_MS ms"
