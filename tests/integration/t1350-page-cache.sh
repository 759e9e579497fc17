#!/bin/sh
# Issue 9 (invisible beside the app): the daemon's own copies do not sit
# in the page cache.  Under a full-speed writer the shadow WAL is written
# once, read once by the shipper and then kept only for a crash, and a
# file replica's objects are write-once: cached, they took memory the
# app's pages need (bench: 1,036 MiB of shadow WAL and 198 MiB of replica
# cached after 5 s of writing).  Once every replica holds the bytes, they
# are dropped from the cache (posix_fadvise, advice only: nothing is lost,
# and the restore below reads them back from the disk).
. "$(dirname "$0")/lib.sh"
cd "$T"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
command -v fincore >/dev/null || skip "fincore (util-linux) not installed"
start_file_daemon <<EOC
sync-interval = 200ms
EOC
"$WALWRITER" app.db --duration 3 --row-size 1024 > w.out || fail writer
# MiB of the files under $1 that are in the page cache, and their size.
cached() { find "$1" -type f -exec fincore -bn -o RES {} + | awk '{ s += $1 } END { print int(s / 1048576) }'; }
size() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print int(s / 1048576) }'; }
# The last sync ships what the writer left; then the bytes are dropped.
shadow_dropped() { [ "$(cached .app.db-litestream)" -le 1 ]; }
wait_for 15 shadow_dropped ||
    fail "the shadow WAL stays cached: $(cached .app.db-litestream) of $(size .app.db-litestream) MiB"
shadow=$(size .app.db-litestream)
[ "$shadow" -ge 20 ] || fail "the writer made only $shadow MiB of shadow WAL: not a test"
[ "$(cached rep)" -le 1 ] || fail "the replica stays cached: $(cached rep) of $(size rep) MiB"
note "shadow WAL $shadow MiB, cached $(cached .app.db-litestream) MiB; replica $(size rep) MiB, cached $(cached rep) MiB"
kill -TERM $D; wait $D || fail "daemon exit status $?"
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "restore failed"
assert_same_db app.db out.db
echo "ok: shipped copies leave the page cache; the restore is exact"
