#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/commit_lag.sh [SECONDS] [RATE]: commit-to-replica lag on a file
# replica, litestream-c with sync-interval = 0 beside Litestream v0.3.13
# at its 1 ms monitor and sync intervals.  A paced writer (build/tests/
# walwriter --rate RATE, default 20/s, for SECONDS, default 20) logs each
# commit's time; bench/replica_watch.py logs (inotify) when each WAL
# segment lands.  A commit's lag is the time from its COMMIT returning to
# the first segment landing after it (at 20/s commits are 50 ms apart, so
# that segment is the one holding it).  Prints p50/p99/max lag and each
# replicator's CPU seconds.  Run by hand; not part of make test.
set -eu
SECS=${1:-20}
RATE=${2:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
WW=$ROOT/build/tests/walwriter
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
[ -x "$LSC" ] && [ -x "$WW" ] || { echo "run: make all build/tests/walwriter"; exit 2; }
[ -x "$LS" ] || { echo "run: npm ci (Litestream v0.3.13)"; exit 2; }
W=$(mktemp -d /tmp/lsc-lag.XXXXXX)
trap 'pkill -P $$ 2>/dev/null; rm -rf "$W"' EXIT
TCK=$(getconf CLK_TCK)

one() { # MODE
	d=$W/$1; mkdir -p "$d"
	sqlite3 "$d/app.db" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, payload BLOB);" >/dev/null
	if [ "$1" = lsc ]; then
		printf '[db "%s/app.db"]\nreplica = file://%s/rep\nsync-interval = 0\n' "$d" "$d" > "$d/c.ini"
		chmod 600 "$d/c.ini"
		"$LSC" replicate -c "$d/c.ini" 2> "$d/r.log" & rp=$!
	else
		printf 'dbs:\n  - path: %s/app.db\n    monitor-interval: 1ms\n    replicas:\n      - url: file://%s/rep\n        sync-interval: 1ms\n' "$d" "$d" > "$d/c.yml"
		"$LS" replicate -config "$d/c.yml" > "$d/r.log" 2>&1 & rp=$!
	fi
	i=0; until ls "$d"/rep/generations/*/snapshots/*.lz4 >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 200 ] || { echo "no snapshot from $1" >&2; exit 1; }; sleep 0.05; done
	/usr/bin/python3 "$ROOT/bench/replica_watch.py" "$(ls -d "$d"/rep/generations/*/wal)" "$d/segs" "$d/stop" & wp=$!
	i=0; until grep -q ready "$d/segs" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ] || exit 1; sleep 0.05; done
	c0=$(awk '{print $14 + $15}' /proc/$rp/stat)
	"$WW" "$d/app.db" --rate "$RATE" --duration "$SECS" --log "$d/commits.log" > "$d/w.out"
	sleep 1	# the last commit's segment lands (or is counted late)
	c1=$(awk '{print $14 + $15}' /proc/$rp/stat)
	touch "$d/stop"; wait $wp
	kill -TERM $rp; wait $rp || true
	/usr/bin/python3 - "$d/commits.log" "$d/segs" "$1" "$(echo "scale=2; ($c1 - $c0) / $TCK" | bc)" "$SECS" <<'PY'
import bisect, sys
commits = [int(l.split()[1]) for l in open(sys.argv[1])]
segs = sorted(int(l.split()[0]) for l in open(sys.argv[2]) if l[0].isdigit())
lags = []
for c in commits:
    i = bisect.bisect_left(segs, c)
    lags.append((segs[i] - c) / 1e6 if i < len(segs) else float("inf"))
lags.sort()
q = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))]
print("%-12s commits=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f cpu_s=%s (over %ss)" % (
    "litestream-c" if sys.argv[3] == "lsc" else "litestream", len(lags), q(.5), q(.99), lags[-1], sys.argv[4], sys.argv[5]))
PY
}
echo "commit-to-replica lag, $RATE commits/s for ${SECS}s, file replica, $(nproc) cores"
one lsc
one ls
