#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/restore_floor.sh [MB] [ROUNDS]: restore of an MB-sized database
# (default 200) from a replica of 1 snapshot + 19 WAL segments, beside the
# floor and Litestream v0.3.13, on a file replica and on S3 (s3rver).
#
# The replica: a database of 1 KiB random rows (4 KiB pages), half of MB
# when the snapshot is taken, then grown to MB by a writer committing 50
# rows and 10 updates of random older rows per transaction, in batches
# that `litestream-c replicate` (sync-interval 3s) ships as they come,
# for 19 WAL segments (one of them the daemon's first, empty WAL; a
# batch the daemon's timer splits makes one more).  Every restore below
# reads that same replica.
#
# Each round runs, in an order that rotates from round to round:
#   floor         `cat OBJECTS | lz4 -dc > out; sync out`: read and
#                 decompress every object once and write the bytes out,
#                 durably (a restore fsyncs its output too); floor_nosync
#                 is the same without the sync (the issue's definition)
#   litestream-c  `litestream-c restore -o out REPLICA`
#   before        the same with $BEFORE, another litestream-c binary, when
#                 set (to compare two builds in one run)
#   litestream    `litestream restore -o out REPLICA` (v0.3.13)
# and the same restores from s3rver (S3=0 skips them), with two S3 floors:
# `curl` of each object in turn | lz4 -dc > out; sync out, and 4 `curl`s
# at a time into files, then the same from those; the faster is the floor.
# Printed: the median wall time, peak RSS and CPU time (user + system,
# GNU time; what the machine's other load disturbs least) of each over
# ROUNDS rounds (default 5), and the wall time's ratios to the floor and
# to Litestream.
# Every litestream-c output must equal the source database byte for
# byte; Litestream's must hold the same rows.
# TXN_ROWS=N changes the rows per transaction (fewer: hotter pages).
# KEEP=1 keeps the work directory; REUSE=DIR reuses one kept before
# (its replica and source database) instead of building a new one.
# Run by hand; not part of make test.
set -eu
MB=${1:-200}
ROUNDS=${2:-5}
TXN_ROWS=${TXN_ROWS:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LSC=$ROOT/build/litestream-c
LS=$ROOT/node_modules/@flydotio/litestream-linux-x64/litestream
S3RVER=$ROOT/node_modules/.bin/s3rver
PY=/usr/bin/python3
BEFORE=${BEFORE:-}
[ -x "$LSC" ] || { echo "run: make" >&2; exit 2; }
[ -x "$LS" ] || { echo "run: npm ci (Litestream v0.3.13)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is missing" >&2; exit 2; }
command -v lz4 >/dev/null || { echo "lz4 is missing" >&2; exit 2; }
if [ -n "${REUSE:-}" ]; then
	W=$REUSE
	KEEP=1
else
	W=$(mktemp -d /tmp/lsc-restore-bench.XXXXXX)
fi
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || :; done
	rm -rf "$W/out" "$W/s3"
	[ "${KEEP:-0}" = 1 ] && echo "work directory kept: $W" || rm -rf "$W"
}
trap cleanup EXIT INT TERM

if [ -n "${REUSE:-}" ]; then
	TXN_ROWS=$(cat "$W/txn_rows" 2>/dev/null || echo "?")
else
	echo "$TXN_ROWS" > "$W/txn_rows"
	$PY - "$LSC" "$W" "$MB" 19 "$TXN_ROWS" <<'EOF'
import glob, os, random, sqlite3, subprocess, sys, time
lsc, w, mb, nseg, txn = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
db = w + "/app.db"
c = sqlite3.connect(db, isolation_level=None)
c.execute("PRAGMA journal_mode=wal")
c.execute("PRAGMA wal_autocheckpoint=0")	# the daemon checkpoints
c.execute("PRAGMA synchronous=NORMAL")	# as apps run WAL
c.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
c.execute("BEGIN")
for i in range(mb * 1024 // 2):
    c.execute("INSERT INTO t(v) VALUES (?)", (os.urandom(1000),))
c.execute("COMMIT")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
with open(w + "/c.ini", "w") as f:
    f.write('[db "%s"]\nreplica = file://%s/rep\nsync-interval = 3s\n' % (db, w))
os.chmod(w + "/c.ini", 0o600)
d = subprocess.Popen([lsc, "replicate", "-c", w + "/c.ini"], stderr=open(w + "/d.log", "w"))
def segs():
    return len(glob.glob(w + "/rep/generations/*/wal/*.wal.lz4"))
def wait(f, what, limit=300):
    t = time.time()
    while not f():
        if time.time() - t > limit or d.poll() is not None:
            sys.exit("builder: no %s in %d s (see %s/d.log)" % (what, limit, w))
        time.sleep(0.02)
wait(lambda: glob.glob(w + "/rep/generations/*/snapshots/*.snapshot.lz4"), "snapshot")
wait(lambda: segs() >= 1, "first WAL segment")
rng = random.Random(1)
n = c.execute("SELECT max(id) FROM t").fetchone()[0]
# The other half in batches, one a segment: the daemon's sync timer may
# split a batch, so each batch is what is left over the segments left.
left = mb * 1024 // 2
while left > 0:
    have = segs()
    per = max(txn, left // max(1, nseg - have))
    for j in range(0, min(per, left), txn):
        c.execute("BEGIN")
        for _ in range(txn):
            c.execute("INSERT INTO t(v) VALUES (?)", (os.urandom(1000),))
        n += txn
        for _ in range(txn // 5):
            c.execute("UPDATE t SET v = ? WHERE id = ?", (os.urandom(1000), rng.randint(1, n)))
        c.execute("COMMIT")
    left -= min(per, left)
    wait(lambda: segs() > have, "segment %d" % (have + 1))
d.terminate()
if d.wait() != 0:
    sys.exit("builder: the daemon failed (see %s/d.log)" % w)
c.close()	# the last connection: SQLite checkpoints the WAL into app.db
EOF
fi
find "$W/rep" -name '*.lz4' | sort > "$W/objects"
nsnap=$(grep -c '\.snapshot\.lz4$' "$W/objects")
nseg=$(grep -c '\.wal\.lz4$' "$W/objects")
raw=$(cat $(cat "$W/objects") | lz4 -dc | wc -c)
echo "database $(( $(stat -c %s "$W/app.db") / 1048576 )) MiB; replica: $nsnap snapshot, $nseg WAL segments," \
    "$(( $(cat $(cat "$W/objects") | wc -c) / 1048576 )) MiB stored, $((raw / 1048576)) MiB decompressed; $TXN_ROWS rows a transaction"
WANT="SELECT count(*), sum(length(v)), sum(id * length(v)) FROM t"
want=$(sqlite3 "$W/app.db" "$WANT")
mkdir -p "$W/out"
: > "$W/results"

# S3: s3rver on a free 127.0.0.1 port, holding a copy of the replica.
S3=${S3:-1}
[ -x "$S3RVER" ] && command -v node >/dev/null || S3=0
if [ "$S3" = 1 ]; then
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3
	export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
	PORT=$($PY -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
	mkdir -p "$W/s3"
	NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" --address 127.0.0.1 --port "$PORT" \
	    --directory "$W/s3" --silent --configure-bucket bkt > "$W/s3rver.log" 2>&1 &
	PIDS="$PIDS $!"
	EP=http://127.0.0.1:$PORT
	i=0
	until curl -s -o /dev/null "$EP/"; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "s3rver did not start" >&2; exit 1; }
		sleep 0.1
	done
	$PY - "$EP" "$W/rep" <<'EOF'
import os, sys
import botocore.session
s = botocore.session.get_session().create_client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
root = sys.argv[2]
for d, _, files in sorted(os.walk(root)):
    for f in sorted(files):
        p = os.path.join(d, f)
        with open(p, "rb") as fh:
            s.put_object(Bucket="bkt", Key="rep/" + os.path.relpath(p, root), Body=fh.read())
# s3rver 3.7.1 leaves out of a delimiter listing a "directory" that holds
# only sub-directories (see tests/tools/s3proxy.py --emulate-delimiter), so
# Litestream would find no generation: give each generation a stray key,
# which both tools ignore.
for g in os.listdir(os.path.join(root, "generations")):
    s.put_object(Bucket="bkt", Key="rep/generations/%s/keep" % g, Body=b"")
EOF
	S3URL="s3://bkt/rep?endpoint=$EP&region=us-east-1&path-style=true"
	cat > "$W/ls-s3.yml" <<EOF
dbs:
  - path: $W/app.db
    replicas:
      - type: s3
        bucket: bkt
        path: rep
        endpoint: $EP
        region: us-east-1
        force-path-style: true
        access-key-id: S3RVER
        secret-access-key: S3RVER
EOF
fi

# timed NAME CMD...: one run; appends "NAME ms peak_kib user_s sys_s".
timed() {
	name=$1; shift
	rm -rf "$W/out"; mkdir -p "$W/out"
	sync
	t0=$(date +%s%N)
	/usr/bin/time -f "%M %U %S" -o "$W/rss" "$@" > "$W/run.log" 2>&1 ||
	    { echo "$name failed:"; tail -n 5 "$W/run.log"; exit 1; }
	t1=$(date +%s%N)
	echo "$name $(( (t1 - t0) / 1000000 )) $(tail -n 1 "$W/rss")" >> "$W/results"
}
check_lsc() {	# NAME: byte for byte the source
	cmp -s "$W/out/db" "$W/app.db" || { echo "$1: the restored database differs from the source"; exit 1; }
}
check_ls() {
	[ "$(sqlite3 "$W/out/db" "$WANT")" = "$want" ] || { echo "$1: restored rows differ"; exit 1; }
}
export W EP
run_one() {
	case $1 in
	floor) timed floor sh -c 'cat $(cat "$W/objects") | lz4 -dc > "$W/out/db"; sync "$W/out/db"' ;;
	floor_nosync) timed floor_nosync sh -c 'cat $(cat "$W/objects") | lz4 -dc > "$W/out/db"' ;;
	lsc) timed litestream-c "$LSC" restore -o "$W/out/db" "file://$W/rep"; check_lsc litestream-c ;;
	before) timed before "$BEFORE" restore -o "$W/out/db" "file://$W/rep"; check_lsc before ;;
	ls) timed litestream "$LS" restore -o "$W/out/db" "file://$W/rep"; check_ls litestream ;;
	s3floor) timed s3:floor sh -c 'sed "s|^$W/rep/||" "$W/objects" | while read -r k; do curl -sf "$EP/bkt/rep/$k"; done | lz4 -dc > "$W/out/db"; sync "$W/out/db"' ;;
	s3floor4) timed s3:floor_par4 sh -c 'mkdir "$W/out/dl" && sed "s|^$W/rep/||" "$W/objects" |
	    xargs -P4 -I{} sh -c "curl -sf -o \"$W/out/dl/\$(echo {} | tr / _)\" \"$EP/bkt/rep/{}\"" &&
	    cat $(ls -d "$W"/out/dl/* | sort) | lz4 -dc > "$W/out/db" && sync "$W/out/db"' ;;
	s3lsc) timed s3:litestream-c "$LSC" restore -o "$W/out/db" "$S3URL"; check_lsc s3:litestream-c ;;
	s3before) timed s3:before "$BEFORE" restore -o "$W/out/db" "$S3URL"; check_lsc s3:before ;;
	s3ls) timed s3:litestream "$LS" restore -config "$W/ls-s3.yml" -o "$W/out/db" "$W/app.db"; check_ls s3:litestream ;;
	esac
}
set -- floor floor_nosync lsc ls
[ -z "$BEFORE" ] || set -- "$@" before
[ "$S3" = 0 ] || set -- "$@" s3floor s3floor4 s3lsc s3ls
[ "$S3" = 0 ] || [ -z "$BEFORE" ] || set -- "$@" s3before
r=0
while [ $r -lt "$ROUNDS" ]; do
	# rotate the order by r
	i=0
	for x in "$@"; do
		[ $i -lt $(( r % $# )) ] && rest="${rest:-} $x" || first="${first:-} $x"
		i=$((i + 1))
	done
	for x in $first ${rest:-}; do run_one "$x"; done
	first="" rest=""
	r=$((r + 1))
done

$PY - "$W/results" "$ROUNDS" <<'EOF'
import statistics, sys
rows = {}
for l in open(sys.argv[1]):
    n, ms, kb, us, ss = l.split()
    rows.setdefault(n, []).append((int(ms) / 1000, int(kb), float(us) + float(ss)))
med = {n: tuple(statistics.median(r[i] for r in v) for i in range(3)) for n, v in rows.items()}
def floor(side):	# the fastest durable floor of that side
    f = [med[n][0] for n in med if n.startswith(side + "floor") and "nosync" not in n]
    return min(f) if f else None
print("medians of %s interleaved rounds" % sys.argv[2])
print("%-16s %8s %10s %9s %12s %7s  %s" % ("", "wall_s", "peak_MiB", "÷floor", "÷litestream", "cpu_s",
    "runs (wall s)"))
for n in rows:
    side = "s3:" if n.startswith("s3:") else ""
    fl = floor(side)
    ls = med.get(side + "litestream", (None,))[0]
    t, k, cpu = med[n]
    print("%-16s %8.3f %10.1f %9s %12s %7.2f  %s" % (n, t, k / 1024,
        "%.2f" % (t / fl) if fl else "-", "%.2f" % (t / ls) if ls else "-", cpu,
        " ".join("%.2f" % x[0] for x in rows[n])))
EOF
