#!/bin/sh
# Index rolling (the rule that keeps offsets to 8 hex digits, exercised
# with a 1 MiB limit instead of 4 GiB), a transaction that spills to the
# WAL before it commits, and a VACUUM that shrinks the database.  Oracle:
# Litestream v0.3.13 restores identical content and the same file size.
. "$(dirname "$0")/lib.sh"
[ -x "$LITESTREAM" ] || skip "Litestream v0.3.13 not installed (npm ci)"
cd "$T"
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
min-checkpoint-page-count = 100000
max-checkpoint-page-count = 0
checkpoint-interval = 0
EOC
chmod 600 c.ini
LITESTREAM_C_MAX_INDEX_BYTES=1048576 bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
/usr/bin/python3 "$ROOT/tests/tools/stress_writer.py" app.db 1500 >/dev/null || fail writer
sql app.db "PRAGMA cache_size=100; BEGIN; INSERT INTO t(v) SELECT randomblob(4000) FROM
  (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 2000) SELECT x FROM c); COMMIT;" || fail "big tx"
sql app.db "DELETE FROM t WHERE id % 3 <> 0; VACUUM;" || fail vacuum
kill -TERM $D; wait $D || fail "daemon exit status $?"
rolls=$(grep -c "rolled to a new WAL index" d.log)
[ "$rolls" -ge 3 ] || fail "expected index rolls, saw $rolls"
# No segment name may need a 9th hex digit, and every index starts at 0.
find rep -name '*.wal.lz4' | grep -v -E '/[0-9a-f]{8}_[0-9a-f]{8}\.wal\.lz4$' && fail "bad segment name"
for i in $(ls rep/generations/*/wal | sed -n 's/_.*//p' | sort -u); do
	ls rep/generations/*/wal/${i}_00000000.wal.lz4 >/dev/null 2>&1 || fail "index $i has no offset-0 segment"
done
"$LITESTREAM" restore -o out.db "file://$T/rep" 2>/dev/null || fail "litestream restore failed"
assert_same_db app.db out.db
[ "$(stat -c %s app.db)" = "$(stat -c %s out.db)" ] || fail "restored size differs after VACUUM"
echo "ok: $rolls rolls, spilled transaction and VACUUM restored exactly"
