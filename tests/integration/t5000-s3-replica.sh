#!/bin/sh
# S3 replica end to end against s3rver 3.7.1: put (small, and multipart of
# more than 3 parts at 5 MiB with peak RSS reported), streamed get,
# listing of more than 1000 objects (pagination), deletes of more than 1000
# keys (batches), then awscli lists and downloads what we wrote and we
# download what awscli wrote, byte for byte.
. "$(dirname "$0")/lib.sh"

LIVE="$BUILD/tests/test_replica_s3_live"
S3RVER="$ROOT/node_modules/.bin/s3rver"
PY=/usr/bin/python3
[ -x "$LIVE" ] || skip "$LIVE not built"
[ -x "$S3RVER" ] || skip "s3rver not installed (npm ci)"
command -v node >/dev/null 2>&1 || skip "node not installed"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export NO_PROXY=127.0.0.1

free_port() {
	$PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
# s3rver's continuation tokens use DES, which Node 17+ only has with the
# legacy OpenSSL provider.
start_s3rver() {
	PORT=$(free_port)
	mkdir -p "$T/s3"
	NODE_OPTIONS=--openssl-legacy-provider bg "$S3RVER" --address 127.0.0.1 \
	    --port "$PORT" --directory "$T/s3" --silent --configure-bucket bkt
	wait_for 20 curl -s -o /dev/null "http://127.0.0.1:$PORT/" ||
	    fail "s3rver did not start on port $PORT"
}

start_s3rver
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_PROFILE
EP="http://127.0.0.1:$PORT"

note "replica suite (prefix with stray slashes)"
S3_TEST_URL="s3://bkt//suite//p/?endpoint=$EP" "$LIVE" > "$T/suite.out" 2>&1
cat "$T/suite.out"
tail -n1 "$T/suite.out" | grep -q '^[0-9]* passed, 0 failed' || fail "suite failed"
tail -n1 "$T/suite.out" | grep -q '^0 passed' && fail "suite ran nothing"

export S3_TEST_URL="s3://bkt/big?endpoint=$EP" S3_TEST_PART_SIZE=5242880
note "multipart: 64 MiB streamed in 5 MiB parts (13 parts)"
out=$("$LIVE" put db/snapshot 67108864 42) || fail "multipart put failed: $out"
echo "$out"
rss=$(echo "$out" | sed -n 's/.*rss_kb=\([0-9]*\).*/\1/p')
base=$(echo "$out" | sed -n 's/.*start_kb=\([0-9]*\).*/\1/p')
echo "peak RSS ${rss} KiB (start ${base} KiB, growth $((rss - base)) KiB for a 64 MiB object)"
# About one part buffered (5 MiB) plus libcurl; never the object.  (An
# ASan build keeps freed memory in quarantine: report only.)
if ldd "$LIVE" 2>/dev/null | grep -q libasan; then
	note "sanitizer build: RSS growth not bounded"
else
	[ $((rss - base)) -lt 16384 ] || fail "multipart put used $((rss - base)) KiB"
fi
"$LIVE" get db/snapshot 67108864 42 || fail "multipart get differs"

note "awscli sees what we wrote"
head -c 7340033 /dev/urandom > "$T/blob"
"$LIVE" putfile db/blob "$T/blob" || fail "putfile"
aws_() { /usr/bin/aws --endpoint-url "$EP" --region us-east-1 "$@"; }
aws_ s3api list-objects-v2 --bucket bkt --prefix big/ \
    --query 'Contents[].[Key,Size]' --output text > "$T/aws.list" || fail "aws list"
cat "$T/aws.list"
grep -q "^big/db/blob	7340033$" "$T/aws.list" || fail "aws does not list big/db/blob"
grep -q "^big/db/snapshot	67108864$" "$T/aws.list" || fail "aws does not list big/db/snapshot"
aws_ s3api get-object --bucket bkt --key big/db/blob "$T/blob.aws" >/dev/null ||
    fail "aws get-object"
cmp "$T/blob" "$T/blob.aws" || fail "aws downloaded different bytes"

note "we read what awscli wrote"
head -c 100000 /dev/urandom > "$T/fromaws"
aws_ s3api put-object --bucket bkt --key "big/db/from aws+x" --body "$T/fromaws" >/dev/null ||
    fail "aws put-object"
"$LIVE" getfile "db/from aws+x" "$T/fromaws.got" || fail "getfile"
cmp "$T/fromaws" "$T/fromaws.got" || fail "we downloaded different bytes"

note "list and delete more than 1000 keys in batches"
"$LIVE" mkmany seg/ 1500 || fail "mkmany"
n=$("$LIVE" list seg/ | head -n1)
[ "$n" = "1500 objects" ] || fail "listed '$n', want 1500 objects"
aws_ s3api list-objects-v2 --bucket bkt --prefix big/seg/ --query 'length(Contents)' \
    > "$T/awsn" || fail "aws list"
[ "$(cat "$T/awsn")" = 1500 ] || fail "aws counts $(cat "$T/awsn")"
"$LIVE" delprefix seg/ | grep -q "deleted 1500" || fail "delete"
n=$("$LIVE" list seg/ | head -n1)
[ "$n" = "0 objects" ] || fail "after delete: $n"
"$LIVE" list "" | head -n1
echo "ok"
