# Shared helpers for integration scripts (POSIX sh).  Source it first:
#   . "$(dirname "$0")/lib.sh"
# It makes $T (a fresh temp dir, removed on exit unless KEEP=1), sets $LSC
# to the binary under test and $ROOT to the source tree.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
LSC="$BUILD/litestream-c"
LITESTREAM="$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream"
WALWRITER="$BUILD/tests/walwriter"
T=$(mktemp -d "${TMPDIR:-/tmp}/lsc-test.XXXXXX")
LSC_PIDS=""
cleanup() {
	# Children first: a daemon started under a wrapper (/usr/bin/time,
	# timeout, sh -c) would outlive the wrapper's kill, orphaned.
	for p in $LSC_PIDS; do
		pkill -9 -P "$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "== $*"; }

# wait_for SECONDS CMD...: poll CMD every 0.05 s until it succeeds.
wait_for() {
	_limit=$1; shift
	_end=$(( $(date +%s) + _limit ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.05
	done
}

# Start a background process and remember it for cleanup; sets $BGPID.
bg() { "$@" & BGPID=$!; LSC_PIDS="$LSC_PIDS $BGPID"; }

# start_file_daemon: in $T, app.db with walwriter's table (one row),
# replicated by the daemon to file://$T/rep with debug logs in d.log; the
# [db] section gets the config lines read from stdin.  Returns once the
# first snapshot is written; sets $D.
start_file_daemon() {
	"$WALWRITER" app.db --count 1 >/dev/null || fail "walwriter cannot create its table"
	{ printf '[daemon]\nlog-level = debug\n[db "%s/app.db"]\nreplica = file://%s/rep\n' "$T" "$T"
	  cat; } > c.ini
	chmod 600 c.ini
	bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
	wait_for 10 grep -q "snapshot written" d.log || fail "no snapshot: $(tail -n 3 d.log)"
}

# sql DB STATEMENTS: run statements with a busy timeout.
sql() { _db=$1; shift; sqlite3 -cmd ".timeout 5000" "$_db" "$@"; }

# db_dump DB: a canonical dump of user tables (no _litestream_* tables).
db_dump() {
	sqlite3 "$1" ".dump" | grep -v -E '_litestream_(seq|lock)'
}

# assert_same_db A B: integrity ok on B and identical dumps.
assert_same_db() {
	[ "$(sqlite3 "$2" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check failed on $2"
	db_dump "$1" > "$T/.dumpA"; db_dump "$2" > "$T/.dumpB"
	cmp -s "$T/.dumpA" "$T/.dumpB" || { diff "$T/.dumpA" "$T/.dumpB" | head -n 20; fail "$1 and $2 differ"; }
}
