#!/bin/sh
# The application's latency beside a replicator: litestream-c beside
# Litestream v0.3.13 and beside no replicator at all, in one run.
#
#   bench/app_latency.sh [SECONDS] [ROUNDS] [STYLE]   (defaults: 15 3 deferred)
#   APP_ARGS="--threads 1 --rate 400" bench/app_latency.sh ...  (other loads)
#
# Each round runs, in turn, bench/app_latency.py (4 threads, 800 write
# transactions a second, SQLite's default busy handler, a read beside each
# write; STYLE deferred = plain BEGIN, immediate = BEGIN IMMEDIATE) on a
# fresh database: alone, beside litestream-c, beside Litestream (both on a
# file replica, sync-interval 1s, default checkpoint settings), after the
# replicator's first snapshot.  Rounds interleave the three so that a
# machine's drift hits each alike.  Printed: per mode the medians over the
# rounds of the commit latency p50, p99, p99.9 and max (ms), the error
# count (SQLITE_BUSY and BUSY_SNAPSHOT), and the replicator's CPU seconds;
# then the ratios of p99.9 to the app alone.  A measurement, not a test:
# run it by hand on an otherwise idle machine.
set -eu
SECS=${1:-15}
ROUNDS=${2:-3}
STYLE=${3:-deferred}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
APP="/usr/bin/python3 $ROOT/bench/app_latency.py"
[ -x "$LSC" ] || { echo "run: make"; exit 2; }
[ -x "$LS" ] || { echo "run: npm ci (Litestream v0.3.13)"; exit 2; }
W=$(mktemp -d /tmp/lsc-bench.XXXXXX)
RP=""
trap '[ -n "$RP" ] && kill $RP 2>/dev/null; rm -rf "$W"' EXIT

cpu_s() {	# cpu_s PID: user+system CPU seconds so far
	awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"
}

one() {	# one MODE ROUND: appends "mode json cpu" to $W/results
	mode=$1 d=$W/$1.$2
	mkdir -p "$d"
	$APP "$d/app.db" --seconds 0 --style "$STYLE" >/dev/null
	RP=""
	case $mode in
	lsc)	printf '[db "%s/app.db"]\nreplica = file://%s/rep\nsync-interval = 1s\n' "$d" "$d" > "$d/c.ini"
		chmod 600 "$d/c.ini"
		"$LSC" replicate -c "$d/c.ini" 2> "$d/r.log" & RP=$! ;;
	ls)	printf 'dbs:\n  - path: %s/app.db\n    replicas:\n      - url: file://%s/rep\n        sync-interval: 1s\n' "$d" "$d" > "$d/c.yml"
		"$LS" replicate -config "$d/c.yml" > "$d/r.log" 2>&1 & RP=$! ;;
	esac
	if [ -n "$RP" ]; then
		i=0; until ls "$d"/rep/generations/*/snapshots/*.lz4 >/dev/null 2>&1; do
			i=$((i + 1)); [ $i -lt 200 ] || { echo "no snapshot from $mode" >&2; exit 1; }
			sleep 0.05; done
		c0=$(cpu_s $RP)
	fi
	out=$($APP "$d/app.db" --seconds "$SECS" --style "$STYLE" ${APP_ARGS:-})
	cpu=-
	if [ -n "$RP" ]; then
		cpu=$(awk -v a="$(cpu_s $RP)" -v b="$c0" 'BEGIN { printf "%.2f", a - b }')
		kill -TERM $RP; wait $RP || true
		RP=""
	fi
	echo "$mode $out $cpu" >> "$W/results"
	rm -rf "$d"
}

r=1
while [ $r -le "$ROUNDS" ]; do
	for m in alone lsc ls; do one $m $r; done
	r=$((r + 1))
done
/usr/bin/python3 - "$W/results" "$STYLE" "$SECS" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    mode, rest = line.split(" ", 1)
    js, cpu = rest.rsplit(" ", 1)
    d = json.loads(js)
    d["cpu"] = None if cpu.strip() == "-" else float(cpu)
    rows.setdefault(mode, []).append(d)
names = {"alone": "app alone", "lsc": "litestream-c", "ls": "Litestream 0.3.13"}
print("style=%s, %s s per run, %d rounds, medians:" % (sys.argv[2], sys.argv[3],
      len(rows["alone"])))
print("%-18s %8s %8s %8s %8s %7s %8s" % ("", "p50 ms", "p99 ms", "p99.9 ms",
      "max ms", "errors", "cpu s"))
med = lambda m, k: statistics.median([r[k] for r in rows[m]])
for m in ("alone", "lsc", "ls"):
    cpu = "-" if m == "alone" else "%.2f" % med(m, "cpu")
    print("%-18s %8.2f %8.2f %8.2f %8.2f %7d %8s" % (names[m], med(m, "p50_ms"),
          med(m, "p99_ms"), med(m, "p999_ms"), med(m, "max_ms"),
          med(m, "errors"), cpu))
base = med("alone", "p999_ms")
for m in ("lsc", "ls"):
    print("p99.9 ratio to alone, %s: %.2fx" % (names[m], med(m, "p999_ms") / base))
EOF
