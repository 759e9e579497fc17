#!/bin/sh
# Faults while the daemon replicates to S3 (s3rver behind s3proxy.py):
# a SlowDown storm (503 on every request), 500 InternalErrors, connection
# resets in the middle of request bodies (segment PUTs and the UploadParts
# of multipart snapshots).  A walwriter commits all along, the daemon takes
# a multipart snapshot every few seconds, and it must keep going (its S3
# retries have no limit), exit 0 on SIGTERM with everything shipped, and
# leave nothing behind: no open multipart upload, and a restore (itself
# through GET resets and 503s) identical to the source.  Last, SIGTERM
# during 503s: the final sync retries (bounded) and ships everything.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
cd "$T"
s3_start
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_REGION
cat > c.ini <<EOF
[s3]
endpoint = $EP
region = us-east-1
path-style = true
part-size = 5MiB

[db "$T/app.db"]
replica = s3://bkt/faults
sync-interval = 200ms
snapshot-interval = 3s
min-checkpoint-page-count = 200
EOF

note "an 11 MiB database (3 parts per snapshot), a writer, the daemon"
sql app.db "PRAGMA journal_mode=wal;
CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 44)
INSERT INTO big(b) SELECT randomblob(262144) FROM c;" >/dev/null
"$WALWRITER" app.db --count 1 >/dev/null || fail "walwriter could not create its table"
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 30 grep -q "snapshot written" d.log || { cat d.log; fail "no first snapshot"; }
bg "$WALWRITER" app.db --rate 100 --duration 240 --stop-file "$T/stop" \
    --checkpoint-every 500 --checkpoint-mode passive; W=$BGPID

alive() { kill -0 "$D" 2>/dev/null || { tail d.log; fail "the daemon exited during $1"; }; }
# fault_phase NAME N PY-EXPR JSON: apply the rules, wait until N requests
# matching PY-EXPR were hit, then until a PUT succeeds again.
fault_phase() {
	note "$1"
	_m=$(mark)
	faults "$4"
	wait_for 120 at_least "$2" "$_m" "$3" || { tail d.log; fail "$1: faults not hit"; }
	alive "$1"
	faults '[]'
	_m=$(mark)
	wait_for 60 at_least 1 "$_m" 'r["method"]=="PUT" and r["status"]==200' ||
	    fail "$1: no successful upload after the faults"
	alive "$1"
}

fault_phase "SlowDown storm: 8 requests in a row answered 503" 8 'r["status"]==503' \
    '[{"action":"status","status":503,"code":"SlowDown","times":8}]'
fault_phase "500 InternalError on 5 PUTs" 5 'r["status"]==500' \
    '[{"method":"PUT","action":"status","status":500,"code":"InternalError","skip":1,"times":5}]'
fault_phase "connection reset mid-body: 3 segment PUTs" 3 'r["status"]=="rst"' \
    '[{"method":"PUT","query":"^$","action":"reset_request","times":3}]'
fault_phase "connection reset mid-body: 2 UploadParts of a snapshot" 2 \
    'r["status"]=="rst" and "partNumber=" in r["query"]' \
    '[{"method":"PUT","query":"partNumber=","action":"reset_request","times":2}]'
fault_phase "SlowDown on UploadPart and CompleteMultipartUpload" 4 'r["status"]==503' \
    '[{"method":"PUT","query":"partNumber=","action":"status","status":503,"code":"SlowDown","times":2},
      {"method":"POST","query":"uploadId=","action":"status","status":503,"code":"SlowDown","times":2}]'

note "stop the writer, then the daemon"
touch stop
wait "$W" || fail "walwriter failed"
m=$(mark)
wait_for 30 at_least 1 "$m" 'r["method"]=="PUT" and r["status"]==200' || fail "daemon idle"
stop_daemon "$D" d.log
grep -c "snapshot written" d.log | sed 's/^/snapshots: /'
$PY - "$T/requests.log" <<'EOF'
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
c = collections.Counter(str(r.get("status")) for r in rows)
print("requests by status:", dict(sorted(c.items())))
EOF
grep -E "level=(error|warn)" d.log | head -n 5
"$WALWRITER" app.db --verify || fail "source fails --verify"

note "no multipart upload left open"
ls "$T/s3/bkt" > /dev/null || fail "no bucket directory"
open_uploads=$(find "$T/s3" -path '*uploads*' -type f 2>/dev/null | wc -l)
[ "$open_uploads" = 0 ] || { find "$T/s3" -path '*uploads*' | head; fail "$open_uploads upload files left"; }

note "restore through GET resets and 503s: identical"
faults '[{"method":"GET","path":"/snapshots/","action":"reset_response","bytes":1000000,"times":2},
  {"method":"GET","path":"/wal/","action":"status","status":503,"code":"SlowDown","times":3}]'
m=$(mark)
"$LSC" restore -c c.ini -o out.db "$T/app.db" 2> r.log || { cat r.log; fail "restore failed"; }
[ "$(count_since "$m" 'r["status"]=="rst" or r["status"]==503 or r.get("action")=="reset_response"')" -ge 3 ] ||
    fail "the restore's faults were not hit"
assert_same_db app.db out.db
"$WALWRITER" out.db --verify || fail "restored database fails --verify"

note "SIGTERM while S3 answers 503: the final sync retries and completes"
# A long sync interval leaves the last commits to the final sync.
sed 's/^sync-interval = .*/sync-interval = 30s/' c.ini > c2.ini
# The checks above closed the last connection (a checkpoint), so this run
# may start a new generation: keep it apart in time from the last one.
past_last_request
bg "$LSC" replicate -c c2.ini 2> d2.log; D=$BGPID
wait_for 20 grep -q "msg=replicating" d2.log || { cat d2.log; fail "did not start"; }
"$WALWRITER" app.db --count 50 >/dev/null || fail "walwriter failed"
faults '[{"method":"PUT","action":"status","status":503,"code":"SlowDown","times":3}]'
m=$(mark)
stop_daemon "$D" d2.log
faults '[]'
[ "$(count_since "$m" 'r["status"]==503')" = 3 ] || fail "the final sync met no 503"
[ "$(count_since "$m" 'r["method"]=="PUT" and r["status"]==200')" -ge 1 ] ||
    fail "the final sync uploaded nothing"
"$LSC" restore -c c.ini -o out2.db "$T/app.db" 2> r.log || { cat r.log; fail "restore failed"; }
assert_same_db app.db out2.db
echo "ok: $(sqlite3 app.db 'SELECT count(*) FROM t') rows"
