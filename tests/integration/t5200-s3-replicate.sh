#!/bin/sh
# The daemon replicates to S3: s3rver 3.7.1 behind tests/tools/s3proxy.py
# (every request logged), an [s3] section with endpoint, region,
# path-style, ${VAR} credentials and part-size = 5MiB.
#  1. A 40 MiB database of random bytes: the first snapshot is a multipart
#     upload of more than three parts; the daemon's peak RSS (VmHWM) is
#     reported and must stay well under the database's size.
#  2. A walwriter commits (and checkpoints PASSIVE now and then) while the
#     daemon ships and checkpoints; SIGTERM; a restart at debug level
#     resumes the generation; more commits; SIGTERM.
#  3. Restores from the config, from an s3:// URL with credentials from the
#     environment, and by Litestream v0.3.13 are identical to the source.
#  4. The request log shows LIST only at start-up (never once the daemon
#     runs), and the secret is in no output, log or request log line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
cd "$T"
# Litestream's listing of generations needs delimiter listings that s3rver
# gets wrong (see s3proxy.py --emulate-delimiter).
s3_start --emulate-delimiter

# s3rver knows only the key id S3RVER and does not check SigV4 signatures,
# so a distinctive secret lets us grep every output for leaks.  The config
# reads them from variables of its own, so the environment fallback
# (AWS_*) cannot be what makes it work.
SECRET="sEcReT-$$-$(date +%s)-do-not-log"
export LSC_T_KEY=S3RVER LSC_T_SECRET="$SECRET"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION

cat > c.ini <<EOF
[s3]
endpoint = $EP
region = us-east-1
path-style = true
access-key-id = \${LSC_T_KEY}
secret-access-key = \${LSC_T_SECRET}
part-size = 5MiB

[db "$T/app.db"]
replica = s3://bkt/app/prod
sync-interval = 250ms
min-checkpoint-page-count = 100
EOF
chmod 600 c.ini

note "a 40 MiB database of random bytes"
sql app.db "PRAGMA journal_mode=wal;
CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 160)
INSERT INTO big(b) SELECT randomblob(262144) FROM c;" >/dev/null
"$WALWRITER" app.db --count 1 >/dev/null || fail "walwriter could not create its table"
dbsize=$(stat -c %s app.db)
echo "database: $dbsize bytes"
[ "$dbsize" -gt $((40 * 1024 * 1024)) ] || fail "database smaller than 40 MiB"

note "run 1: multipart snapshot, concurrent writer, daemon checkpoints"
m0=$(mark)
bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
bg "$WALWRITER" app.db --rate 150 --duration 8 --row-size 300 \
    --checkpoint-every 400 --checkpoint-mode passive; W=$BGPID
wait_for 60 grep -q "snapshot written" d1.log || { cat d1.log; fail "no snapshot"; }
# From here on the daemon is in its steady state.
msteady=$(mark)
grep "snapshot written" d1.log
wait $W || fail "walwriter failed"
hwm=$(vmhwm "$D")
stop_daemon "$D" d1.log
m1=$(mark)
snapkey=$($PY - "$T/requests.log" "$m0" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
print([r["path"] for r in rows if "/snapshots/" in r["path"]][0])
EOF
)
parts=$(count_since "$m0" "r['method']=='PUT' and 'partNumber=' in r['query'] and r['path']=='$snapkey'")
echo "snapshot $snapkey: $parts parts of 5 MiB"
[ "$parts" -ge 4 ] || fail "the snapshot was not a multipart upload of more than 3 parts"
echo "daemon peak RSS (VmHWM): $hwm KiB for a $((dbsize / 1048576)) MiB snapshot in 5 MiB parts"
# One 5 MiB part buffered, plus the LZ4 and read buffers, SQLite, curl and
# OpenSSL: about 27 MiB measured, below the 40 MiB database it streamed.
# (An ASan build keeps freed memory in quarantine: report only.)
if ldd "$LSC" 2>/dev/null | grep -q libasan; then
	note "sanitizer build: peak RSS not bounded"
else
	[ "$hwm" -lt 36864 ] || fail "peak RSS $hwm KiB: the snapshot was not streamed"
fi
[ "$(count_since "$msteady" "$IS_LIST")" = 0 ] || fail "LIST in steady state (run 1)"
# The start-up check is the only listing of a new generation.
[ "$(count_since "$m0" "$IS_LIST")" -le 1 ] || fail "run 1 listed more than once"
[ "$(count_since "$m0" "r['method']=='PUT' and '/wal/' in r['path']")" -gt 10 ] ||
    fail "too few WAL segments shipped"

note "run 2 at debug level: resume the generation, more commits, SIGTERM"
m2=$(mark)
LITESTREAM_C_LOG_LEVEL=debug bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
wait_for 20 grep -q "resumed generation" d2.log || { cat d2.log; fail "did not resume"; }
wait_for 20 grep -q "msg=replicating" d2.log || fail "not replicating"
"$WALWRITER" app.db --rate 200 --count 300 --checkpoint-every 150 \
    --checkpoint-mode passive >/dev/null || fail "walwriter failed"
# Give the daemon one sync interval in its steady state, then stop it.
wait_for 20 grep -q "msg=checkpoint" d2.log || fail "no checkpoint by the daemon"
stop_daemon "$D" d2.log
grep -c "msg=checkpoint" d2.log | sed 's/^/daemon checkpoints (run 2): /'
nlist2=$(count_since "$m2" "$IS_LIST")
echo "LIST requests: run 1 $(count_since "$m0" "$IS_LIST" "$m1"), run 2 $nlist2 (none after the first upload)"
# Resuming lists the generation once to find the replica position.
[ "$nlist2" -le 2 ] || fail "run 2 listed $nlist2 times"
$PY - "$T/requests.log" "$m2" <<'EOF' || fail "a LIST after the first upload of run 2"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
first_put = next(i for i, r in enumerate(rows) if r["method"] == "PUT")
lists = [i for i, r in enumerate(rows)
         if r["method"] == "GET" and r["path"].strip("/").count("/") == 0]
sys.exit(1 if any(i > first_put for i in lists) else 0)
EOF
"$WALWRITER" app.db --verify || fail "source database fails --verify"

note "restore from the config"
"$LSC" restore -c c.ini -o out1.db "$T/app.db" 2> r1.log || { cat r1.log; fail "restore -c failed"; }
assert_same_db app.db out1.db

note "restore from a URL, credentials from the environment"
(
	unset LSC_T_KEY LSC_T_SECRET
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY="$SECRET"
	"$LSC" restore -o out2.db "s3://bkt/app/prod?endpoint=$EP&region=us-east-1"
) 2> r2.log || { cat r2.log; fail "restore from URL failed"; }
assert_same_db app.db out2.db
"$WALWRITER" out2.db --verify || fail "restored database fails --verify"

note "Litestream v0.3.13 restores our S3 replica"
if [ -x "$LITESTREAM" ]; then
	cat > litestream.yml <<EOF
dbs:
  - path: $T/app.db
    replicas:
      - type: s3
        bucket: bkt
        path: app/prod
        endpoint: $EP
        region: us-east-1
        force-path-style: true
        access-key-id: S3RVER
        secret-access-key: \${LSC_T_SECRET}
EOF
	"$LITESTREAM" restore -config litestream.yml -o out3.db "$T/app.db" > r3.log 2>&1 ||
	    { cat r3.log; fail "Litestream could not restore our replica"; }
	assert_same_db app.db out3.db
else
	note "Litestream v0.3.13 not installed: interop step not run"
fi

note "no secret anywhere; no Authorization header in the debug log"
grep -c "s3 request" d2.log | sed 's/^/debug lines naming requests: /'
[ "$(grep -c "s3 request" d2.log)" -gt 0 ] || fail "debug log has no request lines"
for f in d1.log d2.log r1.log r2.log r3.log requests.log; do
	[ -f "$f" ] || continue
	grep -q -- "$SECRET" "$f" && fail "the secret is in $f"
	grep -q -i -E "Signature=|Credential=|Authorization:" "$f" && fail "signing data in $f"
done
echo "ok: $(sqlite3 app.db 'SELECT count(*) FROM t') rows, restores identical"
