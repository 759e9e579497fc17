#!/bin/sh
# Issue 11 defect 4: replica prefixes with a space, '+', '%', '=' and
# non-ASCII characters, on S3 listings that are form-encoded as AWS encodes
# encoding-type=url (a space comes back as '+', a '+' as %2B; the proxy's
# --encode-listing, since s3rver ignores the parameter).  For each prefix:
# replicate, stop, restart (the listing must find our position: the
# generation resumes and offset 0 is not uploaded again), more commits,
# stop; the generations listing sees one generation, and a restore from
# the URL equals the app's database.  Before the fix, '+' decoded as '+'
# made every listed key unknown: empty restores, re-uploads at each start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
cd "$T"
s3_start --encode-listing
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_REGION
n=0
for prefix in "my dir/db" "a+b/c+d" "100%/x%2By" "k=v&w=z/db" "caf$(printf '\303\251') b+/db"; do
	n=$((n + 1))
	rm -f app.db app.db-wal app.db-shm out.db
	rm -rf .app.db-litestream
	sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
	cat > c.ini <<EOC
[s3]
endpoint = $EP
region = us-east-1
path-style = true

[db "$T/app.db"]
replica = s3://bkt/$prefix
sync-interval = 100ms
EOC
	bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
	wait_for 10 grep -q "snapshot written" d1.log || fail "[$prefix] no snapshot: $(tail -n 3 d1.log)"
	/usr/bin/python3 "$ROOT/tests/tools/stress_writer.py" app.db 30 >/dev/null || fail writer
	kill -TERM $D; wait $D || fail "[$prefix] daemon exit status $?"
	m=$(mark)
	bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
	wait_for 10 grep -q -E "resumed generation|new generation" d2.log || fail "[$prefix] no start"
	grep -q "resumed generation" d2.log || fail "[$prefix] did not resume: $(grep generation d2.log)"
	/usr/bin/python3 "$ROOT/tests/tools/stress_writer.py" app.db 30 >/dev/null || fail writer
	kill -TERM $D; wait $D || fail "[$prefix] daemon exit status $?"
	# The restart found its position: no snapshot and no offset-0
	# segment of index 0 went up again.
	again=$(count_since "$m" 'r["method"]=="PUT" and ("snapshots/" in r["path"] or "/00000000_00000000.wal.lz4" in r["path"])')
	[ "$again" = 0 ] || fail "[$prefix] the restart uploaded $again objects again"
	[ "$(count_since "$m" 'r.get("emulated")=="listing"')" -ge 1 ] || fail "[$prefix] no encoded listing was served"
	url="s3://bkt/$prefix?endpoint=$EP&region=us-east-1"
	gens=$("$LSC" generations "$url" | tail -n +2 | wc -l)
	[ "$gens" = 1 ] || fail "[$prefix] generations listed: $gens"
	"$LSC" restore -o out.db "$url" 2>restore.log || fail "[$prefix] restore: $(cat restore.log)"
	assert_same_db app.db out.db
	note "prefix '$prefix' ok"
done
echo "ok: $n odd prefixes replicate, resume and restore through form-encoded listings"
