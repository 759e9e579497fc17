#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/roundtrip.sh [MB]: a round trip of an MB-sized database (default
# 100) through a file replica: litestream-c replicate until the replica
# holds the whole database (snapshot + WAL), then litestream-c restore;
# the same with Litestream v0.3.13 beside it.  Prints wall time and peak
# RSS (GNU time's maximum resident set) of each, and checks that both
# restores equal the source.  Run by hand; not part of make test.
set -eu
MB=${1:-100}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
W=$(mktemp -d /tmp/lsc-rt.XXXXXX)
trap 'pkill -P $$ 2>/dev/null; rm -rf "$W"' EXIT

# Random (incompressible) rows, committed in one go, left in the WAL by a
# connection that stays open, as a live app's would be.
/usr/bin/python3 - "$W/src.db" "$MB" <<'EOF'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA journal_mode=wal")
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
for i in range(int(sys.argv[2]) * 1024 // 4):
    c.execute("INSERT INTO t(v) VALUES (?)", (os.urandom(4000),))
c.commit()
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.execute("INSERT INTO t(v) VALUES (?)", (b"last",))
c.commit()
EOF
size=$(stat -c %s "$W/src.db")
echo "database: $((size / 1048576)) MiB"
want=$(sqlite3 "$W/src.db" "SELECT count(*), sum(length(v)) FROM t")

now() { date +%s.%N; }
# peak KB from GNU time's -f %M
one() { # NAME
	name=$1 d=$W/$1
	mkdir -p "$d"
	cp "$W/src.db" "$d/app.db"
	if [ "$name" = litestream-c ]; then
		printf '[db "%s/app.db"]\nreplica = file://%s/rep\n' "$d" "$d" > "$d/c.ini"
		chmod 600 "$d/c.ini"
		set -- "$LSC" replicate -c "$d/c.ini"
		ready="snapshot written"
	else
		printf 'dbs:\n  - path: %s/app.db\n    replicas:\n      - url: file://%s/rep\n' "$d" "$d" > "$d/c.yml"
		set -- "$LS" replicate -config "$d/c.yml"
		ready="snapshot written"
	fi
	t0=$(now)
	/usr/bin/time -f %M -o "$d/rss.rep" "$@" > "$d/r.log" 2>&1 &
	tp=$!
	i=0
	until grep -q "$ready" "$d/r.log"; do
		i=$((i + 1)); [ $i -lt 6000 ] || { echo "$name: no snapshot in 600 s"; exit 1; }
		sleep 0.05
	done
	t1=$(now)
	pkill -TERM -P $tp; wait $tp || true
	t2=$(now)
	if [ "$name" = litestream-c ]; then
		/usr/bin/time -f %M -o "$d/rss.res" "$LSC" restore -o "$d/out.db" "file://$d/rep" 2> "$d/res.log"
	else
		/usr/bin/time -f %M -o "$d/rss.res" "$LS" restore -o "$d/out.db" "file://$d/rep" > "$d/res.log" 2>&1
	fi
	t3=$(now)
	got=$(sqlite3 "$d/out.db" "SELECT count(*), sum(length(v)) FROM t")
	[ "$got" = "$want" ] || { echo "$name: restored $got, want $want"; exit 1; }
	printf '%-12s replicate_to_snapshot_s=%.2f shutdown_s=%.2f replicate_peak_rss_kb=%s restore_s=%.2f restore_peak_rss_kb=%s\n' \
	    "$name" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(tail -n1 "$d/rss.rep")" \
	    "$(echo "$t3 - $t2" | bc)" "$(tail -n1 "$d/rss.res")"
	rm -rf "$d"
}
one litestream-c
one litestream
