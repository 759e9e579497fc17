#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/idle_dbs.sh [N] [SECONDS]: N idle databases (default 1000) under one
# daemon for SECONDS (default 60), file replicas.  Prints the daemon's CPU
# time while idle (after every database's first sync and first checkpoint), its RSS and the
# RSS per database (against the same daemon with one database), and the
# open descriptors per database.  Run by hand; not part of make test.
set -eu
N=${1:-1000}
SECS=${2:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=${LSC:-$ROOT/build/litestream-c}
W=$(mktemp -d "${TMPDIR:-/tmp}/lsc-idle.XXXXXX")
trap 'kill $D 2>/dev/null; rm -rf "$W"' EXIT INT TERM
D=
TCK=$(getconf CLK_TCK)

mkdbs() { # COUNT DIR
	mkdir -p "$2"
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import sqlite3, sys
n, d = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    c = sqlite3.connect("%s/db%05d.db" % (d, i))
    c.execute("PRAGMA journal_mode=wal")
    c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
    c.execute("INSERT INTO t(v) VALUES ('x')")
    c.commit()
    c.close()
EOF
	: > "$2.ini"
	for f in "$2"/db*.db; do
		printf '[db "%s"]\nreplica = file://%s.rep/%s\ncheckpoint-interval = 10s\n' "$f" "$2" "$(basename "$f")" >> "$2.ini"
	done
	chmod 600 "$2.ini"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
anon_kb() { awk '/^RssAnon/ {print $2}' "/proc/$1/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# start CONFIG LOG: run the daemon, wait (bounded) for every first sync.
start() {
	"$LSC" replicate -c "$1" 2> "$2" &
	D=$!
	i=0
	until grep -q "every database has synced once" "$2"; do
		i=$((i + 1))
		[ $i -lt 1200 ] || { echo "no first sync after 120 s"; exit 1; }
		sleep 0.1
	done
}

mkdbs 1 "$W/one"
start "$W/one.ini" "$W/one.log"
sleep 2
base=$(rss_kb $D)
base_anon=$(anon_kb $D)
kill -TERM $D; wait $D || true

mkdbs "$N" "$W/many"
t0=$(date +%s.%N)
start "$W/many.ini" "$W/many.log"
t1=$(date +%s.%N)
# Warm-up: each database's first checkpoint (at checkpoint-interval, 10 s
# here) folds its initial WAL into the file once; after that an idle
# database has no timer left at all.
w0=$(ticks $D)
sleep 15
c0=$(ticks $D)
sleep "$SECS"
c1=$(ticks $D)
rss=$(rss_kb $D)
anon=$(anon_kb $D)
fds=$(ls "/proc/$D/fd" | wc -l)
kill -TERM $D; wait $D || true

echo "databases=$N first_sync_all_s=$(echo "$t1 - $t0" | bc)"
echo "warmup_15s_with_first_checkpoints_cpu_s=$(echo "scale=3; ($c0 - $w0) / $TCK" | bc)"
echo "idle_seconds=$SECS daemon_cpu_s=$(echo "scale=3; ($c1 - $c0) / $TCK" | bc)"
echo "rss_one_db_kb=$base rss_${N}_dbs_kb=$rss rss_per_db_kb=$(( (rss - base) / (N - 1) ))"
# The rest of RSS is file-backed: mostly each database's 32 KiB -shm
# (the WAL index), mapped by the app too.
echo "anon_one_db_kb=$base_anon anon_${N}_dbs_kb=$anon anon_per_db_kb=$(( (anon - base_anon) / (N - 1) ))"
echo "open_fds=$fds fds_per_db=$(echo "scale=2; $fds / $N" | bc)"
