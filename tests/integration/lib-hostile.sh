# Helpers for the hostile-bucket tests (t2020, t4420, t5280), sourced
# after lib.sh.
#
# make_replica DB URL: replicate DB to URL with our daemon until the
# replica holds at least three segments of a WAL index and two of the
# next (so a segment has a successor in its index and indexes follow each
# other), then stop it with SIGTERM.  Extra config lines may come in
# $REPLICA_EXTRA (an [s3] section).  Sets GEN to the generation and IDX_A
# to the first of those two indexes.
HOSTILE="$ROOT/tests/tools/hostile.py"

make_replica() {
	_db=$1 _url=$2
	sql "$_db" "PRAGMA journal_mode=wal;
	    CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT);" >/dev/null
	{
		printf '%s\n' "${REPLICA_EXTRA:-}"
		printf '[db "%s"]\nreplica = %s\nsync-interval = 100ms\n' "$_db" "$_url"
		printf 'min-checkpoint-page-count = 200\n'
	} > "$T/hostile.ini"
	chmod 600 "$T/hostile.ini"
	bg "$LSC" replicate -c "$T/hostile.ini" 2> "$T/make_replica.log"
	_d=$BGPID
	wait_for 20 grep -q "snapshot written" "$T/make_replica.log" ||
	    fail "no snapshot: $(tail -n 3 "$T/make_replica.log")"
	_i=0
	while ! replica_enough; do
		[ $_i -lt 150 ] || fail "the replica never got two WAL indexes"
		sql "$_db" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1
		    FROM c WHERE x<30) INSERT INTO t(v) SELECT hex(randomblob(300)) FROM c;"
		sleep 0.15
		_i=$((_i + 1))
	done
	kill -TERM "$_d"
	wait "$_d" || fail "daemon exit $? (log $T/make_replica.log)"
	replica_enough || fail "the replica lost its segments"
	GEN=$(replica_keys | sed -n 's|^generations/\([0-9a-f]*\)/.*|\1|p' | head -n 1)
	[ -n "$GEN" ] || fail "no generation in the replica"
}

# replica_enough: the replica (listed by replica_keys) has an index with
# three segments or more followed by one with two or more; sets IDX_A to
# the first such index (8 hex digits).  (Index 0 may hold one segment
# only: a WAL that appears after the daemon started is a new cycle.)
replica_enough() {
	_k=$(replica_keys 2>/dev/null) || return 1
	_counts=$(printf '%s\n' "$_k" | sed -n 's|.*/wal/\([0-9a-f]\{8\}\)_[0-9a-f]\{8,16\}\.wal\.lz4$|\1|p' |
	    sort | uniq -c)
	IDX_A=
	for _i in $(printf '%s\n' "$_counts" | awk '$1 >= 3 { print $2 }'); do
		_next=$(printf '%08x' $((0x$_i + 1)))
		if printf '%s\n' "$_counts" | awk -v x="$_next" '$2 == x && $1 >= 2 { f = 1 } END { exit !f }'; then
			IDX_A=$_i
			return 0
		fi
	done
	return 1
}

# measured OUT CMD...: run CMD with /usr/bin/time, its stderr to OUT;
# sets RC, RSS_KB (peak) and SECS (elapsed).
measured() {
	_out=$1; shift
	/usr/bin/time -f 'measured: %M %e' -o "$T/.measure" "$@" 2> "$_out"
	RC=$?
	RSS_KB=$(sed -n 's/^measured: \([0-9]*\) .*/\1/p' "$T/.measure")
	SECS=$(sed -n 's/^measured: [0-9]* \([0-9.]*\)/\1/p' "$T/.measure")
	# /usr/bin/time reports a signal death as "Command terminated ...".
	if grep -q 'Command terminated' "$T/.measure"; then RC=128; fi
}

# within_bounds WHAT MAX_RSS_KB MAX_SECS: fail unless the last measured
# run stayed within both.
within_bounds() {
	[ -n "$RSS_KB" ] && [ "$RSS_KB" -le "$2" ] ||
	    fail "$1: peak RSS ${RSS_KB:-?} KiB, bound $2 KiB"
	awk -v s="$SECS" -v m="$3" 'BEGIN { exit !(s + 0 <= m) }' ||
	    fail "$1: took ${SECS}s, bound ${3}s"
}

# one_error_line FILE PATTERN WHAT: FILE holds exactly one line that is
# not a log line (level=...), and it matches PATTERN.
one_error_line() {
	_line=$(grep -v 'level=' "$1")
	[ "$(printf '%s\n' "$_line" | grep -c .)" = 1 ] ||
	    { cat "$1"; fail "$3: want one error line"; }
	printf '%s\n' "$_line" | grep -q -- "$2" ||
	    { cat "$1"; fail "$3: error does not match '$2'"; }
	echo "ok $3: $_line"
}

# only_our_keys FILE WHAT: every "key" of a --json listing in FILE is one
# of ours, exactly (no foreign key is ever listed).
only_our_keys() {
	_bad=$(grep -o '"key":"[^"]*"' "$1" | grep -v -E \
	    '^"key":"generations/[0-9a-f]{16}/(snapshots/[0-9a-f]{8}\.snapshot\.lz4|wal/[0-9a-f]{8}_[0-9a-f]{8,16}\.wal\.lz4)"$')
	[ -z "$_bad" ] || fail "$2 lists a foreign key: $(printf '%s\n' "$_bad" | head -n 2)"
}
