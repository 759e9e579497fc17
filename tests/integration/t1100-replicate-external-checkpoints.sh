#!/bin/sh
# Three concurrent writers, two of them running TRUNCATE and RESTART
# checkpoints of their own, while the daemon replicates with small
# checkpoint thresholds (many WAL indexes).  Oracle: Litestream v0.3.13
# restores every generation to a database that passes integrity_check,
# and the latest to content identical to the source.
. "$(dirname "$0")/lib.sh"
[ -x "$LITESTREAM" ] || skip "Litestream v0.3.13 not installed (npm ci)"
cd "$T"
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
min-checkpoint-page-count = 50
max-checkpoint-page-count = 200
EOC
chmod 600 c.ini
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
W=$ROOT/tests/tools/stress_writer.py
/usr/bin/python3 "$W" app.db 2000 TRUNCATE & P1=$!
/usr/bin/python3 "$W" app.db 2000 RESTART & P2=$!
/usr/bin/python3 "$W" app.db 2000 & P3=$!
wait $P1 && wait $P2 && wait $P3 || fail "a writer failed"
kill -TERM $D; wait $D || fail "daemon exit status $? (log: $(tail -3 d.log))"
grep -q "level=error" d.log && fail "errors logged: $(grep level=error d.log | head -3)"
note "generations: $(grep -c 'new generation' d.log) ($(grep 'new generation' d.log | sed 's/.*reason=//' | sort | uniq -c | tr '\n' ' '))"
note "indexes: $(ls rep/generations/*/wal | sed -n 's/_.*//p' | sort -u | wc -l) segments: $(find rep -name '*.wal.lz4' | wc -l)"
for g in $(ls rep/generations); do
	ls rep/generations/$g/snapshots/*.lz4 >/dev/null 2>&1 || continue
	rm -f g.db
	"$LITESTREAM" restore -generation "$g" -o g.db "file://$T/rep" >/dev/null 2>&1 || fail "litestream cannot restore generation $g"
	[ "$(sqlite3 g.db 'PRAGMA integrity_check')" = ok ] || fail "generation $g restores corrupt"
done
"$LITESTREAM" restore -o out.db "file://$T/rep" 2>/dev/null || fail "litestream restore failed"
assert_same_db app.db out.db
[ "$(sqlite3 out.db 'SELECT count(*) FROM t')" = 6000 ] || fail "row count"
echo "ok: Litestream restored our replica exactly"
