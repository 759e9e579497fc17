#!/bin/sh
# SPDX-License-Identifier: MIT
# A write burst, then the drain: litestream-c beside Litestream v0.3.13.
#
#   bench/drain.sh [TXNS] [ROUNDS]          (defaults: 50000 3)
#
# Per round and tool, on a fresh database and file replica (sync-interval
# 1s, default checkpoints): once the replicator has its first snapshot, a
# full-speed writer (build/tests/walwriter: 1 KiB pseudo-random rows, one
# per transaction, synchronous=NORMAL) commits TXNS transactions; then we
# wait until the replica stops changing (no object written for 3 s).
# Printed, medians over the rounds: the replicator's CPU seconds from the
# writer's start to the drain, its peak RSS (VmHWM), and the ratios to
# Litestream.  A measurement, not a test: run it on an idle machine.
set -eu
TXNS=${1:-50000}
ROUNDS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
WW=$ROOT/build/tests/walwriter
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
[ -x "$LSC" ] && [ -x "$WW" ] || { echo "run: make all build/tests/walwriter"; exit 2; }
[ -x "$LS" ] || { echo "run: npm ci (Litestream v0.3.13)"; exit 2; }
W=$(mktemp -d /tmp/lsc-bench.XXXXXX)
RP=""
trap '[ -n "$RP" ] && kill $RP 2>/dev/null; rm -rf "$W"' EXIT

cpu_s() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
newest() { find "$1" -name '*.lz4' -printf '%T@\n' 2>/dev/null | sort -n | tail -n 1; }

one() {	# one TOOL ROUND
	t=$1 d=$W/$1.$2
	mkdir -p "$d"
	"$WW" "$d/app.db" --count 1 >/dev/null
	case $t in
	lsc)	printf '[db "%s/app.db"]\nreplica = file://%s/rep\nsync-interval = 1s\n' "$d" "$d" > "$d/c.ini"
		chmod 600 "$d/c.ini"
		"$LSC" replicate -c "$d/c.ini" 2> "$d/r.log" & RP=$! ;;
	ls)	printf 'dbs:\n  - path: %s/app.db\n    replicas:\n      - url: file://%s/rep\n        sync-interval: 1s\n' "$d" "$d" > "$d/c.yml"
		"$LS" replicate -config "$d/c.yml" > "$d/r.log" 2>&1 & RP=$! ;;
	esac
	i=0; until ls "$d"/rep/generations/*/snapshots/*.lz4 >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 200 ] || { echo "no snapshot from $t" >&2; exit 1; }
		sleep 0.05; done
	c0=$(cpu_s $RP)
	"$WW" "$d/app.db" --count "$TXNS" --row-size 1024 > "$d/w.out"
	# Drained: no new object for 3 s (bounded: 120 s).
	last="" same=0 k=0
	while [ $same -lt 30 ] && [ $k -lt 1200 ]; do
		n=$(newest "$d/rep")
		if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0 last=$n; fi
		sleep 0.1; k=$((k + 1))
	done
	cpu=$(awk -v a="$(cpu_s $RP)" -v b="$c0" 'BEGIN { printf "%.2f", a - b }')
	hwm=$(hwm_kb $RP)
	kill -TERM $RP; wait $RP || true
	RP=""
	echo "$t $cpu $hwm" >> "$W/results"
	rm -rf "$d"
}

r=1
while [ $r -le "$ROUNDS" ]; do
	for t in lsc ls; do one $t $r; done
	r=$((r + 1))
done
/usr/bin/python3 - "$W/results" "$TXNS" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    t, cpu, hwm = line.split()
    rows.setdefault(t, []).append((float(cpu), int(hwm) / 1024))
med = lambda t, i: statistics.median(r[i] for r in rows[t])
print("%s transactions of 1 KiB rows, then the drain; medians of %d rounds"
      % (sys.argv[2], len(rows["lsc"])))
print("%-18s %10s %14s" % ("", "CPU s", "peak RSS MiB"))
for t, name in (("lsc", "litestream-c"), ("ls", "Litestream 0.3.13")):
    print("%-18s %10.2f %14.1f" % (name, med(t, 0), med(t, 1)))
print("ratios litestream-c / Litestream: CPU %.2f, peak RSS %.2f"
      % (med("lsc", 0) / med("ls", 0), med("lsc", 1) / med("ls", 1)))
EOF
