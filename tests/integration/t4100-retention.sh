#!/bin/sh
# Retention on a file replica: old generations, snapshots and WAL go while
# restores (ours and Litestream v0.3.13's) race the deletes and never fail;
# the newest chain stays; both restorers give the committed rows at the end.
# The scenario is in lib-retention.sh (shared with the S3 test t4110).
. "$(dirname "$0")/lib.sh"
[ -x "$LITESTREAM" ] || skip "Litestream v0.3.13 not installed (npm ci)"
cd "$T"
URL="file://$T/rep"
ls_restore() { "$LITESTREAM" restore -o "$1" "$URL"; }
LS_RACING=1
. "$ROOT/tests/integration/lib-retention.sh"
# On a file replica nothing of generation A may be left, not even its
# directories.
[ "$(ls rep/generations)" = "$GB" ] || fail "left in rep/generations: $(ls rep/generations)"
echo "ok: retention on a file replica"
