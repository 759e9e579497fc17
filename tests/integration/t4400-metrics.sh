#!/bin/sh
# The Prometheus endpoint ([daemon] metrics = host:port), scraped with curl
# from a daemon replicating two databases: a.db to a file replica and b.db
# to s3rver.  Checks that every scrape is well-formed text format 0.0.4
# (tests/tools/promtext.py), that the numbers move with the writes
# (frames and bytes shipped, last sync time, passive and restart
# checkpoints, snapshots, S3 requests with code="200"), that the lag grows
# while S3 is down and returns to 0 once it is back, that counters never
# go down, that other paths are 404, that only 127.0.0.1 is bound and that
# the port refuses once the daemon has stopped.  Then: a port in use, an
# address that is not ours and a malformed address each stop the start
# with one line.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
PROM="$PY $ROOT/tests/tools/promtext.py"
S3RVER="$ROOT/node_modules/.bin/s3rver"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1
cd "$T"

free_port() {
	$PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
# Float comparisons: gt A B, lt A B.
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# scrape [FILE]: GET /metrics into FILE (default m.txt), checked as we go.
scrape() {
	_f=${1:-m.txt}
	curl -sf --max-time 5 "http://127.0.0.1:$MP/metrics" > "$_f.new" || return 1
	$PROM check "$_f.new" > /dev/null || { $PROM check "$_f.new"; cp "$_f.new" bad.txt; fail "scrape is not text format 0.0.4 (bad.txt)"; }
	mv "$_f.new" "$_f"
}
# val NAME [k=v ...]: the value in the last scrape (m.txt).
val() { $PROM get m.txt "$@"; }
# fresh NAME OP X [k=v ...]: scrape, then NAME OP X (OP: gt, lt, eq, ge).
fresh() {
	_n=$1 _op=$2 _x=$3; shift 3
	scrape || return 1
	_v=$(val "$_n" "$@") || return 1
	case $_op in
	gt) gt "$_v" "$_x" ;;
	lt) lt "$_v" "$_x" ;;
	ge) ! lt "$_v" "$_x" ;;
	eq) [ "$_v" = "$_x" ] ;;
	esac
}

S3=1
if [ ! -x "$S3RVER" ]; then S3=0; note "s3 part skipped: s3rver not installed (npm ci)"; fi
if ! command -v node >/dev/null 2>&1; then S3=0; note "s3 part skipped: node not installed"; fi
# s3rver's continuation tokens use DES, which Node 17+ only has with the
# legacy OpenSSL provider.  Same port and directory on a restart.
start_s3rver() {
	mkdir -p "$T/s3"
	NODE_OPTIONS=--openssl-legacy-provider bg "$S3RVER" --address 127.0.0.1 \
	    --port "$SP" --directory "$T/s3" --silent --configure-bucket bkt
	S3PID=$BGPID
	wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$SP/" ||
	    fail "s3rver did not start on port $SP"
}

MP=$(free_port)
A="$T/a.db" B="$T/b.db"
for d in "$A" "$B"; do
	sql "$d" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
done
# Checkpoints: PASSIVE from 8 WAL pages, RESTART from 60.
cat > c.ini <<EOF
[daemon]
metrics = 127.0.0.1:$MP
[db "$A"]
replica = file://$T/rep-a
sync-interval = 200ms
min-checkpoint-page-count = 8
max-checkpoint-page-count = 60
EOF
if [ $S3 = 1 ]; then
	SP=$(free_port)
	start_s3rver
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
	unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE
	# max-retries = 0: while S3 is down each sync fails at once (and is
	# counted) instead of waiting in back-off.
	cat >> c.ini <<EOF
[db "$B"]
replica = s3://bkt/b
endpoint = http://127.0.0.1:$SP
max-retries = 0
sync-interval = 200ms
EOF
fi
chmod 600 c.ini

note "start with metrics on 127.0.0.1:$MP"
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 10 scrape || { cat d.log; fail "no metrics on port $MP"; }
grep -q "level=info msg=\"serving metrics\" address=127.0.0.1:$MP" d.log ||
    fail "no 'serving metrics' line: $(cat d.log)"
$PROM check m.txt

note "bound to 127.0.0.1 only"
$PY - "$MP" <<'PY' || fail "the metrics socket is not bound to 127.0.0.1 only"
import sys
port = int(sys.argv[1])
found = []
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        rows = open(f).read().splitlines()[1:]
    except OSError:
        continue
    for r in rows:
        local, state = r.split()[1], r.split()[3]
        addr, p = local.split(":")
        if int(p, 16) == port and state == "0A":
            found.append(addr)
print("listening sockets on port %d: %s" % (port, found))
sys.exit(0 if found == ["0100007F"] else 1)
PY

note "content type, HEAD, 404 elsewhere, 405 for POST"
ct=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$MP/metrics")
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "content type '$ct'"
code=$(curl -s -I -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MP/metrics")
[ "$code" = 200 ] || fail "HEAD /metrics: $code"
for p in / /metric /metrics/ /metrics/x /other "/metrics%20"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MP$p")
	[ "$code" = 404 ] || fail "GET $p: HTTP $code, want 404"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 "http://127.0.0.1:$MP/metrics")
[ "$code" = 405 ] || fail "POST /metrics: HTTP $code, want 405"

note "first sync: snapshot, generation, last sync time"
wait_for 10 fresh litestream_c_snapshots_total ge 1 db="$A" || fail "no snapshot counted for a.db"
wait_for 10 fresh litestream_c_last_sync_timestamp_seconds gt 0 db="$A" || fail "no sync time"
gen=$(grep "^litestream_c_generation_info{db=\"$A\"," m.txt | sed 's/.*generation="\([0-9a-f]*\)".*/\1/')
[ ${#gen} = 16 ] || fail "no generation_info for a.db: $(grep generation_info m.txt)"
[ -d "$T/rep-a/generations/$gen" ] || fail "generation $gen is not the replica's"
[ "$(val litestream_c_databases)" = $((1 + S3)) ] || fail "databases: $(val litestream_c_databases)"
sb=$(val litestream_c_snapshot_bytes_total db="$A")
[ "$sb" -ge 4096 ] || fail "snapshot bytes $sb"
now=$(date +%s)
ls0=$(val litestream_c_last_sync_timestamp_seconds db="$A")
gt "$ls0" $((now - 30)) && lt "$ls0" $((now + 5)) || fail "last sync time $ls0 is not now ($now)"
cp m.txt m0.txt

note "writes: frames and bytes shipped grow, last sync advances, lag back to 0"
f0=$(val litestream_c_wal_frames_shipped_total db="$A")
b0=$(val litestream_c_wal_bytes_shipped_total db="$A")
s0=$(val litestream_c_wal_segments_shipped_total db="$A")
i=0; stmts=""
while [ $i -lt 10 ]; do stmts="$stmts INSERT INTO t(v) VALUES (randomblob(3000));"; i=$((i + 1)); done
sql "$A" "$stmts"
# 10 commits of a 3000-byte row each: at least a leaf page each, about
# 30 frames in all (between the PASSIVE and RESTART thresholds).
wait_for 10 fresh litestream_c_wal_frames_shipped_total ge $((f0 + 10)) db="$A" ||
    fail "frames shipped: $(val litestream_c_wal_frames_shipped_total db="$A"), want >= $((f0 + 10))"
f1=$(val litestream_c_wal_frames_shipped_total db="$A")
b1=$(val litestream_c_wal_bytes_shipped_total db="$A")
# bytes = frames * (24 + 4096), plus a 32-byte header per new WAL index
[ $((b1 - b0)) -ge $(((f1 - f0) * 4120)) ] || fail "bytes shipped grew by $((b1 - b0)) for $((f1 - f0)) frames"
[ "$(val litestream_c_wal_segments_shipped_total db="$A")" -gt "$s0" ] || fail "no segment counted"
wait_for 10 fresh litestream_c_last_sync_timestamp_seconds gt "$ls0" db="$A" || fail "last sync time did not advance"
wait_for 10 fresh litestream_c_replication_lag_seconds eq 0 db="$A" ||
    fail "lag did not return to 0: $(val litestream_c_replication_lag_seconds db="$A")"
note "a.db: frames $f0 -> $f1, bytes $b0 -> $b1"

note "checkpoints by mode: passive after 8 pages, restart after 60"
wait_for 10 fresh litestream_c_checkpoints_total ge 1 db="$A" mode=passive ||
    fail "no passive checkpoint counted: $(grep checkpoints_total m.txt)"
[ "$(val litestream_c_checkpoints_total db="$A" mode=truncate)" = 0 ] || fail "truncate counted"
sql "$A" "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO t(v) SELECT randomblob(3000) FROM n; COMMIT;"
wait_for 10 fresh litestream_c_checkpoints_total ge 1 db="$A" mode=restart ||
    fail "no restart checkpoint counted: $(grep checkpoints_total m.txt)"
wait_for 10 fresh litestream_c_replica_wal_index gt 0 db="$A" || fail "replica index did not move"
idx=$(val litestream_c_replica_wal_index db="$A") off=$(val litestream_c_replica_wal_offset_bytes db="$A")
hex=$(printf '%08x' "$idx")
[ -d "$T/rep-a/generations/$gen/wal" ] && ls "$T/rep-a/generations/$gen/wal" | grep -q "^${hex}_" ||
    fail "replica has no segment of index $hex"
note "a.db: replica at index $idx offset $off; $(grep 'checkpoints_total{db="'"$A" m.txt | tr '\n' ' ')"
[ "$(val litestream_c_sync_errors_total db="$A")" = 0 ] || fail "sync errors on a.db"

if [ $S3 = 1 ]; then
	note "s3: requests counted by operation with code=\"200\""
	wait_for 15 fresh litestream_c_snapshots_total ge 1 db="$B" || fail "no snapshot of b.db: $(cat d.log)"
	wait_for 10 fresh litestream_c_s3_requests_total gt 0 op=PutObject code=200 ||
	    fail "no PutObject code=200: $(grep s3_requests m.txt)"
	grep '^litestream_c_s3_requests_total' m.txt
	fb0=$(val litestream_c_wal_frames_shipped_total db="$B")

	note "s3 down: lag grows, sync errors and code=\"none\" counted"
	kill "$S3PID"; wait "$S3PID" 2>/dev/null
	wait_for 10 sh -c "! curl -s -o /dev/null http://127.0.0.1:$SP/" || fail "s3rver still answers"
	sql "$B" "INSERT INTO t(v) VALUES (randomblob(3000)); INSERT INTO t(v) VALUES (randomblob(3000));"
	wait_for 15 fresh litestream_c_replication_lag_seconds gt 1.0 db="$B" ||
	    fail "lag did not grow while S3 was down: $(val litestream_c_replication_lag_seconds db="$B")"
	wait_for 10 fresh litestream_c_sync_errors_total gt 0 db="$B" || fail "no sync error counted"
	val litestream_c_s3_requests_total op=PutObject code=none > /dev/null ||
	    fail "no PutObject code=none: $(grep s3_requests m.txt)"
	note "b.db lag $(val litestream_c_replication_lag_seconds db="$B") s with S3 down"
	[ "$(val litestream_c_replication_lag_seconds db="$A")" = 0 ] || fail "a.db lags too"

	note "s3 back: the lag returns to 0"
	start_s3rver
	wait_for 20 fresh litestream_c_replication_lag_seconds eq 0 db="$B" ||
	    fail "lag did not return to 0: $(val litestream_c_replication_lag_seconds db="$B")"
	[ "$(val litestream_c_wal_frames_shipped_total db="$B")" -ge $((fb0 + 2)) ] ||
	    fail "b.db frames shipped did not grow"
	grep '^litestream_c_s3_requests_total' m.txt
fi

note "counters never went down"
$PROM mono m0.txt m.txt || fail "a counter went down"

note "stop: clean exit, and the port refuses"
kill -TERM "$D"; wait "$D"; rc=$?
[ $rc = 0 ] || fail "daemon exit $rc: $(tail -n 5 d.log)"
curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$MP/metrics"; rc=$?
[ $rc = 7 ] || fail "curl after stop: exit $rc, want 7 (connection refused)"

note "port in use: one line, exit 1"
# SO_REUSEADDR: our scrapes left the port's closed connections in TIME_WAIT.
$PY -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close(); time.sleep(60)' "$MP" held &
HOLD=$!; LSC_PIDS="$LSC_PIDS $HOLD"
wait_for 10 test -e held || fail "could not hold port $MP"
timeout 20 "$LSC" replicate -c c.ini > out.txt 2> err.txt; rc=$?
kill "$HOLD" 2>/dev/null
cat err.txt
[ $rc = 1 ] || fail "exit $rc with the port in use, want 1"
[ "$(wc -l < err.txt)" = 1 ] || fail "want one line on stderr"
grep -q "metrics: cannot listen on '127.0.0.1:$MP': Address already in use" err.txt ||
    fail "message does not name the address and cause"
[ -s out.txt ] && fail "stdout not empty"

note "an address that is not ours: one line, exit 1"
sed "s/^metrics = .*/metrics = 192.0.2.1:$MP/" c.ini > c2.ini; chmod 600 c2.ini
timeout 20 "$LSC" replicate -c c2.ini 2> err.txt; rc=$?
cat err.txt
[ $rc = 1 ] && [ "$(wc -l < err.txt)" = 1 ] || fail "exit $rc, $(wc -l < err.txt) lines"
grep -q "cannot listen on '192.0.2.1:$MP': Cannot assign requested address" err.txt || fail "message"

note "a malformed address: FILE:LINE, exit 2"
sed "s/^metrics = .*/metrics = $MP/" c.ini > c3.ini; chmod 600 c3.ini
timeout 20 "$LSC" replicate -c c3.ini 2> err.txt; rc=$?
cat err.txt
[ $rc = 2 ] && [ "$(wc -l < err.txt)" = 1 ] || fail "exit $rc, $(wc -l < err.txt) lines"
grep -q "c3.ini:2: metrics: '$MP' must be host:port" err.txt || fail "message"
echo "ok: metrics scraped and moving; address errors are one line"
