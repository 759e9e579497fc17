#!/bin/sh
# Encryption with age (issue 10) on a file replica, checked with Debian's
# age 1.1.1 and lz4 CLIs as independent oracles.  The daemon's config has
# only the two public recipients, never a private key.
#  1. An id_writer's commits replicate; every object is an age file for
#     both recipients, with no plaintext in it (no "SQLite format 3", no
#     canary row, no row value); `age -d -i KEY obj | lz4 -dc` gives the
#     snapshot or WAL bytes with either key.
#  2. restore: without an identity, one line saying what to set (exit 2);
#     with either key, exactly the committed rows; a wrong key and a
#     group-readable key file are refused; nothing is left behind.
#  3. A restart without any identity resumes the generation (the local
#     record).  Without the record's segment line (a crash between upload
#     and record), a new generation with the reason logged, or, with an
#     identity file configured, the daemon reads the last segment and
#     resumes.  Without the whole record, a new generation.
#  4. Altered replicas (a flipped byte, a cut, snapshot chunks swapped,
#     dropped or repeated, bytes appended, a plain segment among encrypted
#     ones): refused naming the object, no output, no temp file.
#  5. Objects made entirely by the CLIs (lz4 -c | age -r) restore exactly.
#  6. Turning encryption off, then on, then changing the recipients each
#     start a new generation; the plain one contains the plaintext (the
#     control that shows step 1's search can find it).
#  7. replicate --restore-if-missing needs age-identity-file, and uses it.
. "$(dirname "$0")/lib.sh"
command -v age >/dev/null 2>&1 || skip "age CLI not installed (apt-get install age)"
command -v lz4 >/dev/null 2>&1 || skip "lz4 CLI not installed"
PY=/usr/bin/python3
W="$ROOT/tests/tools/id_writer.py"
cd "$T"
umask 077

for k in k1 k2 k3; do
	age-keygen -o $k.txt 2> $k.pub || fail "age-keygen"
done
R1=$(grep -o 'age1[0-9a-z]*' k1.pub) R2=$(grep -o 'age1[0-9a-z]*' k2.pub)
R3=$(grep -o 'age1[0-9a-z]*' k3.pub)
CANARY="canary-$$-plaintext"
# A 200 KiB blob of random bytes makes the snapshot several age chunks.
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE canary(s TEXT, b BLOB);
INSERT INTO canary VALUES('$CANARY', randomblob(204800));" >/dev/null
write_config() {	# write_config RECIPIENT... (none: plain)
	{
		echo "[db \"$T/app.db\"]"
		echo "replica = file://$T/rep"
		echo "sync-interval = 100ms"
		echo "min-checkpoint-page-count = 60"
		for r in "$@"; do echo "age-recipient = $r"; done
	} > c.ini
}
write_config "$R1" "$R2"
# Keep a connection open, as an app does: the last one to close would
# checkpoint the WAL away and force a new generation at each restart.
bg $PY -c "import sqlite3,os,time
c=sqlite3.connect('app.db'); c.execute('select count(*) from canary').fetchall()
end=time.time()+300
while not os.path.exists('release') and time.time()<end: time.sleep(0.05)"
HOLDER=$BGPID

# check_rows DB: exactly the ids 1..last of ids.log, each 'row <id>'.
check_rows() {
	last=$(tail -n 1 ids.log)
	got=$(sqlite3 "$1" "SELECT count(*), min(id), max(id), sum(v = 'row ' || id) FROM t")
	[ "$got" = "$last|1|$last|$last" ] || fail "$1 holds $got, want $last rows 1..$last"
	[ "$(sqlite3 "$1" "SELECT s FROM canary")" = "$CANARY" ] || fail "$1 lost the canary"
	assert_same_db app.db "$1"
}
# run_daemon LOG: start; wait until it made its first sync.
run_daemon() {
	bg "$LSC" replicate -c c.ini 2> "$1"; D=$BGPID
	wait_for 20 grep -q -E "every database has synced once" "$1" ||
	    { cat "$1"; fail "no first sync ($1)"; }
}
stop() { kill -TERM "$D"; wait "$D" || fail "daemon exit status $?"; }
gens() { ls rep/generations | wc -l; }
gen_of() { sed -n 's/.*msg="new generation" generation=\([0-9a-f]*\).*/\1/p' "$1" | tail -n 1; }
no_output() {	# no_output PATH: nothing at PATH, no temp file beside it
	[ ! -e "$1" ] || fail "$1 was written"
	ls "$1".lsc-tmp-* >/dev/null 2>&1 && fail "a temp file was left beside $1"
	return 0
}

note "1. replicate with the public recipients only"
run_daemon d1.log
$PY "$W" app.db ids.log --count 400 --pace 2 >/dev/null || fail "writer"
stop
G1=$(gen_of d1.log)
[ -n "$G1" ] && [ "$(gens)" = 1 ] || fail "expected one generation"
objs=$(find rep -type f -name '*.lz4' | sort)
nobj=$(echo "$objs" | wc -l)
nseg=$(echo "$objs" | grep -c '/wal/')
[ "$nseg" -ge 3 ] || fail "only $nseg segments"
for f in $objs; do
	head -c 32 "$f" | grep -q -a '^age-encryption.org/v1$' || fail "$f is not an age file"
	[ "$(grep -a -c '^-> X25519 ' "$f")" = 2 ] || fail "$f: not 2 X25519 stanzas"
	for s in "SQLite format 3" "$CANARY" "row 123"; do
		grep -q -a -F "$s" "$f" && fail "$f contains the plaintext '$s'"
	done
	for k in k1 k2; do
		age -d -i $k.txt "$f" | lz4 -dc > plain.bin 2>/dev/null ||
		    fail "age -d -i $k | lz4 -d failed on $f"
		case $f in
		*.snapshot.lz4)
			[ "$(head -c 16 plain.bin)" = "SQLite format 3" ] ||
			    fail "$f: not a database"
			grep -q -a -F "$CANARY" plain.bin || fail "$f: no canary inside" ;;
		*/00000000_00000000.wal.lz4|*_00000000.wal.lz4)
			magic=$(od -A n -t x1 -N 4 plain.bin | tr -d ' ')
			case $magic in 377f0682|377f0683) ;; *) fail "$f: no WAL header ($magic)" ;; esac ;;
		esac
	done
done
echo "$nobj objects ($nseg segments), all age for 2 recipients, no plaintext"
[ -f .app.db-litestream/lsc-shipped ] || fail "no local record"
[ "$(stat -c %a .app.db-litestream/lsc-shipped)" = "$(stat -c %a app.db)" ] ||
    fail "the record's mode differs from the database's"

note "2. restore: no identity, right keys, wrong key, readable key file"
"$LSC" restore -o out.db "file://$T/rep" 2> r.err && fail "restored without a key"
[ $? = 2 ] || true
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null; [ $? = 2 ] || fail "exit status not 2"
[ "$(wc -l < r.err)" -le 2 ] || { cat r.err; fail "more than one error line"; }
grep -q "is encrypted (age); set age-identity-file" r.err || { cat r.err; fail "no hint"; }
grep -q "snapshots/" r.err || fail "the message does not name the object"
no_output out.db
"$LSC" restore -c c.ini -o out.db "$T/app.db" 2> r.err && fail "restored without a key (config)"
grep -q "set age-identity-file" r.err || fail "no hint (config)"
for k in k1 k2; do
	rm -f out.db
	"$LSC" restore --age-identity-file "$T/$k.txt" -o out.db "file://$T/rep" 2> r.log ||
	    { cat r.log; fail "restore with $k"; }
	check_rows out.db
done
rm -f out.db
"$LSC" restore --age-identity-file "$T/k3.txt" -o out.db "file://$T/rep" 2> r.err && fail "a wrong key restored"
grep -q "no age identity opens it" r.err || { cat r.err; fail "wrong key: unclear"; }
grep -q "generations/$G1/" r.err || fail "wrong key: object not named"
no_output out.db
cp k1.txt k1open.txt; chmod 644 k1open.txt
"$LSC" restore --age-identity-file "$T/k1open.txt" -o out.db "file://$T/rep" 2> r.err &&
    fail "a group-readable key file was used"
grep -q "chmod 600" r.err || { cat r.err; fail "readable key file: no hint"; }
grep -q "AGE-SECRET-KEY" r.err && fail "a key reached the message"
no_output out.db

note "3. restarts without a private key"
$PY "$W" app.db ids.log --count 50 >/dev/null || fail "writer (daemon down)"
run_daemon d2.log
grep -q "resumed generation\" generation=$G1" d2.log || { cat d2.log; fail "did not resume"; }
$PY "$W" app.db ids.log --count 50 --pace 2 >/dev/null || fail "writer"
stop
grep -q "new generation" d2.log && fail "a new generation after a clean restart"
grep -q "reading it" d2.log && fail "read the last segment though the record matched"
rm -f out.db
"$LSC" restore --age-identity-file "$T/k1.txt" -o out.db "file://$T/rep" 2>/dev/null || fail "restore 3a"
check_rows out.db
# The record's segment line lost, as after a crash between an upload and
# the record: without a key, the only safe answer is a new generation.
sed -i '/^segment /d' .app.db-litestream/lsc-shipped
run_daemon d3.log
grep -q 'msg="new generation".*reason="no local record matches the replica.s last segment, which is encrypted and no age-identity-file' d3.log ||
    { cat d3.log; fail "no new generation, or no reason"; }
G2=$(gen_of d3.log)
stop
[ "$(gens)" = 2 ] || fail "expected 2 generations"
rm -f out.db
"$LSC" restore --age-identity-file "$T/k2.txt" -o out.db "file://$T/rep" 2>/dev/null || fail "restore 3b"
check_rows out.db
# The same with an identity file configured: the daemon reads the segment.
sed -i '/^segment /d' .app.db-litestream/lsc-shipped
echo "age-identity-file = $T/k1.txt" >> c.ini
run_daemon d4.log
grep -q "resumed generation\" generation=$G2" d4.log || { cat d4.log; fail "did not resume (4)"; }
grep -q "no local record of the replica's last segment: reading it" d4.log || fail "did not read"
$PY "$W" app.db ids.log --count 30 --pace 2 >/dev/null || fail "writer"
stop
grep -q "new generation" d4.log && fail "a new generation though the key was there"
grep -q "^segment " .app.db-litestream/lsc-shipped || fail "the record was not rewritten"
rm -f out.db
"$LSC" restore --age-identity-file "$T/k1.txt" -o out.db "file://$T/rep" 2>/dev/null || fail "restore 3c"
check_rows out.db
# The whole record lost: nothing says which recipients the generation was
# encrypted for (stanzas do not name them), so a new one, key or not.
rm .app.db-litestream/lsc-shipped
run_daemon d4b.log
grep -q 'reason="no local record that generation [0-9a-f]* is encrypted for these age recipients"' d4b.log ||
    { cat d4b.log; fail "no new generation without the record"; }
G2=$(gen_of d4b.log)
$PY "$W" app.db ids.log --count 10 --pace 2 >/dev/null || fail "writer"
stop
write_config "$R1" "$R2"
[ "$(gens)" = 3 ] || fail "expected 3 generations"
rm -f out.db
"$LSC" restore --age-identity-file "$T/k1.txt" -o out.db "file://$T/rep" 2>/dev/null || fail "restore 3d"
check_rows out.db

note "4. altered replicas are refused, naming the object, writing nothing"
snap=$(ls rep/generations/$G2/snapshots/*.snapshot.lz4 | tail -n 1)
seg=$(ls rep/generations/$G2/wal/*.wal.lz4 | tail -n 1)
[ "$(stat -c %s "$snap")" -gt $((3 * 65552)) ] || fail "the snapshot has fewer than 4 chunks"
# tamper NAME OBJECT PYTHON-OP: alter a copy of the replica; restore must fail.
tamper() {
	rm -rf rt; cp -a rep rt
	obj=rt/${2#rep/}
	$PY - "$obj" "$3" <<'EOF' || fail "tamper script"
import sys
p, op = sys.argv[1], sys.argv[2]
b = bytearray(open(p, "rb").read())
hdr = b.index(b"\n--- ") + 1
start = b.index(b"\n", hdr) + 1 + 16          # after the MAC line and nonce
C = 65536 + 16
chunks = [bytes(b[k:k + C]) for k in range(start, len(b), C)]
if op == "flip-mid":
    b[len(b) // 2] ^= 0x01
elif op == "flip-header":
    b[40] ^= 0x01
elif op == "flip-mac":
    b[hdr + 10] ^= 0x01
elif op == "cut":
    del b[-1]
elif op == "append":
    b += b"\0"
elif op in ("swap", "drop", "dup"):
    if op == "swap":
        chunks[0], chunks[1] = chunks[1], chunks[0]
    elif op == "drop":
        del chunks[1]
    else:
        chunks.insert(1, chunks[0])
    b = b[:start] + b"".join(chunks)
open(p, "wb").write(bytes(b))
EOF
	rm -f out.db
	"$LSC" restore --age-identity-file "$T/k1.txt" -o out.db "file://$T/rt" 2> r.err &&
	    fail "$1: the altered replica restored"
	grep -q "${2#rep/}" r.err || { cat r.err; fail "$1: the object is not named"; }
	no_output out.db
	echo "$1: $(grep 'litestream-c: restore:' r.err | sed 's/.*restore: //' | cut -c1-160)"
}
tamper "flipped payload byte (segment)" "$seg" flip-mid
tamper "flipped header byte (segment)" "$seg" flip-header
tamper "flipped MAC (snapshot)" "$snap" flip-mac
tamper "flipped payload byte (snapshot)" "$snap" flip-mid
tamper "cut by one byte (segment)" "$seg" cut
tamper "one byte appended (snapshot)" "$snap" append
tamper "snapshot chunks 0 and 1 swapped" "$snap" swap
tamper "snapshot chunk 1 dropped" "$snap" drop
tamper "snapshot chunk 0 repeated" "$snap" dup
# A plain segment among encrypted ones: the same bytes, unencrypted.
rm -rf rt; cp -a rep rt
age -d -i k1.txt "$seg" > "rt/${seg#rep/}" || fail "age -d"
rm -f out.db
"$LSC" restore --age-identity-file "$T/k1.txt" -o out.db "file://$T/rt" 2> r.err && fail "a mixed generation restored"
grep -q "mixes encrypted and plain objects: '${seg#rep/}' is plain" r.err || { cat r.err; fail "mixed: unclear"; }
no_output out.db

note "5. objects made by the lz4 and age CLIs restore exactly"
rm -rf rc
for f in $(find rep/generations/$G2 -type f -name '*.lz4'); do
	mkdir -p "rc/$(dirname "${f#rep/}")"
	age -d -i k2.txt "$f" | lz4 -dc | lz4 -c -z | age -r "$R3" > "rc/${f#rep/}" ||
	    fail "re-encoding $f"
done
rm -f out.db
"$LSC" restore --age-identity-file "$T/k3.txt" -o out.db "file://$T/rc" 2> r.log || { cat r.log; fail "CLI objects"; }
check_rows out.db

note "6. encryption off, on, new recipients: a new generation each time"
write_config
run_daemon d5.log
grep -q 'reason="encryption was turned off (no age-recipient)"' d5.log || { cat d5.log; fail "no new generation (off)"; }
G3=$(gen_of d5.log)
$PY "$W" app.db ids.log --count 20 --pace 2 >/dev/null || fail "writer"
stop
for f in $(find rep/generations/$G3 -type f); do
	[ "$(od -A n -t x1 -N 4 "$f" | tr -d ' ')" = 04224d18 ] || fail "$f is not a plain LZ4 frame"
done
grep -q -a -F "SQLite format 3" rep/generations/$G3/snapshots/* ||
    fail "control: the plain snapshot shows no plaintext, so the search proves nothing"
rm -f out.db
"$LSC" restore -o out.db "file://$T/rep" 2>/dev/null || fail "plain restore needs no key"
check_rows out.db
rm -f out.db
"$LSC" restore --generation "$G2" -o out.db "file://$T/rep" 2> r.err && fail "an encrypted generation without a key"
grep -q "set age-identity-file" r.err || fail "no hint (older generation)"
write_config "$R1"
run_daemon d6.log
grep -q 'reason="encryption was turned on (age-recipient)"' d6.log || { cat d6.log; fail "no new generation (on)"; }
stop
write_config "$R1" "$R3"
run_daemon d7.log
grep -q 'reason="the age recipients changed"' d7.log || { cat d7.log; fail "no new generation (recipients)"; }
$PY "$W" app.db ids.log --count 20 --pace 2 >/dev/null || fail "writer"
stop
write_config "$R3" "$R1"
run_daemon d8.log
grep -q "resumed generation" d8.log || fail "the same recipients in another order are not the same set"
grep -q "new generation" d8.log && fail "a new generation for reordered recipients"
stop
[ "$(gens)" = 6 ] || fail "expected 6 generations, got $(gens)"
rm -f out.db
"$LSC" restore --age-identity-file "$T/k3.txt" -o out.db "file://$T/rep" 2>/dev/null || fail "restore with the new key"
check_rows out.db
touch release; wait $HOLDER

note "7. replicate --restore-if-missing: the key from age-identity-file"
mkdir m2
sed "s|$T/app.db|$T/m2/app.db|" c.ini > m2.ini
"$LSC" replicate -c m2.ini --restore-if-missing --exec true 2> m2a.log &&
    fail "restored without a key"
grep -q "is encrypted (age); set age-identity-file" m2a.log || { cat m2a.log; fail "no hint (restore-if-missing)"; }
[ ! -e m2/app.db ] || fail "m2/app.db written without a key"
echo "age-identity-file = $T/k3.txt" >> m2.ini
"$LSC" replicate -c m2.ini --restore-if-missing --exec true 2> m2b.log || { cat m2b.log; fail "--restore-if-missing"; }
grep -q "restored from the replica" m2b.log || fail "no restore logged"
check_rows m2/app.db
echo "ok: $(gens) generations, $(tail -n 1 ids.log) commits, every restore exact"
