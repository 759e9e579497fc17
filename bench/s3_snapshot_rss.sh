#!/bin/sh
# Peak memory of a multipart snapshot to S3, and of the restore.
#
#   bench/s3_snapshot_rss.sh [SIZE_MB...]        (default: 1 100 1024)
#
# For each size a fresh database of random (incompressible) 256 KiB blobs
# is replicated by the daemon to s3rver 3.7.1 on a free 127.0.0.1 port,
# with the default part size (8 MiB).  The daemon's first snapshot is then
# one multipart upload of about SIZE_MB / 8 parts.  Reported per size:
#   parts          UploadPart requests counted by s3proxy.py
#   snap_s         daemon start to "snapshot written" (includes the
#                  start-up check and the first WAL segment)
#   daemon_kib     the daemon's VmHWM (peak RSS, /proc/PID/status) after
#                  the snapshot
#   restore_s      wall time of `restore -c` (download, decompress, apply,
#                  integrity_check)
#   restore_kib    the restore's peak RSS (getrusage of the child)
# The 1 MB run shows the fixed cost (SQLite, libcurl, OpenSSL, buffers).
# Each restore is checked: integrity_check ok, same row count and bytes.
# Data lives under a temp dir in /tmp (about 3x the largest size at peak:
# the database, s3rver's copy and its parts, the restored copy), removed
# at the end.  A measurement to run by hand, not a test.
set -eu
SIZES=${*:-1 100 1024}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
S3RVER=$ROOT/node_modules/.bin/s3rver
PROXY=$ROOT/tests/tools/s3proxy.py
PY=/usr/bin/python3
[ -x "$LSC" ] || { echo "run: make" >&2; exit 2; }
[ -x "$S3RVER" ] || { echo "run: npm ci (s3rver)" >&2; exit 2; }
W=$(mktemp -d /tmp/lsc-bench-s3.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1

free_port() {
	$PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
# until SECONDS CMD...: poll CMD every 0.1 s; 1 on timeout.
until_ok() {
	_end=$(( $(date +%s) + $1 )); shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

PORT=$(free_port)
mkdir -p "$W/s3"
NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" --address 127.0.0.1 --port "$PORT" \
    --directory "$W/s3" --silent --configure-bucket bkt > "$W/s3rver.log" 2>&1 &
PIDS="$PIDS $!"
until_ok 30 curl -s -o /dev/null "http://127.0.0.1:$PORT/" || { echo "s3rver did not start" >&2; exit 1; }
echo "[]" > "$W/faults.json"
: > "$W/requests.log"
$PY "$PROXY" --upstream "127.0.0.1:$PORT" --port-file "$W/proxy.port" \
    --log "$W/requests.log" --faults "$W/faults.json" &
PIDS="$PIDS $!"
until_ok 30 test -s "$W/proxy.port" || { echo "s3proxy did not start" >&2; exit 1; }
EP="http://127.0.0.1:$(cat "$W/proxy.port")"

echo "litestream-c $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), part-size 8 MiB (default), s3rver through s3proxy.py"
printf '%8s %6s %8s %11s %10s %12s\n' size_mb parts snap_s daemon_kib restore_s restore_kib
for mb in $SIZES; do
	d=$W/db$mb
	mkdir -p "$d"
	rows=$(( mb * 4 ))
	sqlite3 "$d/app.db" "PRAGMA journal_mode=wal;
	    CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB);
	    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $rows)
	    INSERT INTO big(b) SELECT randomblob(262144) FROM c;" >/dev/null
	printf '[s3]\nendpoint = %s\nregion = us-east-1\npath-style = true\n\n[db "%s"]\nreplica = s3://bkt/b%s\nsync-interval = 1s\n' \
	    "$EP" "$d/app.db" "$mb" > "$d/c.ini"
	m=$(wc -l < "$W/requests.log")
	t0=$(now_ms)
	"$LSC" replicate -c "$d/c.ini" 2> "$d/d.log" &
	D=$!
	PIDS="$PIDS $D"
	until_ok 3600 grep -q "snapshot written" "$d/d.log" || { cat "$d/d.log" >&2; exit 1; }
	t1=$(now_ms)
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$D/status")
	kill -TERM "$D"; wait "$D" || { echo "daemon exit $?" >&2; exit 1; }
	parts=$(tail -n +"$((m + 1))" "$W/requests.log" | grep -c '"partNumber=' || :)
	# getrusage of the child: its peak RSS in KiB, and the wall time.
	res=$($PY - "$LSC" restore -c "$d/c.ini" -o "$d/out.db" "$d/app.db" <<'EOF'
import resource, subprocess, sys, time
t = time.time()
rc = subprocess.call(sys.argv[1:], stderr=subprocess.DEVNULL)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
      "%.1f" % (time.time() - t))
EOF
)
	set -- $res
	[ "$1" = 0 ] || { echo "restore of $mb MB failed" >&2; exit 1; }
	[ "$(sqlite3 "$d/out.db" 'PRAGMA integrity_check')" = ok ] || { echo "integrity" >&2; exit 1; }
	q="SELECT count(*), sum(length(b)) FROM big"
	[ "$(sqlite3 "$d/out.db" "$q")" = "$(sqlite3 "$d/app.db" "$q")" ] ||
	    { echo "restored content differs ($mb MB)" >&2; exit 1; }
	printf '%8s %6s %8s %11s %10s %12s\n' "$mb" "$parts" \
	    "$(echo "$t0 $t1" | awk '{printf "%.1f", ($2 - $1) / 1000}')" "$hwm" "$3" "$2"
	rm -rf "$d"
	rm -rf "$W/s3/bkt/b$mb"
done
