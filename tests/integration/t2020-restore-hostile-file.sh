#!/bin/sh
# A hostile file replica (fault matrix rows 22 and 23), against restore
# and the listings.  The replica is one our daemon wrote (two WAL
# indexes, several segments each); copies of it get:
#  - keys that are not ours: a non-hex, a 9-digit and an ffffffff index,
#    index 7fffffff, an ESC and a newline in a name, a 2 KB key, a symlink
#    named like a newer snapshot, a 9-digit spelling of an index, and 3000
#    generations of junk (older, so ours stays the newest).  Restore and
#    the listings skip them with one warning, and restore gives exactly
#    the database it gives without them;
#  - objects that are not what they claim: 8 GiB LZ4 bombs as a segment
#    with a successor (capped at the gap before it), as the last segment
#    and as the snapshot (refused at their first bytes), a frame whose
#    content size lies, a block that claims more bytes than the frame
#    holds, a truncated frame, zero-length objects, and a duplicate
#    9-digit spelling of an offset.  Each is refused with one line naming
#    the key, exit 1.
# Every run: no output and no temp file left on failure, nothing written
# anywhere else (find -newer), peak RSS and time under bounds
# (/usr/bin/time, and a hard timeout).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-hostile.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI missing"
[ -x /usr/bin/time ] || skip "/usr/bin/time missing (Debian package time)"
cd "$T"

REP=$T/rep
replica_keys() { (cd "$REP" && find . -type f | sed 's|^\./||'); }
make_replica "$T/app.db" "file://$REP"
"$LSC" restore -o "$T/good.db" "file://$REP" 2>/dev/null || fail "the intact replica does not restore"
assert_same_db "$T/app.db" "$T/good.db"

G=$REP/generations/$GEN
SEG_MID=$(ls "$G/wal" | grep "^${IDX_A}_" | sed -n 2p)	# has a successor
SEG_LAST=$(ls "$G/wal" | tail -n 1)
SNAP=$(ls "$G/snapshots" | tail -n 1)
echo "generation $GEN: $(ls "$G/wal" | wc -l) segments, snapshot $SNAP"

# copy_rep: a fresh copy of the replica in $T/bad; $B is its generation.
copy_rep() { rm -rf "$T/bad"; cp -a "$REP" "$T/bad"; B=$T/bad/generations/$GEN; }

# run_cmd NAME CMD...: run a restore or listing on $T/bad, measured, with
# a hard timeout; then check that it wrote nothing but into $T/out.
run_cmd() {
	_name=$1; shift
	rm -rf "$T/out"; mkdir "$T/out"
	touch "$T/.mark"
	measured "$T/err" timeout -k 5 120 "$@" > "$T/stdout"
	[ "$RC" != 124 ] || fail "$_name: timed out"
	_stray=$(find "$T" -newer "$T/.mark" ! -path "$T" ! -path "$T/out" \
	    ! -path "$T/out/*" ! -name err ! -name stdout ! -name .measure)
	[ -z "$_stray" ] || fail "$_name: wrote outside its output: $_stray"
	echo "   $_name: exit $RC, peak RSS ${RSS_KB} KiB, ${SECS}s"
}

restore_bad() { run_cmd "$1" "$LSC" restore -o "$T/out/x.db" "file://$T/bad"; }

# expect_refusal NAME PATTERN: restore of $T/bad fails with one line
# matching PATTERN, within bounds, leaving nothing.
expect_refusal() {
	restore_bad "$1"
	[ "$RC" = 1 ] || { cat "$T/err"; fail "$1: exit $RC, want 1"; }
	one_error_line "$T/err" "$2" "$1"
	[ -z "$(ls -A "$T/out")" ] || { ls -la "$T/out"; fail "$1: left files behind"; }
	within_bounds "$1" 65536 20
}

note "keys that are not ours"
copy_rep
cp "$G/wal/$SEG_MID" "$B/wal/0000000g_00000000.wal.lz4"
cp "$G/wal/$SEG_MID" "$B/wal/000000001_00000000.wal.lz4"
cp "$G/wal/$SEG_MID" "$B/wal/ffffffff_00000000.wal.lz4"
cp "$G/snapshots/$SNAP" "$B/snapshots/ffffffff.snapshot.lz4"
cp "$G/snapshots/$SNAP" "$B/snapshots/7fffffff.snapshot.lz4"
cp "$G/snapshots/$SNAP" "$B/snapshots/000000009.snapshot.lz4"
cp "$G/snapshots/$SNAP" "$B/snapshots/$(printf '00000009\033[2J')"
cp "$G/snapshots/$SNAP" "$B/snapshots/$(printf '00000009\n.snapshot.lz4')"
long=$(printf 'a%.0s' $(seq 250))
mkdir -p "$B/wal/$long/$long/$long/$long/$long/$long/$long/$long"
cp "$G/wal/$SEG_MID" "$B/wal/$long/$long/$long/$long/$long/$long/$long/$long/00000000_00000000.wal.lz4"
# Named like a newer snapshot, but a symlink: never followed.
cp "$G/snapshots/$SNAP" "$T/elsewhere.lz4"
ln -s "$T/elsewhere.lz4" "$B/snapshots/00000009.snapshot.lz4"
/usr/bin/python3 - "$T/bad/generations" <<'EOF'
import os, sys
root = sys.argv[1]
for i in range(1, 3001):
    d = os.path.join(root, "%016x" % (0x1000 + i), "snapshots")
    os.makedirs(d)
    p = os.path.join(d, "00000000.snapshot.lz4")
    with open(p, "wb") as f:
        f.write(b"junk")
    os.utime(p, (1577836800, 1577836800))  # 2020-01-01: older than ours
EOF
restore_bad "hostile keys"
[ "$RC" = 0 ] || { cat "$T/err"; fail "restore with hostile keys: exit $RC"; }
cmp "$T/good.db" "$T/out/x.db" || fail "hostile keys changed the restored database"
[ "$(grep -c 'level=warn' "$T/err")" = 1 ] || { cat "$T/err"; fail "want exactly one warning"; }
grep 'level=warn' "$T/err" | grep -q 'skipping objects that are not Litestream v0.3 snapshots or WAL segments.*count=9 ' ||
    { cat "$T/err"; fail "the warning does not count the 9 foreign keys"; }
grep -q 'level=error' "$T/err" && fail "errors while skipping: $(cat "$T/err")"
within_bounds "hostile keys" 131072 60
grep 'level=warn' "$T/err"

for cmd in generations snapshots wal; do
	run_cmd "$cmd listing" "$LSC" "$cmd" --json "file://$T/bad"
	[ "$RC" = 0 ] || { cat "$T/err"; fail "$cmd: exit $RC"; }
	[ "$(grep -c 'level=warn.*count=9 ' "$T/err")" = 1 ] || { cat "$T/err"; fail "$cmd: want one warning"; }
	only_our_keys "$T/stdout" "$cmd"
	within_bounds "$cmd listing" 131072 60
done
[ "$(grep -c '"key"' "$T/stdout")" -gt 5 ] || fail "wal listing is empty"
"$LSC" generations "file://$T/bad" 2>/dev/null > "$T/gens.txt"
[ "$(wc -l < "$T/gens.txt")" = 3002 ] || fail "want 3001 generations and a header, got $(wc -l < "$T/gens.txt") lines"

note "objects that are not what they claim"
copy_rep; /usr/bin/python3 "$HOSTILE" bomb "$B/wal/$SEG_MID" 8.01
expect_refusal "8 GiB bomb before another segment" \
    "refusing object 'generations/$GEN/wal/$SEG_MID': it inflates past [0-9]* bytes, more than the [0-9]* bytes before the next segment"
copy_rep; /usr/bin/python3 "$HOSTILE" bomb "$B/wal/$SEG_LAST" 8.01
expect_refusal "8 GiB bomb as the last segment" "generations/$GEN/wal/$SEG_LAST"
copy_rep; /usr/bin/python3 "$HOSTILE" bomb "$B/snapshots/$SNAP" 8.01
expect_refusal "8 GiB bomb as the snapshot" \
    "snapshot 'generations/$GEN/snapshots/$SNAP' is not a SQLite database"
lz4 -d -q -c "$G/wal/$SEG_MID" > "$T/seg.raw" && lz4 -q -z -c "$T/seg.raw" > "$T/seg.cli.lz4" ||
    fail "lz4 CLI cannot round-trip a segment"
copy_rep; /usr/bin/python3 "$HOSTILE" lying "$B/wal/$SEG_MID" "$T/seg.cli.lz4"
expect_refusal "frame whose content size lies" "corrupt object 'generations/$GEN/wal/$SEG_MID'"
copy_rep; /usr/bin/python3 "$HOSTILE" bigblock "$B/wal/$SEG_MID"
expect_refusal "block longer than the frame" "corrupt object 'generations/$GEN/wal/$SEG_MID'"
copy_rep; head -c $(( $(wc -c < "$G/wal/$SEG_MID") / 2 )) "$G/wal/$SEG_MID" > "$B/wal/$SEG_MID"
expect_refusal "truncated frame" "corrupt object 'generations/$GEN/wal/$SEG_MID'"
copy_rep; : > "$B/wal/$SEG_MID"
expect_refusal "zero-length segment" "corrupt object 'generations/$GEN/wal/$SEG_MID': LZ4 frame is truncated"
copy_rep; : > "$B/snapshots/$SNAP"
expect_refusal "zero-length snapshot" "generations/$GEN/snapshots/$SNAP"
copy_rep; cp "$G/wal/$SEG_MID" "$B/wal/$(echo "$SEG_MID" | sed 's/_/_0/')"
expect_refusal "duplicate 9-digit spelling of an offset" \
    "duplicate WAL segment in generation $GEN index $IDX_A .*'generations/$GEN/wal/$SEG_MID'"

# The intact replica is unharmed by all this.
rm -f "$T/good2.db"
"$LSC" restore -o "$T/good2.db" "file://$REP" 2>/dev/null || fail "intact replica broken afterwards"
cmp "$T/good.db" "$T/good2.db" || fail "intact replica restores differently afterwards"
echo ok
