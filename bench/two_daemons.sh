#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/two_daemons.sh [RUNS]: the rolling-deploy overlap, litestream-c
# beside Litestream v0.3.13, RUNS times each (default 3).  A writer
# (tests/tools/id_writer.py, one commit every 3 ms, each id logged once
# committed) runs throughout; a first daemon replicates the database
# (`replicate DB URL`, default settings); a second one is started on the
# same database and replica one second later; the first is stopped with
# SIGTERM two seconds after that; the writer stops two seconds later and
# the second daemon a second after it.  Then the replica is restored by
# each tool and compared with the writer's log: the restore must hold
# exactly ids 1..last.  Prints one line per run and tool, and the second
# daemon's first log lines of the last run.  Run by hand; not part of
# make test.
set -eu
RUNS=${1:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
PY=/usr/bin/python3
WRITER=$ROOT/tests/tools/id_writer.py
[ -x "$LSC" ] || { echo "run: make all"; exit 2; }
[ -x "$LS" ] || { echo "run: npm ci (Litestream v0.3.13)"; exit 2; }
W=$(mktemp -d /tmp/lsc-two.XXXXXX)
trap 'pkill -P $$ 2>/dev/null; rm -rf "$W"' EXIT

verdict() { # OUT_DB LOG: "exact" or what is wrong
	last=$(tail -n 1 "$2")
	got=$(sqlite3 "$1" "SELECT count(*), max(id), sum(v = 'row ' || id) FROM t" 2>&1) ||
	    got="unreadable: $(echo "$got" | head -n 1)"
	if [ "$got" = "$last|$last|$last" ]; then echo "exact ($last commits)"; else
		echo "WRONG: count|max|good=$got, last commit $last"; fi
}

one() { # TOOL RUN
	d=$W/$1.$2; mkdir -p "$d"; cd "$d"
	bin=$LSC; [ "$1" = litestream ] && bin=$LS
	sqlite3 app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" >/dev/null
	$PY "$WRITER" app.db ids.log --until stop --pace 3 > w.out & wp=$!
	"$bin" replicate "$d/app.db" "file://$d/rep" > a.log 2>&1 & a=$!
	sleep 1
	"$bin" replicate "$d/app.db" "file://$d/rep" > b.log 2>&1 & b=$!
	sleep 2
	kill -TERM $a; wait $a || true
	sleep 2
	touch stop; wait $wp
	sleep 1
	kill -TERM $b; wait $b || true
	for r in lsc litestream; do
		rb=$LSC; [ $r = litestream ] && rb=$LS
		if "$rb" restore -o "out-$r.db" "file://$d/rep" > "r-$r.log" 2>&1; then
			v=$(verdict "out-$r.db" ids.log)
		else
			v="restore FAILED: $(grep -v '^$' "r-$r.log" | tail -n 1)"
		fi
		printf '%-12s run %s  generations=%s  restored by %-10s %s\n' "$1" "$2" \
		    "$(ls rep/generations | wc -l)" "$r:" "$v"
	done
	cd "$W"
}

for i in $(seq 1 "$RUNS"); do
	one litestream-c "$i"
	one litestream "$i"
done
for t in litestream-c litestream; do
	echo "--- $t, run $RUNS, the second daemon's log (first 8 lines):"
	head -n 8 "$W/$t.$RUNS/b.log" | sed 's/^/    /'
done
