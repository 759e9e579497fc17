#!/bin/sh
# The crash-point loop of t1400 on an S3 replica (s3rver), with a
# database of about 12 MB and 5 MiB parts, so that every snapshot is a
# multipart upload and multipart.after-part is reached: a kill -9 between
# parts leaves no object (an upload is all or nothing), and the restart
# takes a new snapshot.  Same oracle as t1400 (lib-crash.sh): every
# restore a committed prefix never older than an earlier one, restarts
# exit 0 with every step committed before SIGTERM, final restore exact by
# us and by Litestream v0.3.13.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3lib.sh"
CRASH_LSC="$BUILD/crash/litestream-c"
[ -x "$CRASH_LSC" ] || skip "$CRASH_LSC not built"
MAXN=${CRASH_MAX_N:-1}
POINTS=${CRASH_POINTS:-"multipart.after-part snapshot.after-put ship.after-put upload.chunk"}
SEED=${SEED:-$$}
M="/usr/bin/python3 $ROOT/tests/tools/model.py"
MIX="commit=85,spill=2,rollback=5,vacuum=1,truncate=4,passive=3"
cd "$T"
s3_start --emulate-delimiter
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_REGION
URL="s3://bkt/db?endpoint=$EP&region=us-east-1"
cat > c.ini <<EOC
[s3]
endpoint = $EP
region = us-east-1
path-style = true
part-size = 5MiB

[db "$T/app.db"]
replica = s3://bkt/db
sync-interval = 100ms
snapshot-interval = 2s
checkpoint-interval = 500ms
min-checkpoint-page-count = 200
EOC
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
LITESTREAM_RESTORE_ARGS="-config l.yml $T/app.db"
$M write app.db --seed "$SEED" --mix "$MIX" --steps 0 >/dev/null || fail "model writer cannot create the database"
# About 12 MB that the model does not check (integrity_check does).
sql app.db "CREATE TABLE pad(b BLOB); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL
  SELECT i + 1 FROM c WHERE i < 48) INSERT INTO pad SELECT randomblob(262144) FROM c;" >/dev/null
bg $M write app.db --seed "$SEED" --mix "$MIX" --log w.log --stop stop-writer --pause-ms 8 --seconds 7200
WRITER=$BGPID
note "seed $SEED, points: $(echo $POINTS | wc -w), N up to $MAXN"
. "$ROOT/tests/integration/lib-crash.sh"
crash_loop
crash_final
