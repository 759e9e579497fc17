#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/drill.sh [MB] [RUNS]: the wall time and peak RSS (GNU time) of
# `litestream-c drill --targets 1` beside one plain `litestream-c restore`
# of the same replica, and Litestream v0.3.13's restore of it for
# reference; medians of RUNS runs (default 3) of each, warm page cache.
#
# The replica: an MB-sized database (default 100) of random rows,
# replicated by litestream-c to a file replica with two snapshots (the
# first, then one after 5% of the rows were rewritten across a
# checkpoint) and some WAL after the second, so the drill's replay check
# has an older snapshot to replay from.  Run by hand; not part of make test.
# KEEP=1 keeps the work directory (printed) for profiling.
set -eu
MB=${1:-100}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
PY=/usr/bin/python3
W=$(mktemp -d /tmp/lsc-drill-bench.XXXXXX)
[ "${KEEP:-0}" != 1 ] || echo "work directory: $W"
DPID=""
trap '[ -z "$DPID" ] || kill "$DPID" 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$W"' EXIT
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is missing"; exit 1; }

$PY - "$W/app.db" "$MB" <<'EOF'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=wal")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
for i in range(int(sys.argv[2]) * 1024 // 4):
    c.execute("INSERT INTO t(v) VALUES (?)", (os.urandom(4000),))
c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
EOF
cat > "$W/c.ini" <<EOF
[db "$W/app.db"]
replica = file://$W/rep
sync-interval = 100ms
snapshot-interval = 5s
min-checkpoint-page-count = 100
EOF
chmod 600 "$W/c.ini"
"$LSC" replicate -c "$W/c.ini" 2> "$W/d.log" &
DPID=$!
# wait_snapshots N: until the replica holds N snapshot objects (10 min cap).
wait_snapshots() {
	i=0
	while [ "$(ls "$W"/rep/generations/*/snapshots 2>/dev/null | grep -c "\.snapshot\.lz4$")" -lt "$1" ]; do
		i=$((i + 1)); [ $i -lt 12000 ] || { echo "no snapshot $1 in 600 s"; exit 1; }
		sleep 0.05
	done
}
# rewrite PERCENT: rewrite that share of the rows, 200 rows a transaction.
rewrite() {
	$PY - "$W/app.db" "$1" <<'EOF'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
n = c.execute("SELECT count(*) FROM t").fetchone()[0]
ids = list(range(1, n + 1, max(1, 100 // int(sys.argv[2]))))
for k in range(0, len(ids), 200):
    for i in ids[k:k + 200]:
        c.execute("UPDATE t SET v = ? WHERE id = ?", (os.urandom(4000), i))
    c.commit()
EOF
}
wait_snapshots 1
rewrite 5
wait_snapshots 2
rewrite 1
sleep 1		# one sync-interval and more: the last rewrite is shipped
kill -TERM "$DPID"; wait "$DPID"; DPID=""
nsnap=$(ls "$W"/rep/generations/*/snapshots | grep -c "\.snapshot\.lz4$")
nseg=$(ls "$W"/rep/generations/*/wal | grep -c wal)
stored=$(du -sm "$W/rep" | cut -f1)
echo "database: $(( $(stat -c %s "$W/app.db") / 1048576 )) MiB; replica: $nsnap snapshots, $nseg WAL segments, $stored MiB stored"
want=$(sqlite3 "$W/app.db" "SELECT count(*) || ' ' || sum(length(v)) FROM t")

# run NAME CMD...: RUNS timed runs; prints "NAME wall_s=median peak_rss_kb=median".
run() {
	name=$1; shift
	: > "$W/times"
	k=0
	while [ $k -lt "$RUNS" ]; do
		rm -f "$W/out.db"
		/usr/bin/time -f '%e %M' -o "$W/t1" "$@" > "$W/stdout" 2> "$W/stderr" || {
			rc=$?; [ "$name" = drill ] && [ $rc = 1 ] && cat "$W/stdout"
			echo "$name failed ($rc):"; tail -n 5 "$W/stderr"; exit 1; }
		tail -n 1 "$W/t1" >> "$W/times"
		k=$((k + 1))
	done
	wall=$(cut -d' ' -f1 "$W/times" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	rss=$(cut -d' ' -f2 "$W/times" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	printf '%-28s wall_s=%s peak_rss_kb=%s   (runs: %s)\n' "$name" "$wall" "$rss" "$(cut -d' ' -f1 "$W/times" | tr '\n' ' ')"
	LAST_WALL=$wall
}
mkdir "$W/tmp"
run "restore (litestream-c)" "$LSC" restore -o "$W/out.db" "file://$W/rep"
[ "$(sqlite3 "$W/out.db" "SELECT count(*) || ' ' || sum(length(v)) FROM t")" = "$want" ] || { echo "restore differs from the source"; exit 1; }
restore_wall=$LAST_WALL
if [ -x "$LS" ]; then
	run "restore (litestream 0.3.13)" "$LS" restore -o "$W/out.db" "file://$W/rep"
fi
run "drill --targets 1" "$LSC" drill --json --targets 1 --tmpdir "$W/tmp" "file://$W/rep"
drill_wall=$LAST_WALL
[ -z "$(ls -A "$W/tmp")" ] || { echo "drill left files in its --tmpdir"; exit 1; }
$PY - "$W/stdout" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "pass", r
print("drill phases (last run):", ", ".join("%s %.2fs" % (c["name"], c["elapsed_s"] or 0) for c in r["checks"]),
      "| rto_s %.2f" % r["rto_s"], "| chain bytes_read %d of %d" % (r["checks"][0]["bytes_read"], r["checks"][0]["bytes"]))
EOF
echo "drill / restore: $(echo "scale=2; $drill_wall / $restore_wall" | bc)"
