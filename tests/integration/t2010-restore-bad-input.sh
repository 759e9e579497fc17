#!/bin/sh
# Restore refuses bad input with one clear line naming the object, exit 1,
# no output and no temp files: a missing replica, an unknown generation, a
# flipped byte in a segment or a snapshot, a truncated segment, a missing
# middle segment (gap), a missing offset-0 segment, a timestamp before the
# first snapshot, an existing output or a stale -wal beside it.  The
# --if-* options turn the two "nothing to do" cases into exit 0.
. "$(dirname "$0")/lib.sh"
[ -x "$LITESTREAM" ] || skip "litestream binary not installed (npm ci)"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI missing"

DB=$T/app.db
REP=$T/replica
cat > "$T/ls.yml" <<EOY
dbs:
  - path: $DB
    monitor-interval: 100ms
    checkpoint-interval: 1s
    min-checkpoint-page-count: 20
    replicas:
      - url: file://$REP
        sync-interval: 100ms
EOY
sql "$DB" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);" >/dev/null
bg "$LITESTREAM" replicate -config "$T/ls.yml" >"$T/ls.log" 2>&1
LSPID=$BGPID
has_snapshot() { ls "$REP"/generations/*/snapshots/*.snapshot.lz4; }
wait_for 30 has_snapshot || fail "litestream made no snapshot"
# Several transactions per index and at least two indexes.
enough() {
	[ "$(ls "$REP"/generations/*/wal | grep -c '^00000000_')" -ge 3 ] &&
	[ "$(ls "$REP"/generations/*/wal | grep -c '^00000001_')" -ge 2 ]
}
i=0
while ! enough; do
	[ $i -lt 100 ] || fail "litestream never made two indexes"
	sql "$DB" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<30)
	    INSERT INTO t(v) SELECT hex(randomblob(300)) FROM c;"
	sleep 0.2
	i=$((i + 1))
done
kill -TERM "$LSPID"
wait "$LSPID" || fail "litestream exited with $?"
GEN=$(ls "$REP/generations")
W=$REP/generations/$GEN/wal
S=$REP/generations/$GEN/snapshots/00000000.snapshot.lz4
"$LSC" restore -o "$T/good.db" "file://$REP" 2>/dev/null || fail "the intact replica does not restore"
assert_same_db "$DB" "$T/good.db"

# expect_fail NAME PATTERN ARGS...: exit 1, one error line matching PATTERN,
# and nothing left in $T/out/.
expect_fail() {
	_name=$1 _pat=$2; shift 2
	rm -rf "$T/out"; mkdir "$T/out"
	"$LSC" restore -o "$T/out/x.db" "$@" 2>"$T/err"; _rc=$?
	[ $_rc = 1 ] || { cat "$T/err"; fail "$_name: exit $_rc, want 1"; }
	_line=$(grep -v 'level=' "$T/err")
	[ "$(printf '%s\n' "$_line" | grep -c .)" = 1 ] || { cat "$T/err"; fail "$_name: want one error line"; }
	printf '%s\n' "$_line" | grep -q -- "$_pat" || { cat "$T/err"; fail "$_name: error does not match '$_pat'"; }
	[ -z "$(ls -A "$T/out")" ] || { ls -la "$T/out"; fail "$_name: left files behind"; }
	echo "ok $_name: $_line"
}

# copy_rep: a fresh copy of the replica in $T/bad; prints its URL.
copy_rep() { rm -rf "$T/bad"; cp -a "$REP" "$T/bad"; BW=$T/bad/generations/$GEN/wal; }

# flip FILE OFFSET: xor one byte.
flip() {
	/usr/bin/python3 - "$1" "$2" <<'EOP'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[off] ^= 0x55
open(p, 'wb').write(b)
EOP
}
size() { wc -c < "$1" | tr -d ' '; }

expect_fail "missing replica" "no backups found" "file://$T/nonexistent"
"$LSC" restore --if-replica-exists -o "$T/x.db" "file://$T/nonexistent" 2>/dev/null || fail "--if-replica-exists on a missing replica"
[ ! -e "$T/x.db" ] || fail "--if-replica-exists wrote something"

expect_fail "unknown generation" "generation 0123456789abcdef not found" --generation 0123456789abcdef "file://$REP"
expect_fail "timestamp too early" "no snapshot at or before 2001-01-01T00:00:00Z" --timestamp 2001-01-01T00:00:00Z "file://$REP"
"$LSC" restore --if-replica-exists --timestamp 2001-01-01T00:00:00Z -o "$T/x.db" "file://$REP" 2>/dev/null ||
	fail "--if-replica-exists with an early timestamp"

# A segment in the middle of index 0 (not its first).
SEG=$(ls "$W" | grep '^00000000_' | sed -n 2p)
LASTSEG=$(ls "$W" | tail -n 1)

copy_rep; flip "$BW/$SEG" $(( $(size "$BW/$SEG") / 2 ))
expect_fail "flipped byte in a segment" "$SEG" "file://$T/bad"
copy_rep; flip "$BW/$LASTSEG" $(( $(size "$BW/$LASTSEG") - 2 ))
expect_fail "flipped byte in a segment's checksum" "$LASTSEG" "file://$T/bad"
copy_rep; flip "$T/bad/generations/$GEN/snapshots/00000000.snapshot.lz4" $(( $(size "$S") / 2 ))
expect_fail "flipped byte in the snapshot" "00000000.snapshot.lz4" "file://$T/bad"
copy_rep; head -c $(( $(size "$BW/$SEG") - 7 )) "$W/$SEG" > "$BW/$SEG"
expect_fail "truncated segment" "$SEG" "file://$T/bad"
if command -v lz4 >/dev/null; then
	# Valid LZ4 around broken WAL bytes: the frame checks must catch them.
	copy_rep; lz4 -d -q -c "$W/$SEG" > "$T/seg.raw"
	flip "$T/seg.raw" 100
	lz4 -q -z -f "$T/seg.raw" "$BW/$SEG"
	expect_fail "broken checksum chain" "corrupt WAL segment '.*$SEG': frame at offset [0-9]* breaks the checksum chain" "file://$T/bad"
	copy_rep; lz4 -d -q -c "$W/$SEG" > "$T/seg.raw"
	flip "$T/seg.raw" 8
	lz4 -q -z -f "$T/seg.raw" "$BW/$SEG"
	expect_fail "bad salt" "corrupt WAL segment '.*$SEG': frame at offset [0-9]* has salts" "file://$T/bad"
	I0=00000001_00000000.wal.lz4
	copy_rep; lz4 -d -q -c "$W/$I0" > "$T/seg.raw"
	flip "$T/seg.raw" 20
	lz4 -q -z -f "$T/seg.raw" "$BW/$I0"
	expect_fail "bad WAL header" "bad WAL header in '.*$I0'" "file://$T/bad"
fi
copy_rep; rm "$BW/$SEG"
expect_fail "missing middle segment" "gap in generation $GEN index 00000000: expected offset" "file://$T/bad"
copy_rep; rm "$BW/00000001_00000000.wal.lz4"
expect_fail "missing offset-0 segment" "missing initial WAL segment in generation $GEN index 00000001" "file://$T/bad"
copy_rep; rm "$BW"/00000000_*
expect_fail "missing snapshot index" "missing WAL index 00000000" "file://$T/bad"
copy_rep; cp "$BW/$SEG" "$BW/$(echo "$SEG" | sed 's/_/_0/')"
expect_fail "duplicate offset spellings" "duplicate WAL segment" "file://$T/bad"
copy_rep; printf 'not lz4 at all' > "$T/bad/generations/$GEN/snapshots/00000000.snapshot.lz4"
expect_fail "garbage snapshot" "00000000.snapshot.lz4" "file://$T/bad"

# Nothing else harmed: the replica we did not touch still restores the same.
rm -f "$T/good2.db"
"$LSC" restore -o "$T/good2.db" "file://$REP" 2>/dev/null || fail "intact replica broken afterwards"
cmp "$T/good.db" "$T/good2.db" || fail "intact replica restores differently afterwards"

note "existing output"
cp "$T/good.db" "$T/exists.db"
"$LSC" restore -o "$T/exists.db" "file://$REP" 2>"$T/err" && fail "overwrote an existing output"
grep -q "already exists" "$T/err" || fail "no 'already exists': $(cat "$T/err")"
cmp "$T/good.db" "$T/exists.db" || fail "existing output was changed"
"$LSC" restore --if-db-not-exists -o "$T/exists.db" "file://$REP" 2>"$T/err" || fail "--if-db-not-exists did not exit 0"
grep -q "already exists, skipping" "$T/err" || fail "--if-db-not-exists said nothing"
: > "$T/stale.db-wal"
"$LSC" restore -o "$T/stale.db" "file://$REP" 2>"$T/err" && fail "restored beside a stale -wal"
grep -q "stale.db-wal" "$T/err" || fail "stale -wal not named: $(cat "$T/err")"
[ ! -e "$T/stale.db" ] || fail "output written beside a stale -wal"

note "read-only output directory"
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro"; chmod 555 "$T/ro"
	"$LSC" restore -o "$T/ro/x.db" "file://$REP" 2>"$T/err"; rc=$?
	[ $rc = 1 ] || fail "read-only dir: exit $rc"
	chmod 755 "$T/ro"
fi
echo ok
