#!/bin/sh
# Logs (common/log.h): every stderr line of daemon runs is logfmt
# (tests/tools/logfmt.py), at log-level = debug with a file replica and
# two S3 replicas (one working, one whose bucket is deleted once it runs,
# so its syncs fail with NoSuchBucket; a bucket missing at start-up is
# refused before the daemon starts, see t5220) whose
# secret key and session token come from ${VAR}: neither secret, nor a
# signature, appears in any line.  With JOURNAL_STREAM set every line
# carries the journald priority of its level (<7> <6> <4> <3>) and no
# time.  log-level = warn leaves only warnings and errors (a replaced
# database file gives one), and LITESTREAM_C_LOG_LEVEL overrides the key.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
LOGFMT="$PY $ROOT/tests/tools/logfmt.py"
S3RVER="$ROOT/node_modules/.bin/s3rver"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
unset JOURNAL_STREAM LITESTREAM_C_LOG_LEVEL
export NO_PROXY=127.0.0.1
cd "$T"

free_port() {
	$PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
# run_daemon CONFIG LOG [ENV=V...]: start the daemon; sets $D.
run_daemon() {
	_c=$1 _l=$2; shift 2
	bg env "$@" "$LSC" replicate -c "$_c" 2> "$_l"; D=$BGPID
}
# stop_daemon LOG [STATUS]: SIGTERM, and the exit status must be STATUS (0).
stop_daemon() {
	kill -TERM "$D"; wait "$D"; _rc=$?
	[ $_rc = "${2:-0}" ] || fail "daemon exit $_rc, want ${2:-0}: $(tail -n 5 "$1")"
}
# The bucket of c.db: made before each daemon start, deleted once c.db has
# shipped its snapshot, so that its later syncs fail.
cbkt() {
	AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER /usr/bin/aws \
	    --endpoint-url "http://127.0.0.1:$SP" --region us-east-1 s3 "$@" >/dev/null 2>&1
}
drop_cbkt() {
	wait_for 10 grep -q "db=$T/c.db msg=\"snapshot written\"" "$1" || fail "no snapshot of c.db"
	cbkt rb s3://cbkt --force || fail "cannot delete bucket cbkt"
	rows c.db
}
rows() { sql "$1" "INSERT INTO t(v) VALUES (randomblob(3000)); INSERT INTO t(v) VALUES (randomblob(3000));"; }

for d in a b c; do
	sql "$d.db" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
done

# Distinctive secrets, so that a leak cannot hide: s3rver accepts any
# secret with --allow-mismatched-signatures (it still wants its own key id).
export LSC_T_SECRET='sEcReT/k3y+4410-do-not-log' LSC_T_TOKEN='t0k3n-4410-do-not-log'
S3=1
[ -x "$S3RVER" ] || { S3=0; note "s3 part skipped: s3rver not installed (npm ci)"; }
command -v node >/dev/null 2>&1 || { S3=0; note "s3 part skipped: node not installed"; }

{
	echo '[daemon]'
	echo 'log-level = debug'
	if [ $S3 = 1 ]; then
		SP=$(free_port)
		echo '[s3]'
		echo "endpoint = http://127.0.0.1:$SP"
		echo 'access-key-id = S3RVER'
		echo 'secret-access-key = ${LSC_T_SECRET}'
		echo 'session-token = ${LSC_T_TOKEN}'
	fi
	echo "[db \"$T/a.db\"]"
	echo "replica = file://$T/rep-a"
	echo 'sync-interval = 100ms'
	echo 'min-checkpoint-page-count = 4'
	if [ $S3 = 1 ]; then
		echo "[db \"$T/b.db\"]"
		echo 'replica = s3://bkt/b'
		echo 'sync-interval = 100ms'
		echo "[db \"$T/c.db\"]"
		echo 'replica = s3://cbkt/c'
		echo 'sync-interval = 100ms'
	fi
} > debug.ini
chmod 600 debug.ini
if [ $S3 = 1 ]; then
	mkdir -p s3
	NODE_OPTIONS=--openssl-legacy-provider bg "$S3RVER" --address 127.0.0.1 \
	    --port "$SP" --directory "$T/s3" --silent --configure-bucket bkt \
	    --configure-bucket cbkt \
	    --allow-mismatched-signatures
	wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$SP/" || fail "s3rver did not start"
fi

note "log-level = debug: every line logfmt, no secret"
run_daemon debug.ini debug.log
wait_for 10 grep -q "db=$T/a.db msg=\"snapshot written\"" debug.log || fail "no snapshot of a.db: $(cat debug.log)"
rows a.db; rows a.db; rows a.db
wait_for 10 grep -q 'msg=checkpoint mode=PASSIVE' debug.log || fail "no checkpoint line"
if [ $S3 = 1 ]; then
	wait_for 10 grep -q "db=$T/b.db msg=\"snapshot written\"" debug.log || fail "no snapshot of b.db: $(tail debug.log)"
	rows b.db
	drop_cbkt debug.log
	wait_for 10 grep -q "db=$T/c.db msg=\"sync failed (will retry)\"" debug.log || fail "no failure for c.db"
	wait_for 10 grep -q 'msg="s3 request" method=PUT url=' debug.log || fail "no s3 request line"
fi
# c.db cannot ship to a missing bucket: exit 1 when it is configured.
stop_daemon debug.log $S3
$LOGFMT debug.log || fail "debug.log is not logfmt"
for s in "$LSC_T_SECRET" "$LSC_T_TOKEN" Signature= Authorization X-Amz-Security-Token x-amz-security-token; do
	grep -F -q -- "$s" debug.log && fail "'$s' appears in the log: $(grep -F -- "$s" debug.log | head -n 2)"
done
grep -q '^time=[0-9T:.-]*Z level=debug ' debug.log || fail "no debug line"
grep -q "db=$T/a.db msg=\"wal segment written\"" debug.log || fail "no segment line"
if [ $S3 = 1 ]; then
	grep "db=$T/c.db" debug.log | grep -m1 'level=error' ||
	    fail "no error line for the missing bucket"
	grep -q 'url="http://127.0.0.1:[0-9]*/[a-z-]*?[^ ]*list-type=2' debug.log || fail "a URL with a query is not quoted"
fi
note "$(wc -l < debug.log) lines: $($LOGFMT debug.log)"

note "JOURNAL_STREAM: priority prefixes, no time"
[ $S3 = 0 ] || cbkt mb s3://cbkt || fail "cannot make bucket cbkt"
run_daemon debug.ini journal.log JOURNAL_STREAM=8:4410
wait_for 10 grep -q 'msg="litestream-c starting"' journal.log || fail "no start line"
rows a.db
wait_for 10 grep -q "<7>level=debug db=$T/a.db msg=\"wal segment written\"" journal.log ||
    fail "no <7> segment line: $(cat journal.log)"
if [ $S3 = 1 ]; then
	drop_cbkt journal.log
	wait_for 10 grep -q "^<3>level=error db=$T/c.db " journal.log || fail "no <3> line"
fi
# A replaced database file is a warning.
cp a.db a2.db && mv a2.db a.db
wait_for 10 grep -q '^<4>level=warn ' journal.log || fail "no <4> line: $(cat journal.log)"
stop_daemon journal.log $S3
$LOGFMT --journal journal.log || fail "journal.log is not prefixed logfmt"
grep -q '^<6>level=info msg="litestream-c starting" databases=' journal.log || fail "no <6> line"
grep -q 'time=' journal.log && fail "a time= key under journald"
note "$(wc -l < journal.log) lines: $($LOGFMT --journal journal.log)"

note "log-level = warn: no info or debug"
printf '[daemon]\nlog-level = warn\n[db "%s/a.db"]\nreplica = file://%s/rep-w\nsync-interval = 100ms\n' "$T" "$T" > warn.ini
run_daemon warn.ini warn.log
wait_for 10 sh -c "ls $T/rep-w/generations/*/snapshots/* >/dev/null 2>&1" || fail "no snapshot"
rows a.db
cp a.db a2.db && mv a2.db a.db
wait_for 10 grep -q 'level=warn db=.*msg="the database file was replaced or removed"' warn.log ||
    fail "no warning: $(cat warn.log)"
stop_daemon warn.log
cat warn.log
$LOGFMT warn.log || fail "warn.log is not logfmt"
grep -q -e 'level=info' -e 'level=debug' warn.log && fail "info or debug at log-level = warn"

note "LITESTREAM_C_LOG_LEVEL=debug wins over the key"
run_daemon warn.ini env.log LITESTREAM_C_LOG_LEVEL=debug
wait_for 10 grep -q 'level=debug' env.log || fail "no debug line with LITESTREAM_C_LOG_LEVEL=debug"
stop_daemon env.log
$LOGFMT env.log || fail "env.log is not logfmt"
echo "ok: every line logfmt at every level, journald prefixes, no secrets"
