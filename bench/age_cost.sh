#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/age_cost.sh [MB] [WAL_MB] [RUNS]: what age encryption costs, against
# the plain path, on a file replica (so the disk, not a network, is the
# only other cost).  Per run and per mode (plain, age with one recipient):
#   - a daemon starts on an MB-sized database (default 64) and ships its
#     snapshot: its CPU time (user + system) per MiB of database;
#   - a writer then commits WAL_MB (default 32) of rows, and the daemon
#     captures and ships them: its CPU time per MiB of WAL shipped (the
#     daemon's own litestream_c_wal_bytes_shipped_total);
#   - litestream-c restores the replica (age: with the identity file), and
#     Litestream v0.3.13 restores the same replica (age: the `age:` block
#     of its YAML): wall time of each.
# Prints each run, then the medians of RUNS runs (default 5).  Rows are
# half random bytes, half repeated text, so LZ4 has work to do.  Run by
# hand on an idle machine; not part of make test.
set -eu
MB=${1:-64}
WALMB=${2:-32}
RUNS=${3:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=${LSC:-$ROOT/build/litestream-c}
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/lsc-age.XXXXXX")
D=
trap 'kill $D 2>/dev/null; rm -rf "$W"' EXIT INT TERM
command -v age-keygen >/dev/null || { echo "age-keygen missing (apt-get install age)"; exit 1; }
[ -x "$LS" ] || { echo "Litestream v0.3.13 missing (npm ci)"; exit 1; }

age-keygen -o "$W/key.txt" 2> "$W/key.pub"
RCPT=$(grep -o 'age1[0-9a-z]*' "$W/key.pub")
SECRET=$(grep '^AGE-SECRET-KEY-1' "$W/key.txt")

# rows OUT MIB: append MIB MiB of rows (2000 random + 2000 text bytes).
rows() {
	$PY - "$1" "$2" <<'EOF'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
c.execute("PRAGMA journal_mode=wal")
c.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)")
text = (b"litestream-c age benchmark row " * 70)[:2000]
n = int(float(sys.argv[2]) * 1024 * 1024 / 4000)
for i in range(0, n, 100):
    c.execute("BEGIN")
    for _ in range(min(100, n - i)):
        c.execute("INSERT INTO t(v) VALUES (?)", (os.urandom(2000) + text,))
    c.execute("COMMIT")
c.close()
EOF
}
rows "$W/src.db" "$MB"
sqlite3 "$W/src.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
dbmib=$(echo "scale=2; $(stat -c %s "$W/src.db") / 1048576" | bc)
echo "database $dbmib MiB, WAL workload $WALMB MiB, $RUNS runs"

# CPU time of every thread of PID, in ns (schedstat: finer than clock
# ticks; the daemon's worker threads live as long as it does).
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {printf "%d\n", s}'; }
metric() { # PORT NAME: its value for the database
	curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 ~ "^"n"[{]" {print $2}'
}
free_port() { $PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
secs() { echo "$2 - $1" | bc; }

one() { # MODE RUN -> "snap_ms_per_mib wal_ms_per_mib our_restore_s ls_restore_s"
	mode=$1 d=$W/$1.$2
	mkdir -p "$d"
	cp "$W/src.db" "$d/app.db"
	port=$(free_port)
	{
		printf '[daemon]\nmetrics = 127.0.0.1:%s\n' "$port"
		printf '[db "%s/app.db"]\nreplica = file://%s/rep\n' "$d" "$d"
		[ "$mode" = plain ] || printf 'age-recipient = %s\n' "$RCPT"
	} > "$d/c.ini"
	chmod 600 "$d/c.ini"
	"$LSC" replicate -c "$d/c.ini" 2> "$d/d.log" &
	D=$!
	i=0
	until grep -q "snapshot written" "$d/d.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 6000 ] || { echo "no snapshot in 600 s"; exit 1; }
		sleep 0.01
	done
	t_snap=$(cpu_ns $D)
	rows "$d/app.db" "$WALMB"
	# Wait until the replica holds everything: the WAL shipped covers the
	# rows written (each ~4000-byte row takes a 4096-byte page), and the
	# lag is 0.  Bounded.
	i=0
	until [ "$(metric "$port" litestream_c_replication_lag_seconds |
	    awk '{print ($1 == 0)}')" = 1 ] && [ "$(metric "$port" \
	    litestream_c_wal_bytes_shipped_total | awk -v m="$WALMB" \
	    '{print ($1 >= m * 1048576)}')" = 1 ]; do
		i=$((i + 1)); [ $i -lt 6000 ] || { echo "the replica never caught up"; exit 1; }
		sleep 0.05
	done
	t_all=$(cpu_ns $D)
	walb=$(metric "$port" litestream_c_wal_bytes_shipped_total)
	kill -TERM $D; wait $D; D=
	snap=$(echo "scale=3; $t_snap / 1000000 / $dbmib" | bc)
	wal=$(echo "scale=3; ($t_all - $t_snap) / 1000000 / ($walb / 1048576)" | bc)
	want=$(sqlite3 "$d/app.db" "SELECT count(*), sum(length(v)) FROM t")
	set --
	[ "$mode" = plain ] || set -- --age-identity-file "$W/key.txt"
	t0=$(date +%s.%N)
	"$LSC" restore "$@" -o "$d/ours.db" "file://$d/rep" 2> "$d/r.log"
	t1=$(date +%s.%N)
	{
		printf 'dbs:\n  - path: %s/app.db\n    replicas:\n      - url: file://%s/rep\n' "$d" "$d"
		[ "$mode" = plain ] || printf '        age:\n          identities:\n            - %s\n          recipients:\n            - %s\n' "$SECRET" "$RCPT"
	} > "$d/ls.yml"
	"$LS" restore -config "$d/ls.yml" -o "$d/theirs.db" "$d/app.db" > "$d/lr.log" 2>&1
	t2=$(date +%s.%N)
	for f in ours theirs; do
		got=$(sqlite3 "$d/$f.db" "SELECT count(*), sum(length(v)) FROM t")
		[ "$got" = "$want" ] || { echo "$mode: $f restored $got, want $want"; exit 1; }
	done
	echo "$snap $wal $(secs "$t0" "$t1") $(secs "$t1" "$t2") $(echo "scale=1; $walb / 1048576" | bc)"
	rm -rf "$d"
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
for mode in plain age; do
	: > "$W/$mode.runs"
	for r in $(seq 1 "$RUNS"); do
		line=$(one "$mode" "$r")
		echo "$mode run $r: snapshot_cpu_ms_per_mib wal_cpu_ms_per_mib our_restore_s litestream_restore_s wal_mib = $line"
		echo "$line" >> "$W/$mode.runs"
	done
done
echo
printf '%-6s %24s %20s %16s %22s\n' mode snapshot_cpu_ms/MiB wal_cpu_ms/MiB restore_s litestream_restore_s
for mode in plain age; do
	printf '%-6s %24s %20s %16s %22s\n' "$mode" \
	    "$(awk '{print $1}' "$W/$mode.runs" | median)" \
	    "$(awk '{print $2}' "$W/$mode.runs" | median)" \
	    "$(awk '{print $3}' "$W/$mode.runs" | median)" \
	    "$(awk '{print $4}' "$W/$mode.runs" | median)"
done
