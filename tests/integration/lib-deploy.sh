# Helpers for the deploy tests (t45xx), sourced after lib.sh.
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY missing (tests/deps.sh installs it)"
WRITER="$ROOT/tests/tools/id_writer.py"

free_port() {
	$PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# check_model DB LOG: DB holds exactly the ids 1..N, each with value
# 'row <id>', where N is LOG's last line: what tests/tools/id_writer.py
# committed, no more and no less.
check_model() {
	_last=$(tail -n 1 "$2")
	[ "$(sqlite3 "$1" 'PRAGMA integrity_check')" = ok ] || fail "$1: integrity_check"
	_got=$(sqlite3 "$1" "SELECT count(*), coalesce(min(id),0), coalesce(max(id),0),
	    coalesce(sum(v = 'row ' || id),0) FROM t")
	[ "$_got" = "$_last|1|$_last|$_last" ] ||
	    fail "$1: count|min|max|good = $_got, want $_last|1|$_last|$_last (last commit $_last)"
	echo "$1: ids 1..$_last, exactly what was committed"
}

# restore_to OUT REPLICA_DIR: the latest state of file://$T/REPLICA_DIR.
restore_to() {
	rm -f "$1"
	"$LSC" restore -o "$1" "file://$T/$2" 2> r.err || fail "restore of $2: $(cat r.err)"
}

# show FILE: print a log as the user sees it.
show() { echo "--- $1:"; sed 's/^/    /' "$1"; }

# lines FILE: its line count (0 if missing).
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
more_lines() { [ "$(lines "$1")" -ge "$2" ]; }

# log_time FILE PATTERN: the time= of FILE's first line matching PATTERN,
# in seconds since the epoch.
log_time() {
	grep -m1 -- "$2" "$1" | sed -n 's/^time=\([^ ]*\) .*/\1/p' |
	    $PY -c 'import sys,datetime; s=sys.stdin.read().strip(); print(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp())'
}
