#!/bin/sh
# Point-in-time restore of our own replica with our own restore.  A writer
# commits one row every ~20 ms and logs when each transaction began and
# when its COMMIT returned; 8 timestamps T are recorded during the run.
# For each T, `restore --timestamp T` must give a contiguous prefix of rows
# that includes every transaction committed before T - sync-interval -
# 100 ms (the time a sync takes to copy, compress and write its segment)
# and none that began after T.  Also: a T before the first snapshot is refused.
. "$(dirname "$0")/lib.sh"
cd "$T"
SYNC_MS=300
SLACK_MS=100
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
printf '[db "%s/app.db"]\nreplica = file://%s/rep\nsync-interval = %dms\nmin-checkpoint-page-count = 30\n' \
    "$T" "$T" "$SYNC_MS" > c.ini
chmod 600 c.ini
before=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
sleep 0.05
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d.log || fail "no snapshot"
/usr/bin/python3 - <<'PY' || fail "writer failed"
import sqlite3, time, datetime
db = sqlite3.connect("app.db", isolation_level=None, timeout=10)
log = open("commits.log", "w"); stamps = open("stamps.txt", "w")
next_stamp = time.time() + 0.5
for i in range(1, 251):
    t0 = time.time_ns()
    db.execute("BEGIN IMMEDIATE"); db.execute("INSERT INTO t(v) VALUES (randomblob(2000))"); db.execute("COMMIT")
    t1 = time.time_ns()
    log.write("%d %d %d\n" % (i, t0, t1))
    if time.time() >= next_stamp and next_stamp > 0:
        ns = time.time_ns()
        stamps.write("%d %s.%09dZ\n" % (ns, datetime.datetime.utcfromtimestamp(ns // 10**9).strftime("%Y-%m-%dT%H:%M:%S"), ns % 10**9))
        next_stamp += 0.6
    time.sleep(0.02)
PY
kill -TERM $D; wait $D || fail "daemon exit $?"
n=$(wc -l < stamps.txt)
[ "$n" -ge 5 ] || fail "only $n timestamps recorded"
grep -q "new wal index" d.log || LITESTREAM_C_LOG_LEVEL=debug true
while read -r ns ts; do
	rm -f p.db
	"$LSC" restore --timestamp "$ts" -o p.db "file://$T/rep" 2> r.log || fail "restore --timestamp $ts: $(cat r.log)"
	[ "$(sqlite3 p.db 'PRAGMA integrity_check')" = ok ] || fail "integrity at $ts"
	got=$(sqlite3 p.db "SELECT count(*) || ' ' || ifnull(max(id),0) FROM t")
	cnt=${got% *} max=${got#* }
	[ "$cnt" = "$max" ] || fail "$ts: not a prefix ($cnt rows, max id $max)"
	# every commit that returned before T - sync interval must be there
	need=$(awk -v lim=$((ns - (SYNC_MS + SLACK_MS) * 1000000)) '$3 < lim { m = $1 } END { print m + 0 }' commits.log)
	# nothing that began after T may be there
	began=$(awk -v id="$max" '$1 == id { print $2 }' commits.log)
	[ "$max" -ge "$need" ] || fail "$ts: has rows up to $max, missing committed rows up to $need"
	[ -z "$began" ] || [ "$began" -le "$ns" ] || fail "$ts: row $max began after T"
	note "T=$ts rows=$max (required >= $need)"
done < stamps.txt
rm -f p.db
"$LSC" restore --timestamp "$before" -o p.db "file://$T/rep" 2> r.log && fail "restore before the first snapshot succeeded"
[ -e p.db ] && fail "output left behind"
note "before first snapshot: $(cat r.log)"
rm -f p.db
"$LSC" restore -o p.db "file://$T/rep" 2>/dev/null || fail "latest restore"
assert_same_db app.db p.db
echo "ok: $n point-in-time restores, each an exact committed prefix"
