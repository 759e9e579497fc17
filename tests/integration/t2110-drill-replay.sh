#!/bin/sh
# The drill's replay check sees what no checksum can: the oldest snapshot
# of a replica is rewritten with one byte of a row changed and compressed
# again as a valid LZ4 frame (content checksum included), with its time
# kept.  The row's page is never written again after that snapshot, so
# the WAL does not repair it.  Then: chain passes (every frame and every
# checksum is valid), latest passes (it starts from the newest snapshot),
# every pitr target passes integrity_check, and only replay fails, exit 1,
# naming that snapshot and the page; the untouched replica passes.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "$PY missing"
command -v lz4 >/dev/null 2>&1 || skip "lz4 CLI missing (tests/deps.sh installs it)"
cd "$T"
mkdir tmp
# The marker row is in the database file itself before replication starts
# (TRUNCATE checkpoint), so no WAL frame ever carries its page.
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE frozen(v TEXT);
INSERT INTO frozen VALUES ('MARKER-0123456789');
CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);
PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
cat > c.ini <<EOF
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
snapshot-interval = 1s
min-checkpoint-page-count = 20
EOF
chmod 600 c.ini
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
nsnap() { ls rep/generations/*/snapshots 2>/dev/null | grep -c '\.snapshot\.lz4$'; }
i=0
while [ "$(nsnap)" -lt 2 ]; do
	[ $i -lt 60 ] || fail "fewer than 2 snapshots after 60 rounds"
	$PY "$ROOT/tests/tools/stress_writer.py" app.db 50 > w.log || fail "writer"
	i=$((i + 1))
done
$PY "$ROOT/tests/tools/stress_writer.py" app.db 20 > w.log || fail "last writer"
kill -TERM "$D"; wait "$D" || fail "daemon exit status $?"
GEN=$(ls rep/generations)
OLDEST=$(ls rep/generations/$GEN/snapshots | head -n 1)
KEY=generations/$GEN/snapshots/$OLDEST

"$LSC" drill --tmpdir "$T/tmp" "file://$T/rep" > out 2> err || { cat out; fail "the intact replica fails the drill"; }

cp -a rep bad
S=bad/generations/$GEN/snapshots/$OLDEST
lz4 -d -q -c "$S" > snap.raw || fail "lz4 -d"
$PY - snap.raw <<'EOF' || fail "no marker in the snapshot"
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
i = b.find(b'MARKER-0123456789')
assert i > 0
b[i + 7] = ord('X')          # MARKER-X123456789: same length, valid text
open(sys.argv[1], 'wb').write(b)
print("marker on page", i // 4096 + 1)
EOF
lz4 -q -z -f snap.raw "$S.new" || fail "lz4 -z"
touch -r "$S" "$S.new" && mv "$S.new" "$S"
lz4 -t -q "$S" || fail "the new snapshot is not a valid LZ4 frame"

"$LSC" drill --json --tmpdir "$T/tmp" "file://$T/bad" > out 2> err; rc=$?
[ $rc = 1 ] || { cat out err; fail "exit $rc, want 1"; }
[ -z "$(ls -A tmp)" ] || fail "files left in --tmpdir"
$PY - out "$KEY" <<'EOF' || fail "report"
import json, sys
r = json.load(open(sys.argv[1])); key = sys.argv[2]
c = {x["name"]: x for x in r["checks"]}
for n in ("chain", "latest", "pitr"):
    assert c[n]["status"] == "pass", c[n]
assert all(t["status"] == "pass" for t in c["pitr"]["targets"]), c["pitr"]
rp = c["replay"]
assert rp["status"] == "fail" and rp["object"] == key and rp["snapshot"] == key, rp
assert key in rp["reason"] and rp["differing_pages"] == 1 and rp["first_differing_page"] == 2, rp
print("replay:", rp["reason"])
EOF
"$LSC" drill --tmpdir "$T/tmp" "file://$T/bad" > out 2> err
grep "^replay  fail  .*page 2: snapshot '$KEY'" out || { cat out; fail "text does not name the snapshot"; }
echo "ok: only replay caught the rewritten snapshot"
