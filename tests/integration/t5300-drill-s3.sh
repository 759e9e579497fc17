#!/bin/sh
# `litestream-c drill` on an S3 replica (s3rver behind tests/tools/s3proxy.py)
# that our daemon wrote with several snapshots, application checkpoints and
# a VACUUM:
#   1. it passes by DB_PATH with -c (secret from ${VAR}) and by s3:// URL
#      (credentials from the environment), the JSON holding every check and
#      --sql queries matching a model of the source; the secret appears in
#      no output; the drill only reads (no PUT, POST or DELETE is logged);
#   2. an old segment that S3 no longer serves (404) fails it, exit 1, the
#      chain check naming that key;
#   3. SIGTERM, then SIGINT, while it is blocked in a stalled download:
#      it dies of that signal at once and leaves nothing in --tmpdir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
cd "$T"
mkdir tmp
s3_start
SECRET="sEcReT-$$-$(date +%s)-drill"
export LSC_T_KEY=S3RVER LSC_T_SECRET="$SECRET"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
cat > c.ini <<EOF
[s3]
endpoint = $EP
region = us-east-1
path-style = true
access-key-id = \${LSC_T_KEY}
secret-access-key = \${LSC_T_SECRET}

[db "$T/app.db"]
replica = s3://bkt/app/prod
sync-interval = 200ms
snapshot-interval = 1s
min-checkpoint-page-count = 30
EOF
chmod 600 c.ini
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
W=$ROOT/tests/tools/stress_writer.py
$PY "$W" app.db 300 TRUNCATE > w1.log & P1=$!
$PY "$W" app.db 300 > w2.log & P2=$!
wait $P1 && wait $P2 || fail "a writer failed"
sql app.db "DELETE FROM t WHERE id % 2 = 0; VACUUM;" || fail vacuum
# Snapshots of the generation a restore picks (the one updated last): an
# app's TRUNCATE checkpoint may win a race with the daemon and start a new
# generation (README, Known limits).
nsnap() {
	"$LSC" snapshots --json -c c.ini app.db > snaps.json 2>/dev/null &&
	"$LSC" generations --json -c c.ini app.db > gens.json 2>/dev/null &&
	$PY -c '
import json
gens = json.load(open("gens.json"))
g = max(gens, key=lambda g: (g["end_ns"], g["start_ns"], g["generation"]))["generation"] if gens else ""
print(sum(1 for s in json.load(open("snaps.json")) if s["generation"] == g))'
}
i=0
while [ "$(nsnap)" -lt 3 ]; do
	[ $i -lt 60 ] || fail "fewer than 3 snapshots after 60 rounds: $(nsnap)"
	$PY "$W" app.db 100 > w3.log || fail "writer round $i"
	i=$((i + 1))
done
$PY "$W" app.db 30 > w4.log || fail "last writer"
kill -TERM "$D"; wait "$D" || fail "daemon exit status $? (log: $(tail -n 3 d.log))"
note "$(nsnap) snapshots, $("$LSC" wal -c c.ini app.db | tail -n +2 | wc -l) segments"
FP="SELECT count(*) || ':' || max(id) || ':' || sum(id) || ':' || total(length(v)) FROM t"
M=$(sqlite3 app.db "$FP")

note "1. healthy: by DB_PATH, then by URL"
m0=$(mark)
"$LSC" drill -c c.ini --json --tmpdir "$T/tmp" --sql "SELECT ($FP) = '$M'" app.db > out 2> err ||
	{ cat out; tail -n 5 err; fail "drill by DB_PATH failed"; }
[ -z "$(ls -A tmp)" ] || fail "files left in --tmpdir"
$PY - out <<'EOF' || fail "JSON report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "pass" and r["replica"].startswith("s3://bkt/app/prod"), r
assert [c["name"] for c in r["checks"]] == ["chain", "latest", "replay", "pitr", "sql"]
assert all(c["status"] == "pass" for c in r["checks"]), r["checks"]
ch, la, rp, pt, sq = r["checks"]
assert ch["snapshots"] >= 3 and ch["problems"] == [], ch
assert rp["differing_pages"] == 0 and rp["pages"] > 0, rp
assert len(pt["targets"]) == 3 and sq["queries"][0]["result"] == "1", (pt, sq)
print("json ok: rto_s %.3f rpo_s %.3f, chain read %d of %d bytes itself" % (r["rto_s"], r["rpo_s"], ch["bytes_read"], ch["bytes"]))
EOF
writes=$(count_since "$m0" 'r["method"] not in ("GET", "HEAD")')
[ "$writes" = 0 ] || fail "the drill made $writes requests that are not reads"
AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY="$SECRET" "$LSC" drill --targets 1 --tmpdir "$T/tmp" \
    "s3://bkt/app/prod?endpoint=$EP&region=us-east-1" > out2 2> err2 || { cat out2; tail -n 5 err2; fail "drill by URL failed"; }
tail -n 1 out2 | grep -q "^drill: pass" || fail "by URL: no pass summary"
cat out2
for f in out err out2 err2; do
	! grep -q "$SECRET" "$f" || fail "the secret appears in $f"
done

note "2. an old segment S3 no longer serves"
# A segment of the generation a restore picks (the one updated last; an
# app's TRUNCATE checkpoint may have started another), at or above its
# oldest snapshot's index, so every restore path from there needs it.
"$LSC" generations --json -c c.ini app.db > gens.json
"$LSC" snapshots --json -c c.ini app.db > snaps.json
"$LSC" wal --json -c c.ini app.db > wal.json
SEG=$($PY -c '
import json
g = max(json.load(open("gens.json")), key=lambda g: (g["end_ns"], g["start_ns"], g["generation"]))["generation"]
base = min(s["index"] for s in json.load(open("snaps.json")) if s["generation"] == g)
rows = [w for w in json.load(open("wal.json")) if w["generation"] == g and w["index"] >= base]
print(rows[len(rows) // 3]["key"])')
faults "[{\"method\": \"GET\", \"path\": \"$SEG\$\", \"action\": \"status\", \"status\": 404, \"code\": \"NoSuchKey\", \"times\": -1}]"
"$LSC" drill -c c.ini --json --tmpdir "$T/tmp" app.db > out 2> err; rc=$?
[ $rc = 1 ] || { cat out; fail "404 segment: exit $rc, want 1"; }
[ -z "$(ls -A tmp)" ] || fail "files left in --tmpdir after a failure"
$PY - out "$SEG" <<'EOF' || fail "404 report"
import json, sys
r = json.load(open(sys.argv[1])); key = sys.argv[2]
ch = r["checks"][0]
assert r["status"] == "fail" and ch["status"] == "fail", ch
assert [p["object"] for p in ch["problems"]] == [key], ch["problems"]
print("chain:", ch["problems"][0]["reason"])
EOF
faults '[]'

note "3. signals during a stalled download"
faults '[{"method": "GET", "path": "/snapshots/", "action": "stall", "seconds": 60, "times": -1}]'
for sig in TERM:15 INT:2; do
	num=${sig#*:} sig=${sig%:*}
	"$LSC" drill -c c.ini --tmpdir "$T/tmp" app.db > out 2> err &
	P=$!
	LSC_PIDS="$LSC_PIDS $P"
	# The latest restore's file exists while its snapshot is downloaded.
	wait_for 20 sh -c "ls $T/tmp/lsc-drill-*/ | grep -q ." || fail "SIG$sig: no temp file appeared"
	t0=$(date +%s)
	kill -$sig $P
	wait $P; rc=$?
	want=$((128 + num))
	[ $rc = $want ] || fail "SIG$sig: exit $rc, want $want"
	[ $(( $(date +%s) - t0 )) -le 5 ] || fail "SIG$sig: took more than 5 s to end"
	[ -z "$(ls -A tmp)" ] || { ls -laR tmp; fail "SIG$sig: files left in --tmpdir"; }
	echo "SIG$sig: exit $rc, --tmpdir empty"
done
faults '[]'
echo "ok: drill on S3 passes, names a missing object, cleans up on signals"
