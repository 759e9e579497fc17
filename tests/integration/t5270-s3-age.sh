#!/bin/sh
# Encryption with age on an S3 replica (s3rver behind tests/tools/s3proxy.py).
# The daemon's config has the public recipient only.
#  1. An id_writer's commits replicate; a WAL upload whose reply is cut
#     after s3rver stored it (the commit "failed" but happened) is resumed
#     from the local record of that attempt: no new generation, no read.
#  2. Nothing in s3rver's store holds plaintext; every object is an age
#     file that `age -d | lz4 -dc` opens.
#  3. A restart without a key resumes the generation; more commits.
#  4. litestream-c restores exactly (config + --age-identity-file); without
#     a key it says what to set (exit 2).
#  5. Litestream v0.3.13 restores the encrypted S3 replica, and replicates
#     one of its own with age that litestream-c restores exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
command -v age >/dev/null 2>&1 || skip "age CLI not installed (apt-get install age)"
command -v lz4 >/dev/null 2>&1 || skip "lz4 CLI not installed"
W="$ROOT/tests/tools/id_writer.py"
cd "$T"
umask 077
s3_start --emulate-delimiter
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
age-keygen -o k1.txt 2> k1.pub || fail "age-keygen"
R1=$(grep -o 'age1[0-9a-z]*' k1.pub) S1=$(grep '^AGE-SECRET-KEY-1' k1.txt)
CANARY="canary-$$-plaintext"
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE canary(s TEXT);
INSERT INTO canary VALUES('$CANARY');" >/dev/null
cat > c.ini <<EOF
[s3]
endpoint = $EP
region = us-east-1
path-style = true

[db "$T/app.db"]
replica = s3://bkt/app/prod
sync-interval = 100ms
min-checkpoint-page-count = 60
age-recipient = $R1
# No retries inside the S3 client: the cut reply must reach the daemon.
max-retries = 0
EOF
bg $PY -c "import sqlite3,os,time
c=sqlite3.connect('app.db'); c.execute('select count(*) from canary').fetchall()
end=time.time()+300
while not os.path.exists('release') and time.time()<end: time.sleep(0.05)"
HOLDER=$BGPID
check_rows() {
	last=$(tail -n 1 ids.log)
	got=$(sqlite3 "$1" "SELECT count(*), min(id), max(id), sum(v = 'row ' || id) FROM t")
	[ "$got" = "$last|1|$last|$last" ] || fail "$1 holds $got, want $last rows 1..$last"
	assert_same_db app.db "$1"
}

note "1. replicate; one WAL upload's reply cut after s3rver stored it"
bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
wait_for 20 grep -q "every database has synced once" d1.log || { cat d1.log; fail "no first sync"; }
# Two lost replies: the first attempt's and the S3 client's at-once retry
# of a request that failed on a reused connection.
faults '[{"method": "PUT", "path": "/wal/", "skip": 3, "times": 2, "action": "lost_reply"}]'
$PY "$W" app.db ids.log --count 300 --pace 3 >/dev/null || fail "writer"
wait_for 20 grep -q "sync recovered" d1.log || { cat d1.log; fail "the cut reply was not retried"; }
stop_daemon "$D" d1.log
grep -q "sync failed" d1.log || fail "no failed upload: the fault did not fire"
[ "$(grep -c 'msg="new generation"' d1.log)" = 1 ] || { cat d1.log; fail "a second generation"; }
grep -q "reading it" d1.log && fail "the daemon read a segment it had the record of"
[ "$(count_since 0 "r['method']=='GET' and '/wal/' in r['path']")" = 0 ] ||
    fail "the daemon downloaded a segment"

note "2. no plaintext in the store; the CLIs open every object"
[ -d s3 ] || fail "no s3rver store"
for s in "SQLite format 3" "$CANARY" "row 123"; do
	grep -r -q -a -F "$s" s3 && fail "s3rver's store contains the plaintext '$s'"
done
n=0
for key in $(aws --endpoint-url "$EP" s3 ls --recursive s3://bkt/app/prod/ 2>/dev/null | awk '{print $4}'); do
	aws --endpoint-url "$EP" s3 cp "s3://bkt/$key" obj >/dev/null 2>&1 || fail "aws s3 cp $key"
	age -d -i k1.txt obj | lz4 -dc > plain.bin 2>/dev/null || fail "age -d | lz4 -d: $key"
	n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n objects seen through aws s3"
echo "$n objects, each opened by age -d | lz4 -dc"

note "3. a restart without a key resumes the generation"
# If the daemon's last checkpoint took in every frame before it stopped,
# the writer's first commit restarts the WAL (a new header): nothing then
# proves what happened meanwhile, and a new generation is right.  The
# header tells which case this run is.
hdr0=$(od -A n -t x1 -N 32 app.db-wal | tr -d ' \n')
$PY "$W" app.db ids.log --count 40 >/dev/null || fail "writer (down)"
hdr1=$(od -A n -t x1 -N 32 app.db-wal | tr -d ' \n')
bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
wait_for 20 grep -q "every database has synced once" d2.log || { cat d2.log; fail "no first sync (2)"; }
if [ "$hdr0" = "$hdr1" ]; then
	grep -q "resumed generation" d2.log || { cat d2.log; fail "did not resume"; }
else
	grep -q 'msg="new generation".*reason="the WAL was restarted' d2.log ||
	    { cat d2.log; fail "a restarted WAL did not start a new generation"; }
	note "the WAL had been checkpointed whole before the stop: restarted, a new generation"
fi
$PY "$W" app.db ids.log --count 60 --pace 2 >/dev/null || fail "writer"
stop_daemon "$D" d2.log
[ "$(grep -c 'msg="new generation"' d2.log)" -le "$([ "$hdr0" = "$hdr1" ] && echo 0 || echo 1)" ] ||
    fail "a new generation while running"

note "4. restore: with the key exact; without, one line saying what to set"
"$LSC" restore -c c.ini -o out.db "$T/app.db" 2> r.err && fail "restored without a key"
grep -q "is encrypted (age); set age-identity-file" r.err || { cat r.err; fail "no hint"; }
[ ! -e out.db ] || fail "out.db written"
"$LSC" restore -c c.ini --age-identity-file "$T/k1.txt" -o out.db "$T/app.db" 2> r.log ||
    { cat r.log; fail "restore"; }
check_rows out.db

note "5. Litestream v0.3.13 both ways"
if [ -x "$LITESTREAM" ]; then
	cat > ls.yml <<EOF
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
        secret-access-key: S3RVER
        age:
          identities:
            - $S1
          recipients:
            - $R1
  - path: $T/src.db
    replicas:
      - type: s3
        bucket: bkt
        path: ls/src
        endpoint: $EP
        region: us-east-1
        force-path-style: true
        access-key-id: S3RVER
        secret-access-key: S3RVER
        sync-interval: 100ms
        age:
          identities:
            - $S1
          recipients:
            - $R1
EOF
	"$LITESTREAM" restore -config ls.yml -o ls.db "$T/app.db" > lr.log 2>&1 ||
	    { cat lr.log; fail "Litestream could not restore our encrypted S3 replica"; }
	check_rows ls.db
	sql src.db "PRAGMA journal_mode=wal;" >/dev/null
	# Litestream replicates only the databases it finds; keep app.db's
	# replica to ourselves by running it on a config naming src.db only.
	sed -n '1,2p;/path: .*src.db/,$p' ls.yml > ls2.yml
	bg "$LITESTREAM" replicate -config ls2.yml > ls2.log 2>&1; LSPID=$BGPID
	$PY "$W" src.db src_ids.log --count 150 --pace 3 >/dev/null || fail "writer (src)"
	last=$(tail -n 1 src_ids.log)
	restored_all() {
		rm -f probe.db probe.db-wal probe.db-shm
		"$LSC" restore --age-identity-file "$T/k1.txt" -o probe.db \
		    "s3://bkt/ls/src?endpoint=$EP&region=us-east-1" 2>/dev/null &&
		    [ "$(sqlite3 probe.db 'select max(id) from t')" = "$last" ]
	}
	wait_for 60 restored_all || { tail ls2.log; fail "Litestream's encrypted S3 replica did not restore"; }
	kill -TERM $LSPID; wait $LSPID
	rm -f out2.db
	"$LSC" restore --age-identity-file "$T/k1.txt" -o out2.db \
	    "s3://bkt/ls/src?endpoint=$EP&region=us-east-1" 2>/dev/null || fail "restore of Litestream's replica"
	assert_same_db src.db out2.db
	echo "Litestream: restored ours ($(tail -n 1 ids.log) rows); we restored its ($last rows)"
else
	note "Litestream v0.3.13 not installed: step 5 not run"
fi
touch release; wait $HOLDER
echo "ok"
