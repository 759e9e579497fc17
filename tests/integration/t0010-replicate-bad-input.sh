#!/bin/sh
# The daemon refuses bad input with one line naming what is wrong and a
# non-zero status, and harms nothing: a database's missing directory,
# unreadable and malformed configs, an unwritable replica directory, a bad
# URL, usage.
. "$(dirname "$0")/lib.sh"
cd "$T"
sqlite3 app.db "CREATE TABLE t(x)" >/dev/null
expect() { # STATUS PATTERN CMD...
	want=$1 pat=$2; shift 2
	"$@" > out.txt 2> err.txt; got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, want $want: $(cat err.txt)"
	grep -q -- "$pat" err.txt || fail "'$*': no '$pat' in: $(cat err.txt)"
	[ "$(wc -l < err.txt)" -le 2 ] || fail "'$*': more than a short error: $(cat err.txt)"
}
expect 2 "usage" "$LSC" replicate a b c
expect 2 "unknown command" "$LSC" frobnicate
expect 2 "cannot read config '$T/nope.ini'" "$LSC" replicate -c "$T/nope.ini"
printf '[db "%s/app.db"]\nreplica = file://%s/rep\nsync-intervall = 1s\n' "$T" "$T" > bad.ini
expect 2 "bad.ini:3: unknown key 'sync-intervall'" "$LSC" replicate -c bad.ini
printf '[db "%s/app.db"]\nreplica = file://%s/rep\nsync-interval = 1d\n' "$T" "$T" > bad2.ini
expect 2 "bad2.ini:3: sync-interval: bad duration '1d'" "$LSC" replicate -c bad2.ini
# A missing database is waited for (t4500), but not a missing directory.
printf '[db "%s/nodir/missing.db"]\nreplica = file://%s/rep\n' "$T" "$T" > missing.ini
expect 1 "directory '$T/nodir' of database '$T/nodir/missing.db' does not exist" "$LSC" replicate -c missing.ini
[ -e nodir ] && fail "a missing directory was created"
expect 2 "must be file:///dir or s3://" "$LSC" replicate app.db ftp://x/y
mkdir ro && chmod 555 ro
if [ "$(id -u)" = 0 ] && [ -w ro ]; then
	# root writes anywhere: use a path below a regular file instead
	expect 1 "replica directory '$T/app.db/rep' is not writable" "$LSC" replicate app.db "file://$T/app.db/rep"
else
	expect 1 "is not writable" "$LSC" replicate app.db "file://$T/ro/rep"
fi
[ "$(sqlite3 app.db 'PRAGMA integrity_check')" = ok ] || fail "database harmed"
echo "ok: every bad input refused with one line"
