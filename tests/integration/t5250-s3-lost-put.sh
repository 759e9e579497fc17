#!/bin/sh
# Issue 11, also tested: a segment PUT that the store keeps but whose
# reply is lost (the proxy forwards it, then resets the connection), the
# retries then refused (503), a kill -9, and a restart while the store's
# listings do not show that key yet (hidden for a few seconds, as an
# eventually consistent store might).  The restart rebuilds its position
# from the listing: the segments it writes must neither overlap nor leave
# a gap with the one the listing hid.  Oracle: every index's segments are
# contiguous once the key is listed again (decompressed lengths), and the
# restores by us and by Litestream v0.3.13 equal the app's database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
[ -x "$WALWRITER" ] || skip "$WALWRITER not built"
command -v lz4 >/dev/null 2>&1 || skip "lz4 CLI missing"
cd "$T"
# Litestream lists generations with a delimiter (see --emulate-delimiter).
s3_start --emulate-delimiter
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_REGION
"$WALWRITER" app.db --count 1 >/dev/null || fail "walwriter cannot create its table"
cat > c.ini <<EOC
[s3]
endpoint = $EP
region = us-east-1
path-style = true

[db "$T/app.db"]
replica = s3://bkt/db
sync-interval = 200ms
EOC
HIDE=6
bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
wait_for 10 grep -q "snapshot written" d1.log || fail "no snapshot"
"$WALWRITER" app.db --count 30 >/dev/null || fail writer
wait_for 10 sh -c "grep -c 'wal/' requests.log | grep -q -v '^[01]$'" || fail "no segments shipped"
m=$(mark)
faults '[{"method":"PUT","path":"/wal/","action":"drop_response","times":1,"hide_s":'$HIDE'},
         {"method":"PUT","action":"status","status":503,"code":"SlowDown","times":-1}]'
"$WALWRITER" app.db --count 30 >/dev/null || fail writer
wait_for 10 at_least 1 "$m" 'str(r.get("status","")).startswith("dropped")' || fail "no PUT was dropped"
wait_for 10 at_least 1 "$m" 'r.get("status")==503' || fail "the retry was not refused"
hidden=$($PY -c "import json;print([json.loads(l)['hidden'] for l in open('requests.log') if 'hidden' in l][0])")
note "stored but unanswered, and hidden from listings: $hidden"
kill -9 $D; wait $D 2>/dev/null
faults '[]'
"$WALWRITER" app.db --count 30 >/dev/null || fail writer
m2=$(mark)
bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
wait_for 10 grep -q -E "resumed generation|new generation" d2.log || fail "no restart"
[ "$(count_since "$m2" "$IS_LIST")" -ge 1 ] || fail "the restart did not list"
"$WALWRITER" app.db --count 30 >/dev/null || fail writer
kill -TERM $D; wait $D || fail "daemon exit status $?"
# Once the key is listed again, the chain must be whole and unambiguous.
sleep "$HIDE"
rm -rf dl && mkdir dl
aws --endpoint-url "$EP" s3 sync --quiet s3://bkt/db dl 2>/dev/null || fail "aws s3 sync"
for g in dl/generations/*; do
	prev_i="" end=0
	for f in $(ls "$g/wal" | sort); do
		i=${f%%_*}; o=${f#*_}; o=$((0x${o%%.*}))
		[ "$i" = "$prev_i" ] || end=0
		[ "$o" = "$end" ] || fail "$(basename "$g")/$f starts at $o, the previous segment ended at $end"
		end=$((o + $(lz4 -dc "$g/wal/$f" | wc -c)))
		prev_i=$i
	done
done
"$LSC" restore -o out.db "s3://bkt/db?endpoint=$EP&region=us-east-1" 2>/dev/null || fail "restore failed"
assert_same_db app.db out.db
if [ -x "$LITESTREAM" ]; then
	cat > l.yml <<EOC
dbs:
  - path: $T/app.db
    replicas:
      - url: s3://bkt/db
        endpoint: $EP
        region: us-east-1
        force-path-style: true
        access-key-id: S3RVER
        secret-access-key: S3RVER
EOC
	"$LITESTREAM" restore -config l.yml -o out2.db "$T/app.db" 2>/dev/null || fail "Litestream restore failed"
	assert_same_db app.db out2.db
fi
echo "ok: a lost reply and a lagging listing left a contiguous chain; restores exact"
