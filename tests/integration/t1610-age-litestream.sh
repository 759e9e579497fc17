#!/bin/sh
# Encrypted replicas between litestream-c and Litestream v0.3.13 (whose
# YAML takes an `age:` block with identities and recipients), file replicas:
#  1. Litestream restores what litestream-c replicated with age, exactly
#     (the committed rows of an id_writer), at the latest state and at an
#     earlier WAL index.
#  2. litestream-c restores what Litestream replicated with age, exactly;
#     without a key it says what to set; with a wrong key it refuses.
. "$(dirname "$0")/lib.sh"
[ -x "$LITESTREAM" ] || skip "Litestream v0.3.13 not installed (npm ci)"
command -v age-keygen >/dev/null 2>&1 || skip "age-keygen not installed (apt-get install age)"
PY=/usr/bin/python3
W="$ROOT/tests/tools/id_writer.py"
cd "$T"
umask 077
age-keygen -o k1.txt 2> k1.pub && age-keygen -o k2.txt 2> k2.pub || fail "age-keygen"
R1=$(grep -o 'age1[0-9a-z]*' k1.pub) R2=$(grep -o 'age1[0-9a-z]*' k2.pub)
S1=$(grep '^AGE-SECRET-KEY-1' k1.txt) S2=$(grep '^AGE-SECRET-KEY-1' k2.txt)

# check_rows DB LOG: exactly the ids 1..last of LOG, each 'row <id>'.
check_rows() {
	last=$(tail -n 1 "$2")
	got=$(sqlite3 "$1" "SELECT count(*), min(id), max(id), sum(v = 'row ' || id) FROM t")
	[ "$got" = "$last|1|$last|$last" ] || fail "$1 holds $got, want $last rows 1..$last"
}

note "1. litestream-c replicates with age; Litestream restores"
sql app.db "PRAGMA journal_mode=wal;" >/dev/null
cat > c.ini <<EOF
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
min-checkpoint-page-count = 50
age-recipient = $R1
age-recipient = $R2
EOF
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 20 grep -q "every database has synced once" d.log || { cat d.log; fail "no first sync"; }
$PY "$W" app.db ids.log --count 300 --pace 2 >/dev/null || fail "writer"
kill -TERM $D; wait $D || fail "daemon exit status $?"
cat > ls.yml <<EOF
dbs:
  - path: $T/app.db
    replicas:
      - url: file://$T/rep
        age:
          identities:
            - $S2
          recipients:
            - $R2
EOF
"$LITESTREAM" restore -config ls.yml -o ls.db "$T/app.db" > lr.log 2>&1 ||
    { cat lr.log; fail "Litestream could not restore our encrypted replica"; }
check_rows ls.db ids.log
assert_same_db app.db ls.db
idx=$("$LSC" wal --json "file://$T/rep" | $PY -c 'import json,sys
w = json.load(sys.stdin); print(sorted({s["index_hex"] for s in w})[1])')
"$LITESTREAM" restore -config ls.yml -index "$idx" -o ls_idx.db "$T/app.db" > lr2.log 2>&1 ||
    { cat lr2.log; fail "Litestream -index $idx"; }
"$LSC" restore --age-identity-file "$T/k1.txt" --index "$idx" -o our_idx.db \
    "file://$T/rep" 2>/dev/null || fail "our restore --index $idx"
db_dump ls_idx.db > a.sql; db_dump our_idx.db > b.sql
cmp -s a.sql b.sql || fail "Litestream and litestream-c differ at index $idx"
echo "Litestream restored ours: $(tail -n 1 ids.log) rows; index $idx: $(sqlite3 ls_idx.db 'select count(*) from t') rows"

note "2. Litestream replicates with age; litestream-c restores"
sql src.db "PRAGMA journal_mode=wal;" >/dev/null
cat > ls2.yml <<EOF
dbs:
  - path: $T/src.db
    replicas:
      - url: file://$T/lsrep
        sync-interval: 100ms
        age:
          identities:
            - $S1
          recipients:
            - $R1
EOF
bg "$LITESTREAM" replicate -config ls2.yml > ls2.log 2>&1; LSPID=$BGPID
wait_for 30 sh -c 'ls lsrep/generations/*/snapshots/* >/dev/null 2>&1' || { cat ls2.log; fail "Litestream made no snapshot"; }
$PY "$W" src.db src_ids.log --count 200 --pace 3 >/dev/null || fail "writer (src)"
last=$(tail -n 1 src_ids.log)
# Litestream ships every sync interval: wait until its replica has it all.
restored_all() {
	rm -f probe.db probe.db-wal probe.db-shm
	"$LSC" restore --age-identity-file "$T/k1.txt" -o probe.db "file://$T/lsrep" 2>/dev/null &&
	    [ "$(sqlite3 probe.db 'select max(id) from t')" = "$last" ]
}
wait_for 30 restored_all || fail "litestream-c never restored Litestream's last commit"
kill -TERM $LSPID; wait $LSPID
head -c 22 "$(find lsrep -name '*.snapshot.lz4' | head -n 1)" | grep -q -a "age-encryption.org/v1" ||
    fail "Litestream's objects are not age files"
rm -f out.db
"$LSC" restore --age-identity-file "$T/k1.txt" -o out.db "file://$T/lsrep" 2> r.log || { cat r.log; fail "restore"; }
check_rows out.db src_ids.log
assert_same_db src.db out.db
rm -f out.db
"$LSC" restore -o out.db "file://$T/lsrep" 2> r.err && fail "restored without a key"
grep -q "is encrypted (age); set age-identity-file" r.err || { cat r.err; fail "no hint"; }
"$LSC" restore --age-identity-file "$T/k2.txt" -o out.db "file://$T/lsrep" 2> r.err && fail "a wrong key restored"
grep -q "no age identity opens it" r.err || { cat r.err; fail "wrong key: unclear"; }
[ ! -e out.db ] || fail "out.db written"
echo "ok: both directions exact ($(tail -n 1 ids.log) and $last commits)"
