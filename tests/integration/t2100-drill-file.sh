#!/bin/sh
# `litestream-c drill` on a file replica that our daemon wrote with two
# generations, several snapshots each (snapshot-interval 1s), application
# checkpoints (TRUNCATE and PASSIVE, from two concurrent writers) and a
# VACUUM that shrinks the file.
#   - The healthy replica passes, exit 0: five check lines and a summary
#     in text; with --json one object that /usr/bin/python3 parses, holding
#     every check with its fields; --sql queries that compare the latest
#     restore with a model of the source (row count, ids, sizes and a
#     sample of the bytes) pass; --prom-file is well-formed and says 1;
#     the same through DB_PATH and -c.
#   - Each failure exits 1 and names its culprit: a flipped byte in an old
#     segment (below the newest snapshot, so the latest restore does not
#     read it), a missing middle segment, a replica that stopped updating
#     two hours ago under --max-lag 1h, a false --sql and a failing --sql.
#   - Usage and config errors exit 2.
#   - --tmpdir is empty after every run, failed ones included.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY missing"
cd "$T"
mkdir tmp
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
cat > c.ini <<EOF
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
snapshot-interval = 1s
min-checkpoint-page-count = 30
max-checkpoint-page-count = 200
EOF
chmod 600 c.ini
W=$ROOT/tests/tools/stress_writer.py
# The generation a restore picks: the one updated last (plan.h).
cur_gen() {
	"$LSC" generations --json "file://$T/rep" | $PY -c '
import json, sys
g = max(json.load(sys.stdin), key=lambda g: (g["end_ns"], g["start_ns"], g["generation"]))
print(g["generation"])'
}
nsnap() { ls "rep/generations/$(cur_gen)/snapshots" | grep -c '\.snapshot\.lz4$'; }
# snapshots N: write until the current generation has N snapshots.  Each
# is named by its WAL index, so keep writing (the daemon's checkpoints move
# the index); at most 60 rounds.
snapshots() {
	_i=0
	while [ "$(nsnap)" -lt "$1" ]; do
		[ $_i -lt 60 ] || fail "fewer than $1 snapshots after 60 rounds: $(nsnap)"
		$PY "$W" app.db 100 > w.log || fail "writer round $_i"
		_i=$((_i + 1))
	done
}

# Generation 1: two snapshots.  Then, with the daemon stopped, the app's
# last connection checkpoints and removes the WAL, so the next start
# begins generation 2 (README, Known limits).
bg "$LSC" replicate -c c.ini 2> d1.log; D=$BGPID
snapshots 2
kill -TERM "$D"; wait "$D" || fail "daemon exit status $? (log: $(tail -n 3 d1.log))"
sql app.db "INSERT INTO t(v) VALUES (randomblob(100));"
[ ! -e app.db-wal ] || fail "the WAL outlived the last connection"
# Generation 2: writers with their own TRUNCATE and PASSIVE checkpoints
# (one may win a race with the daemon and start yet another generation),
# a VACUUM that shrinks the file, three snapshots, and writes after them.
bg "$LSC" replicate -c c.ini 2> d2.log; D=$BGPID
$PY "$W" app.db 400 TRUNCATE > w1.log & P1=$!
$PY "$W" app.db 400 PASSIVE > w2.log & P2=$!
wait $P1 && wait $P2 || fail "a writer failed"
sql app.db "DELETE FROM t WHERE id % 3 <> 0; VACUUM;" || fail vacuum
$PY "$W" app.db 200 PASSIVE > w3.log || fail "writer after the VACUUM"
snapshots 3
$PY "$W" app.db 50 > w5.log || fail "last writer"
# Then a few small commits apart (each its own segment of the index now
# current, below the checkpoint threshold): an index with several
# segments, for the missing-middle-segment case below.
for k in 1 2 3 4; do
	sql app.db "INSERT INTO t(v) VALUES (randomblob(100));" || fail "small commit $k"
	sleep 0.3
done
kill -TERM "$D"; wait "$D" || fail "daemon exit status $? (log: $(tail -n 3 d2.log))"
NGEN=$(ls rep/generations | wc -l)
[ "$NGEN" -ge 2 ] || fail "want two generations or more: $(ls rep/generations)"
GEN=$(cur_gen)
note "$NGEN generation(s), the latest $GEN"
note "$(nsnap) snapshots, $(ls rep/generations/$GEN/wal | wc -l) segments, indexes $(ls rep/generations/$GEN/wal | sed 's/_.*//' | sort -u | tr '\n' ' ')"
# The replica holds exactly the source (restore's own guarantee), so the
# drill's latest restore must match this model of it.
"$LSC" restore -o plain.db "file://$T/rep" 2>/dev/null || fail "plain restore"
assert_same_db app.db plain.db
FP1="SELECT count(*) || ':' || max(id) || ':' || sum(id) || ':' || total(length(v)) FROM t"
FP2="SELECT group_concat(h, '') FROM (SELECT hex(substr(v, 1, 4)) AS h FROM t WHERE id % 7 = 0 ORDER BY id)"
M1=$(sqlite3 app.db "$FP1"); M2=$(sqlite3 app.db "$FP2")
[ -n "$M2" ] || fail "empty model"

# empty_tmp NAME: the drill left nothing in --tmpdir.
empty_tmp() { [ -z "$(ls -A tmp)" ] || { ls -la tmp tmp/*; fail "$1: files left in --tmpdir"; }; }
# drill NAME WANT_RC ARGS...: run with --tmpdir tmp; output in out, log in err.
drill() {
	_n=$1 _want=$2; shift 2
	"$LSC" drill --tmpdir "$T/tmp" "$@" > out 2> err; _rc=$?
	[ "$_rc" = "$_want" ] || { cat out; tail -n 5 err; fail "$_n: exit $_rc, want $_want"; }
	empty_tmp "$_n"
}
# line CHECK: the text line of a check.
line() { grep "^$1 " out; }

note "1. healthy, text"
drill healthy 0 --sql "SELECT ($FP1) = '$M1'" --sql "SELECT ($FP2) = '$M2'" "file://$T/rep"
cat out
for c in chain latest replay pitr sql; do
	line $c | grep -q "^$c *pass " || fail "no '$c pass' line"
done
[ "$(grep -c '^  pitr  pass ' out)" = 3 ] || fail "want 3 pitr targets"
[ "$(grep -c '^  sql   pass ' out)" = 2 ] || fail "want 2 passing queries"
tail -n 1 out | grep -q '^drill: pass in .*RTO .*RPO ' || fail "no summary line"

note "2. healthy, --json and --prom-file, by DB_PATH"
drill json 0 --json -c c.ini --targets 2 --sql "SELECT ($FP1) = '$M1'" --prom-file "$T/drill.prom" app.db
$PY - out "$T/app.db" "$GEN" "$NGEN" <<'EOF' || fail "JSON report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "pass" and r["db"] == sys.argv[2] and r["generation"] == sys.argv[3], r
assert r["replica"].startswith("file://") and r["rto_s"] > 0 and r["rpo_s"] >= 0 and r["max_lag_s"] is None
names = [c["name"] for c in r["checks"]]
assert names == ["chain", "latest", "replay", "pitr", "sql"], names
for c in r["checks"]:
    for k in ("status", "reason", "object", "elapsed_s"):
        assert k in c, (c["name"], k)
    assert c["status"] == "pass" and c["reason"] is None, c
ch, la, rp, pt, sq = r["checks"]
assert ch["generations"] == int(sys.argv[4]) and ch["snapshots"] >= 3 and ch["segments"] > 10 and ch["bytes"] > 0 and ch["problems"] == [], ch
# Every object was verified, by the restores or by the chain check itself.
assert 0 <= ch["bytes_read"] <= ch["bytes"], ch
assert la["snapshot"].startswith("generations/" + sys.argv[3] + "/snapshots/") and la["db_bytes"] > 0, la
assert rp["snapshot"] != la["snapshot"] and rp["against"] == la["snapshot"], rp
assert rp["differing_pages"] == 0 and rp["first_differing_page"] is None and rp["pages"] == la["db_bytes"] // 4096, rp
assert rp["segments"] > la["segments"], (rp, la)
assert len(pt["targets"]) == 2 and all(t["status"] == "pass" and t["snapshot"] for t in pt["targets"]), pt
assert pt["window_start"] < pt["targets"][0]["timestamp"] < pt["targets"][1]["timestamp"] < pt["window_end"], pt
assert sq["queries"][0]["result"] == "1", sq
print("json ok: %d snapshots, %d segments, %d bytes, %d read by the chain check itself" %
      (ch["snapshots"], ch["segments"], ch["bytes"], ch["bytes_read"]))
EOF
$PY "$ROOT/tests/tools/promtext.py" check drill.prom || fail "prom file: $(cat drill.prom)"
[ "$($PY "$ROOT/tests/tools/promtext.py" get drill.prom litestream_c_drill_success db="$T/app.db")" = 1 ] || fail "prom success"
[ "$($PY "$ROOT/tests/tools/promtext.py" get drill.prom litestream_c_drill_check_success check=replay)" = 1 ] || fail "prom replay"
[ ! -e drill.prom.tmp ] || fail "prom temp file left"

# A copy of the replica to damage, object times kept.
copy() { rm -rf bad; cp -a rep bad; BW=bad/generations/$GEN/wal; }
flip() {
	$PY - "$1" "$2" <<'EOP'
import os, sys
p, off = sys.argv[1], int(sys.argv[2])
st = os.stat(p)
b = bytearray(open(p, 'rb').read()); b[off] ^= 0x55; open(p, 'wb').write(b)
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
EOP
}
# Indexes: the oldest and newest snapshots', and the WAL between them.
OLD=$(ls rep/generations/$GEN/snapshots | head -n 1 | cut -c1-8)
NEW=$(ls rep/generations/$GEN/snapshots | tail -n 1 | cut -c1-8)
between=$(ls rep/generations/$GEN/wal | awk -F_ -v o="$OLD" -v n="$NEW" '$1 >= o && $1 < n')
[ -n "$between" ] || fail "no WAL between snapshots $OLD and $NEW"

note "3. a flipped byte in an old segment"
SEG=$(printf '%s\n' "$between" | sed -n "$(( ($(printf '%s\n' "$between" | wc -l) + 1) / 2 ))p")
KEY=generations/$GEN/wal/$SEG
copy; flip "$BW/$SEG" $(( $(stat -c %s "$BW/$SEG") / 2 ))
drill "flipped byte" 1 --json "file://$T/bad"
$PY - out "$KEY" <<'EOF' || fail "flipped byte: report"
import json, sys
r = json.load(open(sys.argv[1])); key = sys.argv[2]
c = {x["name"]: x for x in r["checks"]}
assert r["status"] == "fail"
assert c["chain"]["status"] == "fail" and c["chain"]["object"] == key, c["chain"]
assert [p["object"] for p in c["chain"]["problems"]] == [key], c["chain"]["problems"]
assert c["latest"]["status"] == "pass", c["latest"]   # it starts after the damage
assert c["replay"]["status"] == "fail" and c["replay"]["object"] == key, c["replay"]
print("flipped byte named by chain and replay:", c["chain"]["problems"][0]["reason"])
EOF
drill "flipped byte, text" 1 "file://$T/bad"
line chain | grep -q "fail" && grep -q "^  chain fail .*$KEY" out || { cat out; fail "text does not name $KEY"; }

note "4. a missing middle segment"
IDX=$(ls rep/generations/$GEN/wal | awk -F_ -v o="$OLD" '$1 >= o { print $1 }' | uniq -c | awk '$1 >= 3 { print $2; exit }')
[ -n "$IDX" ] || fail "no index with 3 segments"
GONE=$(ls rep/generations/$GEN/wal | grep "^${IDX}_" | sed -n 2p)
NEXT=$(ls rep/generations/$GEN/wal | grep "^${IDX}_" | sed -n 3p)
copy; rm "$BW/$GONE"
drill "missing segment" 1 "file://$T/bad"
cat out
grep -q "^  chain fail  gap in generation $GEN index $IDX: expected offset .* in 'generations/$GEN/wal/$NEXT'" out ||
	fail "the gap before $NEXT is not named"

note "5. a stale replica under --max-lag"
copy; find bad -type f -exec touch -d '2 hours ago' {} +
drill "stale" 1 --max-lag 1h "file://$T/bad"
line latest | grep -q "fail .*RPO 72[0-9][0-9]\.[0-9]s is over --max-lag 3600\.0s: the newest restorable object, .generations/[0-9a-f]*/" || { cat out; fail "stale: latest does not fail on RPO"; }
line chain | grep -q pass || fail "stale: chain should pass"
drill "stale, looser bound" 0 --max-lag 3h "file://$T/bad"

note "6. failing --sql"
drill "false sql" 1 --targets 0 --sql "SELECT count(*) > 1000000000 FROM t" --sql "SELECT nope FROM nowhere" "file://$T/rep"
cat out
grep -q "^  sql   fail  SELECT count(\*) > 1000000000 FROM t -> 0: the first column of the first row is false" out || fail "false query not named"
grep -q "^  sql   fail  SELECT nope FROM nowhere -> NULL: SQL error: no such table: nowhere" out || fail "SQL error not printed"
line pitr | grep -q "skip  --targets 0" || fail "--targets 0 not a skip"

note "7. usage and config errors exit 2"
usage() {
	"$LSC" drill "$@" > out 2> err; _rc=$?
	[ "$_rc" = 2 ] || { cat err; fail "drill $*: exit $_rc, want 2"; }
	[ ! -s out ] || fail "drill $*: wrote to stdout"
	echo "exit 2: drill $*: $(tail -n 1 err)"
}
usage
usage "file://$T/rep" "file://$T/rep"
usage --targets -1 "file://$T/rep"
usage --targets x "file://$T/rep"
usage --targets 1001 "file://$T/rep"
usage --max-lag soon "file://$T/rep"
usage --generation XYZ "file://$T/rep"
usage --sql "" "file://$T/rep"
usage --tmpdir "$T/nonexistent" "file://$T/rep"
usage --no-such-option "file://$T/rep"
usage -c c.ini "$T/other.db"
usage -c "$T/missing.ini" app.db
"$LSC" drill --help | grep -q "^usage: litestream-c drill" || fail "--help"
"$LSC" help | grep -q "drill" || fail "'litestream-c help' does not list drill"
empty_tmp usage
echo "ok: drill passes a healthy replica and names each planted fault"
