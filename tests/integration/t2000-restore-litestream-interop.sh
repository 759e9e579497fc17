#!/bin/sh
# Interop: Litestream v0.3.13 writes a file replica (several WAL indexes
# through its own checkpoints, a DELETE and a VACUUM that shrinks the
# database); we restore it latest, at recorded timestamps and at an index,
# byte-identical to Litestream's own restore where both apply, and our
# listings match `litestream generations/snapshots/wal`.  Finally
# Litestream replicates from our output, which must work like any
# database it made itself.
. "$(dirname "$0")/lib.sh"
[ -x "$LITESTREAM" ] || skip "litestream binary not installed (npm ci)"
command -v sqlite3 >/dev/null || skip "sqlite3 CLI missing"

DB=$T/app.db
REP=$T/replica
URL=file://$REP

cat > "$T/ls.yml" <<EOY
dbs:
  - path: $DB
    monitor-interval: 100ms
    checkpoint-interval: 1s
    min-checkpoint-page-count: 20
    replicas:
      - url: $URL
        sync-interval: 100ms
EOY

sql "$DB" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, b INTEGER, v TEXT);" >/dev/null
bg "$LITESTREAM" replicate -config "$T/ls.yml" >"$T/ls.log" 2>&1
LSPID=$BGPID
has_snapshot() { ls "$REP"/generations/*/snapshots/*.snapshot.lz4; }
wait_for 30 has_snapshot || fail "litestream made no snapshot"

fingerprint() { sqlite3 "$1" "SELECT count(*) || ':' || total(b) || ':' || total(length(v)) FROM t"; }

# restored_is FP: our restore of the replica now has fingerprint FP.
restored_is() {
	rm -f "$T/probe.db"
	"$LSC" restore -o "$T/probe.db" "$URL" 2>/dev/null || return 1
	[ "$(fingerprint "$T/probe.db")" = "$1" ]
}

BATCHES=8
k=1
while [ $k -le $BATCHES ]; do
	sql "$DB" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<80)
	    INSERT INTO t(b, v) SELECT $k, hex(randomblob(200 + x)) FROM c;"
	case $k in
	4) sql "$DB" "DELETE FROM t WHERE b IN (1, 2); UPDATE t SET v = 'x' WHERE b = 3;" ;;
	6) sql "$DB" "DELETE FROM t WHERE b = 5; VACUUM;" ;;
	esac
	fp=$(fingerprint "$DB")
	wait_for 30 restored_is "$fp" || fail "batch $k never reached the replica"
	date -u +%Y-%m-%dT%H:%M:%S.%NZ > "$T/ts.$k"
	db_dump "$DB" > "$T/state.$k"
	# File mtimes come from a coarse clock (a few ms behind): keep the
	# next batch's objects clearly after the recorded time.
	sleep 0.05
	k=$((k + 1))
done
kill -TERM "$LSPID"
wait "$LSPID" || fail "litestream exited with $?"

nidx=$(ls "$REP"/generations/*/wal | sed 's/_.*//' | sort -u | wc -l)
note "replica has $nidx WAL indexes"
[ "$nidx" -ge 3 ] || fail "expected several WAL indexes, got $nidx"

note "latest"
"$LSC" restore -o "$T/ours.db" "$URL" || fail "restore failed"
assert_same_db "$DB" "$T/ours.db"
[ "$(ls -a "$T" | grep -c '^ours\.db')" = 1 ] || { ls -la "$T"; fail "leftover files beside the output"; }
"$LITESTREAM" restore -o "$T/theirs.db" "$URL" 2>/dev/null || fail "litestream restore failed"
cmp "$T/ours.db" "$T/theirs.db" || fail "our restore differs from Litestream's"

note "timestamps"
k=1
while [ $k -le $BATCHES ]; do
	ts=$(cat "$T/ts.$k")
	rm -f "$T/ts.db"
	"$LSC" restore --timestamp "$ts" -o "$T/ts.db" "$URL" || fail "restore at $ts failed"
	db_dump "$T/ts.db" > "$T/got.$k"
	cmp -s "$T/state.$k" "$T/got.$k" || { diff "$T/state.$k" "$T/got.$k" | head; fail "restore at $ts (batch $k) differs"; }
	[ "$(sqlite3 "$T/ts.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity at $ts"
	k=$((k + 1))
done

note "index"
gen=$(ls "$REP/generations")
maxidx=$(ls "$REP/generations/$gen/wal" | sed 's/_.*//' | sort -u | tail -n 1)
mid=$(printf '%x' $(( 0x$maxidx / 2 )))
"$LSC" restore --index "$mid" -o "$T/idx.db" "$URL" || fail "restore --index $mid failed"
"$LITESTREAM" restore -index "$mid" -o "$T/lsidx.db" "$URL" 2>/dev/null || fail "litestream -index failed"
cmp "$T/idx.db" "$T/lsidx.db" || fail "--index $mid differs from Litestream's"
"$LSC" restore --index "$mid" --generation "$gen" -o "$T/idx2.db" "$URL" || fail "restore --index --generation"
cmp "$T/idx.db" "$T/idx2.db" || fail "--generation changed the --index result"

note "listings"
for c in snapshots wal; do
	"$LSC" $c "$URL" > "$T/ours.$c" || fail "our $c failed"
	"$LITESTREAM" $c "$URL" > "$T/theirs.$c" 2>/dev/null || fail "litestream $c failed"
	cmp -s "$T/ours.$c" "$T/theirs.$c" || { diff "$T/theirs.$c" "$T/ours.$c" | head; fail "$c listing differs"; }
done
"$LSC" generations "$URL" | awk '{print $1, $2, $4, $5}' > "$T/ours.gen"
"$LITESTREAM" generations "$URL" 2>/dev/null | awk '{print $1, $2, $4, $5}' > "$T/theirs.gen"
cmp -s "$T/ours.gen" "$T/theirs.gen" || { diff "$T/theirs.gen" "$T/ours.gen"; fail "generations listing differs"; }
"$LSC" wal --json "$URL" | /usr/bin/python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert rows and all({"replica","generation","index","offset","size","created"} <= set(r) for r in rows)
' || fail "wal --json is not the expected JSON"

note "DB_PATH with a config"
printf '[db "%s"]\nreplica = %s\n' "$DB" "$URL" > "$T/lsc.ini"
"$LSC" restore -c "$T/lsc.ini" "$DB" 2>"$T/err" && fail "restore over the live database succeeded"
grep -q "already exists" "$T/err" || fail "no 'already exists' message: $(cat "$T/err")"
"$LSC" restore -c "$T/lsc.ini" -o "$T/cfg.db" "$DB" || fail "config restore failed"
cmp "$T/ours.db" "$T/cfg.db" || fail "config restore differs"
LITESTREAM_C_CONFIG=$T/lsc.ini "$LSC" generations "$DB" | grep -q "$gen" || fail "generations via env config"
"$LSC" databases -c "$T/lsc.ini" | grep -q "^$DB  *file$" || fail "databases listing"

note "Litestream replicates from our output"
cat > "$T/ls2.yml" <<EOY
dbs:
  - path: $T/ours.db
    monitor-interval: 100ms
    replicas:
      - url: file://$T/replica2
        sync-interval: 100ms
EOY
bg "$LITESTREAM" replicate -config "$T/ls2.yml" >"$T/ls2.log" 2>&1
LSPID=$BGPID
has_snapshot2() { ls "$T"/replica2/generations/*/snapshots/*.snapshot.lz4; }
wait_for 30 has_snapshot2 || fail "litestream could not snapshot our output"
sql "$T/ours.db" "INSERT INTO t(b, v) VALUES (99, 'after restore');"
fp=$(fingerprint "$T/ours.db")
restored2_is() {
	rm -f "$T/probe2.db"
	"$LITESTREAM" restore -o "$T/probe2.db" "file://$T/replica2" 2>/dev/null || return 1
	[ "$(fingerprint "$T/probe2.db")" = "$1" ]
}
wait_for 30 restored2_is "$fp" || fail "litestream did not replicate our output"
kill -TERM "$LSPID"
wait "$LSPID" || fail "second litestream exited with $?"
echo "ok"
