#!/bin/sh
# A hostile S3 bucket (fault matrix rows 22, 23): s3rver behind
# tests/tools/s3proxy.py, whose list_rewrite action edits listings.
#  1. The daemon's start-up position finding: the listing of its
#     generation gains a segment at offset ffffffffffffffff (no such
#     object exists): it is refused without a download, with one warning
#     naming it, and exactly one new generation follows.
#  2. Restore and the listings (generations, snapshots, wal) of a listing
#     with EncodingType url and foreign keys: "%2e%2e/%2e%2e/x", a %00 in
#     a key, control characters, a 9-digit and an ffffffff index, a 2 KB
#     key, a non-hex index, a key repeated, a key outside the prefix, and
#     3000 (older) generations: skipped with one warning, and the restore
#     equals the source.
#  3. A listing that says the snapshot is 10 bytes: the snapshot inflates
#     past 255 times that, and is refused with one line naming it.
#  4. A 1 GiB LZ4 bomb uploaded over a segment that has a successor:
#     refused at the gap before the next segment.
# Every restore and listing runs under /usr/bin/time with a timeout: peak
# RSS and time are bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
. "$(dirname "$0")/lib-hostile.sh"
LIVE="$BUILD/tests/test_replica_s3_live"
[ -x "$LIVE" ] || skip "$LIVE not built"
[ -x /usr/bin/time ] || skip "/usr/bin/time missing (Debian package time)"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI missing"
cd "$T"
s3_start
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
URL="s3://bkt/p?endpoint=$EP"
replica_keys() { S3_TEST_URL=$URL "$LIVE" list generations/ | sed 1d | cut -d' ' -f1; }
export LITESTREAM_C_LOG_LEVEL=debug
make_replica "$T/app.db" "$URL"
echo "generation $GEN"

# A listing request, and the listing rewrite rule for it.
LISTQ='list-type=2'
rewrite() { faults "[{\"method\":\"GET\",\"path\":\"^/bkt/?\$\",\"query\":\"$1\",\"action\":\"list_rewrite\",\"times\":-1,$2}]"; }

note "1. the daemon: a segment at offset ffffffffffffffff in its generation"
# In its last index, so that it is the segment the daemon reads.
LASTIDX=$(replica_keys | sed -n "s|^generations/$GEN/wal/\([0-9a-f]\{8\}\)_.*|\1|p" | sort | tail -n 1)
rewrite "$LISTQ.*$GEN" "\"inject\":[{\"key\":\"p/generations/$GEN/wal/${LASTIDX}_ffffffffffffffff.wal.lz4\",\"size\":100,\"mtime\":\"2030-01-01T00:00:00.000Z\"}]"
m=$(mark)
bg "$LSC" replicate -c "$T/hostile.ini" 2> d.log; D=$BGPID
wait_for 20 grep -q 'is not ours' d.log || fail "no warning: $(tail -n 5 d.log)"
grep 'is not ours' d.log | grep -q "key=generations/$GEN/wal/${LASTIDX}_ffffffffffffffff.wal.lz4.*starts at offset 18446744073709551615" ||
    fail "the warning does not explain: $(grep 'is not ours' d.log)"
for i in 1 2 3 4; do
	b=$(grep -c 'wal segment written' d.log)
	sql app.db "INSERT INTO t(v) VALUES ('after $i')"
	wait_for 10 sh -c "[ \$(grep -c 'wal segment written' d.log) -gt $b ]" || fail "row $i not shipped"
done
[ "$(count_since "$m" 'r["method"]=="GET" and "ffffffffffffffff" in r["path"]')" = 0 ] ||
    fail "the daemon tried to download the foreign segment"
[ "$(grep -c 'msg="new generation"' d.log)" = 1 ] || { grep generation d.log; fail "want exactly one new generation"; }
GEN2=$(grep 'msg="new generation"' d.log | sed 's/.*generation=\([0-9a-f]*\).*/\1/')
faults '[]'
"$LSC" restore -o good.db "$URL" 2> r.err || fail "restore: $(cat r.err)"
assert_same_db app.db good.db	# the daemon still runs: the WAL stays
stop_daemon "$D" d.log
echo "new generation $GEN2"

# run_cmd NAME CMD...: measured, with a hard timeout, in an empty $T/out.
run_cmd() {
	_name=$1; shift
	rm -rf "$T/out"; mkdir "$T/out"
	measured "$T/err" timeout -k 5 120 "$@" > "$T/stdout"
	[ "$RC" != 124 ] || fail "$_name: timed out"
	echo "   $_name: exit $RC, peak RSS ${RSS_KB} KiB, ${SECS}s"
}

note "2. foreign keys in the listing"
big=$(printf 'a%.0s' $(seq 2000))
inject="\"encoding_type\":\"url\",\"inject\":["
for k in "p/generations/%2e%2e/%2e%2e/x" \
    "p/generations/$GEN2/snapshots/00000009.snapshot.lz4%00.x" \
    "p/generations/$GEN2/wal/00000000_%01%1b%5b2J.wal.lz4" \
    "p/generations/$GEN2/wal/000000001_00000000.wal.lz4" \
    "p/generations/$GEN2/snapshots/ffffffff.snapshot.lz4" \
    "p/generations/$GEN2/wal/0000000g_00000000.wal.lz4" \
    "p/generations/$GEN2/$big" \
    "p/generations/$GEN2/snapshots/00000000.snapshot.lz4" \
    "/abs/generations/$GEN2/snapshots/00000009.snapshot.lz4"; do
	inject="$inject{\"key\":\"$k\",\"mtime\":\"2020-01-01T00:00:00.000Z\"},"
done
inject="${inject%,}],\"generate\":{\"count\":3000,\"key\":\"p/generations/%016x/snapshots/00000000.snapshot.lz4\",\"mtime\":\"2020-01-01T00:00:00.000Z\"}"
rewrite "$LISTQ" "$inject"
run_cmd "restore" "$LSC" restore -o "$T/out/x.db" "$URL"
[ "$RC" = 0 ] || { cat err; fail "restore with foreign keys: exit $RC"; }
cmp good.db out/x.db || fail "foreign keys changed the restored database"
[ "$(grep -c 'level=warn' err)" = 1 ] || { cat err; fail "want exactly one warning"; }
grep 'level=warn' err | grep -q 'skipping objects that are not Litestream v0.3 snapshots or WAL segments.*count=7 ' ||
    { cat err; fail "the warning does not count the 7 foreign keys"; }
grep 'level=warn' err
within_bounds "restore" 131072 60
for cmd in generations snapshots wal; do
	run_cmd "$cmd" "$LSC" "$cmd" --json "$URL"
	[ "$RC" = 0 ] || { cat err; fail "$cmd: exit $RC"; }
	[ "$(grep -c 'level=warn.*count=7 ' err)" = 1 ] || { cat err; fail "$cmd: want one warning"; }
	only_our_keys stdout "$cmd"
	within_bounds "$cmd" 131072 60
done
[ "$(grep -c '"key"' stdout)" -gt 2 ] || fail "wal listing is empty"
"$LSC" generations "$URL" 2>/dev/null | grep -c . > n.txt
[ "$(cat n.txt)" = 3003 ] || fail "want 3002 generations and a header, got $(cat n.txt) lines"

note "3. a listing that says the snapshot is 10 bytes"
rewrite "$LISTQ" '"sizes":{"/snapshots/":10}'
run_cmd "restore" "$LSC" restore -o "$T/out/x.db" "$URL"
[ "$RC" = 1 ] || { cat err; fail "exit $RC, want 1"; }
one_error_line err "refusing object 'generations/$GEN2/snapshots/[0-9a-f]*.snapshot.lz4': it inflates past 68086 bytes, more than 255 times its listed size of 10 bytes" "lying listing"
[ -z "$(ls -A out)" ] || fail "left files behind"
within_bounds "lying listing" 65536 30
faults '[]'

note "4. a 1 GiB LZ4 bomb over a segment with a successor"
# The first segment of an index that has another after it.
IDX2=$(replica_keys | sed -n "s|^generations/$GEN2/wal/\([0-9a-f]\{8\}\)_.*|\1|p" | sort | uniq -c |
    awk '$1 >= 2 { print $2; exit }')
SEG_MID=$(replica_keys | grep "^generations/$GEN2/wal/${IDX2:-none}_" | sort | sed -n 1p)
[ -n "$SEG_MID" ] || fail "no second segment in $GEN2: $(replica_keys)"
/usr/bin/python3 "$HOSTILE" bomb bomb.lz4 1
S3_TEST_URL=$URL "$LIVE" putfile "$SEG_MID" bomb.lz4 || fail "cannot upload the bomb"
run_cmd "restore" "$LSC" restore -o "$T/out/x.db" "$URL"
[ "$RC" = 1 ] || { cat err; fail "exit $RC, want 1"; }
one_error_line err "refusing object '$SEG_MID': it inflates past [0-9]* bytes, more than the [0-9]* bytes before the next segment" "bomb"
[ -z "$(ls -A out)" ] || fail "left files behind"
within_bounds "bomb" 65536 30
echo ok
