#!/bin/sh
# Restore onto a full disk (fault matrix row 12): the output directory is
# a small tmpfs, mounted in a private mount namespace (unshare -m, as
# root), so the rest of the machine never sees it.
#  1. The snapshot alone does not fit (64 KiB tmpfs, 1 MiB database).
#  2. The snapshot fits but the WAL it must replay does not (a small
#     database that then grew by 2 MiB in WAL segments, 512 KiB tmpfs).
#  3. The same restore onto a tmpfs with room succeeds and equals the
#     source, so the failures above were the disk, not the replica.
# Each failure: exit 1, one line naming the output and saying the disk is
# full, and the directory left empty: no output, no temp file, no -wal or
# -shm.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "not root: cannot mount a tmpfs"
command -v unshare >/dev/null 2>&1 || skip "unshare (util-linux) missing"
unshare -m --propagation private true 2>/dev/null ||
    skip "unshare -m is not permitted here (no CAP_SYS_ADMIN in this container?)"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI missing"
cd "$T"

# A replica whose snapshot is the big database (case 1), and one whose
# snapshot is small and whose WAL holds the growth (case 2).
sql big.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<256)
INSERT INTO t(v) SELECT randomblob(4000) FROM c;" >/dev/null
"$LSC" replicate big.db "file://$T/rep1" 2> d1.log & D=$!
LSC_PIDS="$LSC_PIDS $D"
wait_for 20 grep -q "snapshot written" d1.log || fail "no snapshot for big.db"
kill -TERM $D; wait $D || fail "daemon 1 exit $?"

sql grow.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
printf '[db "%s/grow.db"]\nreplica = file://%s/rep2\nsync-interval = 100ms\nmin-checkpoint-page-count = 100000\nmax-checkpoint-page-count = 0\n' \
    "$T" "$T" > c.ini
chmod 600 c.ini
bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
wait_for 20 grep -q "snapshot written" d2.log || fail "no snapshot for grow.db"
for i in 1 2 3 4 5 6 7 8; do
	sql grow.db "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<64)
	    INSERT INTO t(v) SELECT randomblob(4000) FROM c;"
done
kill -TERM $D; wait $D || fail "daemon 2 exit $?"
snap2=$(du -b rep2/generations/*/snapshots/* | awk '{ s += $1 } END { print s }')
echo "rep2: snapshot $snap2 bytes (compressed), $(ls rep2/generations/*/wal | wc -l) segments"

# in_tmpfs SIZE REPLICA: restore REPLICA onto a fresh SIZE tmpfs at $T/mnt
# in a private mount namespace; writes the exit status, the stderr and a
# listing of the tmpfs (taken before it goes away) to $T/rc, $T/err, $T/ls.
in_tmpfs() {
	rm -rf "$T/mnt"; mkdir "$T/mnt"
	unshare -m --propagation private sh -c '
		mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99
		"$3" restore -o "$2/out.db" "$4" 2> "$5/err"
		echo $? > "$5/rc"
		ls -A "$2" > "$5/ls"
		[ "$(cat "$5/rc")" != 0 ] || cmp -s "$2/out.db" "$6" || echo differs >> "$5/ls"
	' sh "$1" "$T/mnt" "$LSC" "$2" "$T" "$3"
	[ $? != 99 ] || skip "cannot mount a tmpfs here"
	[ -z "$(ls -A "$T/mnt")" ] || fail "the tmpfs leaked out of the namespace"
}

# Reference restores, each as the source is now.
"$LSC" restore -o ref1.db "file://$T/rep1" 2>/dev/null || fail "rep1 does not restore"
assert_same_db big.db ref1.db
"$LSC" restore -o ref2.db "file://$T/rep2" 2>/dev/null || fail "rep2 does not restore"
assert_same_db grow.db ref2.db
echo "sizes: big $(stat -c %s ref1.db), grown $(stat -c %s ref2.db)"

# expect_full NAME: the last in_tmpfs failed cleanly.
expect_full() {
	[ "$(cat rc)" = 1 ] || { cat err; fail "$1: exit $(cat rc), want 1"; }
	line=$(grep -v 'level=' err)
	[ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] || { cat err; fail "$1: want one error line"; }
	printf '%s\n' "$line" | grep -q "'$T/mnt/out.db'" || { cat err; fail "$1: the error does not name the output"; }
	printf '%s\n' "$line" | grep -q 'No space left on device' || { cat err; fail "$1: the error does not say the disk is full"; }
	[ ! -s ls ] || { cat ls; fail "$1: left files on the full disk"; }
	echo "ok $1: $line"
}

note "1. the snapshot does not fit"
in_tmpfs 64k "file://$T/rep1" "$T/ref1.db"
expect_full "snapshot onto a full disk"

note "2. the snapshot fits, the WAL does not"
in_tmpfs 512k "file://$T/rep2" "$T/ref2.db"
expect_full "WAL onto a full disk"
grep -q "restoring" err || fail "case 2 did not get past the listing: $(cat err)"

note "3. with room, the same restores succeed"
in_tmpfs 16m "file://$T/rep1" "$T/ref1.db"
[ "$(cat rc)" = 0 ] || { cat err; fail "restore onto a roomy tmpfs: exit $(cat rc)"; }
[ "$(cat ls)" = out.db ] || fail "roomy tmpfs holds: $(cat ls)"
in_tmpfs 16m "file://$T/rep2" "$T/ref2.db"
[ "$(cat rc)" = 0 ] || { cat err; fail "restore of rep2 onto a roomy tmpfs: exit $(cat rc)"; }
[ "$(cat ls)" = out.db ] || fail "roomy tmpfs holds: $(cat ls)"
echo ok
