#!/bin/sh
# Issue 11 defect 2: a snapshot taken after the index rolled (the rule
# that keeps offsets to 8 hex digits, here with a 1 MiB limit) while the
# real WAL was not restarted must be named by the index where that WAL
# cycle began: the database file lacks the frames of the rolled indexes
# before it.  Checkpoints are off so one WAL cycle spans many indexes;
# snapshots come every 2 s and retention runs meanwhile.  Before the fix
# the latest restore failed integrity_check.  Oracle: ours and Litestream
# v0.3.13's restores equal the app's database; every snapshot name is the
# start of a WAL cycle.
. "$(dirname "$0")/lib.sh"
cd "$T"
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
snapshot-interval = 2s
min-checkpoint-page-count = 100000
max-checkpoint-page-count = 0
checkpoint-interval = 0
retention = 3s
retention-check-interval = 1s
retention-grace = 0
EOC
chmod 600 c.ini
LITESTREAM_C_MAX_INDEX_BYTES=1048576 bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d.log || fail "no first snapshot"
# 3 MiB and more of small commits, spread over about 7 s.
i=0
while [ $i -lt 14 ]; do
	/usr/bin/python3 "$ROOT/tests/tools/stress_writer.py" app.db 150 >/dev/null || fail writer
	sleep 0.5
	i=$((i + 1))
done
wait_for 10 sh -c "[ \$(grep -c 'snapshot written' d.log) -ge 3 ]" || fail "expected snapshots every 2s"
kill -TERM $D; wait $D || fail "daemon exit status $?"
rolls=$(grep -c "rolled to a new WAL index" d.log)
[ "$rolls" -ge 2 ] || fail "expected index rolls, saw $rolls"
# One WAL cycle (no checkpoint): every snapshot has the same name, and
# it is not one of the rolled indexes.
ls rep/generations/*/snapshots/
[ "$(ls rep/generations/*/snapshots/ | sort -u | wc -l)" = 1 ] ||
    fail "snapshots under several names in one WAL cycle: $(ls rep/generations/*/snapshots/)"
for i in $(grep "rolled to a new WAL index" d.log | sed 's/.*index=//'); do
	[ -e rep/generations/*/snapshots/$i.snapshot.lz4 ] && fail "a snapshot is named by the rolled index $i"
done
"$LSC" restore -o out.db "file://$T/rep" || fail "restore failed"
assert_same_db app.db out.db
if [ -x "$LITESTREAM" ]; then
	"$LITESTREAM" restore -o out2.db "file://$T/rep" 2>/dev/null || fail "Litestream restore failed"
	assert_same_db app.db out2.db
fi
echo "ok: $rolls rolls, $(grep -c 'snapshot written' d.log) snapshots, restores exact"
