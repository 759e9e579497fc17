#!/bin/sh
# Writer pace and replica lag: litestream-c beside Litestream v0.3.13.
#
#   bench/writer_pace.sh [DURATION_S] [RUNS]        (defaults: 10 s, 3 runs)
#
# For each run and each mode (the writer alone, with litestream-c, with
# Litestream), a fresh database gets a full-speed writer (build/tests/
# walwriter: one row per transaction, synchronous=NORMAL) for DURATION_S,
# both replicators on a local file replica with sync-interval 1s.
#
# Pace: the writer's commits per second, as a ratio to the writer alone.
# Lag: every second during the run the replica directory is snapshotted
# with hard links (cheap: objects are renamed into place, never rewritten);
# after the run each snapshot is restored (by Litestream, the same oracle
# for both) and lag = snapshot time - commit time of the newest restored
# row.  "End lag" is how long after the writer stopped the replica held
# its last commit.  Medians over the runs are printed.  Run it by hand on
# an otherwise idle machine: it is a measurement, not a test.
set -eu
DUR=${1:-10}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
WW=$ROOT/build/tests/walwriter
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
[ -x "$LSC" ] && [ -x "$WW" ] || { echo "run: make all build/tests/walwriter"; exit 2; }
[ -x "$LS" ] || { echo "run: npm ci (Litestream v0.3.13)"; exit 2; }
W=$(mktemp -d /tmp/lsc-bench.XXXXXX)
trap 'pkill -P $$ 2>/dev/null; rm -rf "$W"' EXIT

now_ns() { date +%s%N; }

# one MODE RUN: prints "commits_per_sec lag_median_s lag_max_s end_lag_s p999_us"
one() {
	mode=$1 d=$W/$1.$2
	mkdir -p "$d"
	sqlite3 "$d/app.db" "PRAGMA journal_mode=wal; CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, payload BLOB);" >/dev/null
	rp=""
	case $mode in
	lsc)	printf '[db "%s/app.db"]\nreplica = file://%s/rep\nsync-interval = 1s\n' "$d" "$d" > "$d/c.ini"
		chmod 600 "$d/c.ini"
		"$LSC" replicate -c "$d/c.ini" 2> "$d/r.log" & rp=$! ;;
	ls)	printf 'dbs:\n  - path: %s/app.db\n    replicas:\n      - url: file://%s/rep\n        sync-interval: 1s\n' "$d" "$d" > "$d/c.yml"
		"$LS" replicate -config "$d/c.yml" > "$d/r.log" 2>&1 & rp=$! ;;
	esac
	if [ -n "$rp" ]; then
		# Start measuring once the replica has its first snapshot.
		i=0; until ls "$d"/rep/generations/*/snapshots/*.lz4 >/dev/null 2>&1; do
			i=$((i + 1)); [ $i -lt 200 ] || { echo "no snapshot from $mode" >&2; return 1; }; sleep 0.05; done
	fi
	cpu0=0; [ -n "$rp" ] && cpu0=$(cpu_ticks $rp)
	"$WW" "$d/app.db" --duration "$DUR" --log "$d/commits.log" > "$d/w.out" & wp=$!
	k=0
	if [ -n "$rp" ]; then
		while kill -0 $wp 2>/dev/null && [ $k -lt $((DUR + 2)) ]; do
			sleep 1; k=$((k + 1))
			t=$(now_ns); cp -al "$d/rep" "$d/snap.$k" 2>/dev/null || true; echo "$k $t" >> "$d/snaps"
		done
	fi
	wait $wp
	stop=$(now_ns)
	# The replicator's CPU (user + system, all threads) while the writer ran.
	cpu=-; [ -n "$rp" ] && cpu=$(awk -v a="$cpu0" -v b="$(cpu_ticks $rp)" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz}')
	cps=$(sed -n 's/.*commits_per_sec=\([0-9.]*\).*/\1/p' "$d/w.out")
	p999=$(sed -n 's/.*p999_us=\([0-9.]*\).*/\1/p' "$d/w.out")
	last=$(tail -n 1 "$d/commits.log" | cut -d' ' -f1)
	end_lag=0
	if [ -n "$rp" ]; then
		# End lag: poll (bounded) until a restore shows the last commit.
		n=0
		while [ $n -lt 300 ]; do
			rm -rf "$d/e.rep" "$d/e.db"*; cp -al "$d/rep" "$d/e.rep"
			got=$("$LS" restore -o "$d/e.db" "file://$d/e.rep" >/dev/null 2>&1 && sqlite3 "$d/e.db" "SELECT max(id) FROM t" || echo 0)
			[ "$got" = "$last" ] && break
			n=$((n + 1)); sleep 0.1
		done
		end_lag=$(awk -v a="$stop" -v b="$(now_ns)" 'BEGIN{printf "%.2f", (b-a)/1e9}')
		kill -TERM $rp; wait $rp || true
		: > "$d/lags"
		while read -r kk t; do
			rm -f "$d/s.db"*
			"$LS" restore -o "$d/s.db" "file://$d/snap.$kk" >/dev/null 2>&1 || continue
			id=$(sqlite3 "$d/s.db" "SELECT max(id) FROM t")
			[ -n "$id" ] || id=0
			ct=$(awk -v id="$id" '$1 >= id { print $2; exit }' "$d/commits.log")
			[ -n "$ct" ] && awk -v a="$ct" -v b="$t" 'BEGIN{printf "%.3f\n", (b-a)/1e9}' >> "$d/lags"
		done < "$d/snaps"
		lag_med=$(sort -n "$d/lags" | awk '{v[NR]=$1} END{print (NR? v[int((NR+1)/2)] : "nan")}')
		lag_max=$(sort -n "$d/lags" | tail -n 1)
	else
		lag_med=- lag_max=-
	fi
	echo "$cps $lag_med $lag_max $end_lag $p999 $cpu"
}

# utime + stime of process $1, in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/$1/stat; }

median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

printf 'duration %ss, %s runs, sync-interval 1s, file replica, %s cores\n' "$DUR" "$RUNS" "$(nproc)"
for r in $(seq 1 "$RUNS"); do
	for m in alone lsc ls; do
		res=$(one $m $r)
		echo "run $r $m: commits/s=$(echo $res | cut -d' ' -f1) lag_median_s=$(echo $res | cut -d' ' -f2) lag_max_s=$(echo $res | cut -d' ' -f3) end_lag_s=$(echo $res | cut -d' ' -f4) commit_p999_us=$(echo $res | cut -d' ' -f5) replicator_cpu_s=$(echo $res | cut -d' ' -f6)"
		echo "$m $res" >> "$W/results"
	done
done
base=$(awk '$1=="alone"{print $2}' "$W/results" | median)
base999=$(awk '$1=="alone"{print $6}' "$W/results" | median)
printf '\n%-12s %12s %8s %12s %10s %10s %10s %8s %8s\n' mode commits/s ratio lag_median lag_max end_lag p999_us ratio cpu_s
for m in alone lsc ls; do
	c=$(awk -v m=$m '$1==m{print $2}' "$W/results" | median)
	l=$(awk -v m=$m '$1==m{print $3}' "$W/results" | median)
	x=$(awk -v m=$m '$1==m{print $4}' "$W/results" | median)
	e=$(awk -v m=$m '$1==m{print $5}' "$W/results" | median)
	p=$(awk -v m=$m '$1==m{print $6}' "$W/results" | median)
	u=$(awk -v m=$m '$1==m{print $7}' "$W/results" | median)
	name=$m; [ $m = lsc ] && name=litestream-c; [ $m = ls ] && name=litestream
	printf '%-12s %12s %8s %12s %10s %10s %10s %8s %8s\n' "$name" "$c" "$(awk -v a="$c" -v b="$base" 'BEGIN{printf "%.3f", a/b}')" "$l" "$x" "$e" "$p" "$(awk -v a="$p" -v b="$base999" 'BEGIN{printf "%.3f", a/b}')" "$u"
done
