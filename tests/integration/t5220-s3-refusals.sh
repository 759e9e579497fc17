#!/bin/sh
# Refusals that no retry can cure, at `replicate` start-up and in `restore`:
# wrong secret (the proxy answers 403 SignatureDoesNotMatch; s3rver does not
# check SigV4 signatures), unknown key id (s3rver's own 403
# InvalidAccessKeyId), missing bucket (s3rver's own 404 NoSuchBucket),
# clock skew (403 RequestTimeTooSkewed with RequestTime/ServerTime 20
# minutes apart), wrong region (400 AuthorizationHeaderMalformed naming
# the Region, and 301 with x-amz-bucket-region).  Each gives one line that
# says what to fix, a non-zero exit within seconds, and exactly one request
# (no retry storm).  A store that is only down at start-up (503) is not a
# refusal: the daemon warns, keeps running and replicates once it is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
cd "$T"
s3_start
SECRET="sEcReT-$$-$(date +%s)-do-not-log"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY="$SECRET"
unset AWS_REGION

# mkcfg FILE BUCKET: a config replicating app.db to s3://BUCKET/app.
mkcfg() {
	cat > "$1" <<EOF
[s3]
endpoint = $EP
region = us-east-1
path-style = true

[db "$T/app.db"]
replica = s3://$2/app
sync-interval = 200ms
EOF
}
mkcfg good.ini bkt
mkcfg nobucket.ini nobucket
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(x); INSERT INTO t VALUES (1);" >/dev/null

note "a replica to restore from"
bg "$LSC" replicate -c good.ini 2> d0.log; D=$BGPID
wait_for 20 grep -q "snapshot written" d0.log || { cat d0.log; fail "no snapshot"; }
stop_daemon "$D" d0.log

# refused NAME CONFIG EXPECTED-REGEX...: replicate and restore must each fail
# fast with one line matching every regex, after exactly one request.
refused() {
	_name=$1 _cfg=$2; shift 2
	for _cmd in replicate restore; do
		_m=$(mark)
		_t0=$(date +%s)
		rm -f out.db
		if [ "$_cmd" = replicate ]; then
			timeout 60 "$LSC" replicate -c "$_cfg" > out.txt 2> err.txt
		else
			timeout 60 "$LSC" restore -c "$_cfg" -o out.db "$T/app.db" > out.txt 2> err.txt
		fi
		_rc=$?
		_el=$(( $(date +%s) - _t0 ))
		printf '%s %s (exit %d, %ds): %s\n' "$_name" "$_cmd" "$_rc" "$_el" "$(cat err.txt)"
		cat err.txt out.txt >> all.txt
		[ "$_rc" -ne 0 ] || fail "$_name: $_cmd succeeded"
		[ "$_rc" -ne 124 ] || fail "$_name: $_cmd did not give up"
		[ "$(wc -l < err.txt)" = 1 ] || fail "$_name: $_cmd: not one line of error"
		for _re in "$@"; do
			grep -q -E -- "$_re" err.txt || fail "$_name: $_cmd: no '$_re' in the error"
		done
		_n=$(count_since "$_m" True)
		[ "$_n" = 1 ] || fail "$_name: $_cmd sent $_n requests (want 1: no retries)"
		[ ! -e out.db ] || fail "$_name: restore left out.db behind"
	done
}

note "wrong secret: 403 SignatureDoesNotMatch"
faults '[{"action":"status","status":403,"code":"SignatureDoesNotMatch","times":-1}]'
refused signature good.ini "SignatureDoesNotMatch" "secret-access-key|AWS_SECRET_ACCESS_KEY" "s3://bkt/app/"

note "unknown key id: s3rver's 403 InvalidAccessKeyId"
faults '[]'
AWS_ACCESS_KEY_ID=NOSUCHKEY refused keyid good.ini "InvalidAccessKeyId" "access-key-id|AWS_ACCESS_KEY_ID"

note "missing bucket: s3rver's 404 NoSuchBucket"
refused bucket nobucket.ini "NoSuchBucket" "bucket 'nobucket' does not exist"

note "clock skew: 403 RequestTimeTooSkewed, server 20 minutes behind"
faults '[{"action":"status","status":403,"code":"RequestTimeTooSkewed","skew_s":-1200,"times":-1,"message":"The difference between the request time and the current time is too large."}]'
refused skew good.ini "RequestTimeTooSkewed" "clock" "1(19[0-9]|20[0-9]|210) s ahead"

note "wrong region: 400 AuthorizationHeaderMalformed naming the Region"
faults '[{"action":"status","status":400,"code":"AuthorizationHeaderMalformed","times":-1,"message":"the region us-east-1 is wrong; expecting eu-west-1","extra":{"Region":"eu-west-1"}}]'
refused region400 good.ini "region 'eu-west-1'" "region = eu-west-1"

note "wrong region: 301 with x-amz-bucket-region"
faults '[{"action":"status","status":301,"code":"PermanentRedirect","times":-1,"message":"use the right endpoint","headers":{"x-amz-bucket-region":"eu-central-1"}}]'
refused region301 good.ini "region 'eu-central-1'" "region = eu-central-1"

note "a store that is down at start-up is retried, not refused"
faults '[{"action":"status","status":503,"code":"SlowDown","times":-1}]'
m=$(mark)
bg "$LSC" replicate -c good.ini 2> d1.log; D=$BGPID
wait_for 20 grep -q "cannot be reached yet" d1.log || { cat d1.log; fail "no warning"; }
grep "cannot be reached yet" d1.log
sleep 1
kill -0 "$D" 2>/dev/null || fail "the daemon exited while S3 was down"
# The daemon retries inside the step, without limit: clearing the fault
# lets the stuck request through, and the new row ships.
faults '[]'
m=$(mark)
sql app.db "INSERT INTO t VALUES (2);"
wait_for 30 at_least 1 "$m" 'r["method"]=="PUT" and r["status"]==200' ||
    { cat d1.log; fail "nothing uploaded once S3 was back"; }
stop_daemon "$D" d1.log
cat d1.log >> all.txt
rm -f out.db
"$LSC" restore -c good.ini -o out.db "$T/app.db" 2>> all.txt || fail "restore failed"
assert_same_db app.db out.db

grep -q -- "$SECRET" all.txt requests.log && fail "the secret leaked"
echo "ok"
