#!/bin/sh
# Command line of restore and the listing commands: usage errors and bad
# or unreadable configs exit 2 (configs with FILE:LINE), help exits 0,
# and a DB_PATH that the config lacks is a configuration error.
. "$(dirname "$0")/lib.sh"

# expect RC PATTERN CMD...: exit status RC and stderr matching PATTERN.
expect() {
	_want=$1 _pat=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; _rc=$?
	[ "$_rc" = "$_want" ] || { cat "$T/err"; fail "'$*': exit $_rc, want $_want"; }
	grep -q -- "$_pat" "$T/err" || { cat "$T/err"; fail "'$*': stderr lacks '$_pat'"; }
}

U=file://$T/replica
unset LITESTREAM_C_CONFIG
expect 2 "exactly one" "$LSC" restore
expect 2 "exactly one" "$LSC" restore -o "$T/x.db" "$U" extra
expect 2 "cannot be combined" "$LSC" restore --index 1 --timestamp 2026-01-01T00:00:00Z -o "$T/x.db" "$U"
expect 2 "invalid --index" "$LSC" restore --index xyz -o "$T/x.db" "$U"
expect 2 "invalid --index" "$LSC" restore --index 0x10 -o "$T/x.db" "$U"
expect 2 "invalid --index" "$LSC" restore --index 7fffffff -o "$T/x.db" "$U"
expect 2 "invalid --index" "$LSC" restore --index "" -o "$T/x.db" "$U"
expect 2 "invalid --timestamp" "$LSC" restore --timestamp yesterday -o "$T/x.db" "$U"
expect 2 "invalid --timestamp" "$LSC" restore --timestamp 2026-01-01 -o "$T/x.db" "$U"
expect 2 "invalid --generation" "$LSC" restore --generation ABCDEF0123456789 -o "$T/x.db" "$U"
expect 2 "invalid --generation" "$LSC" restore --generation 0123 -o "$T/x.db" "$U"
expect 2 "needs -o" "$LSC" restore "$U"
expect 2 "usage" "$LSC" restore --bogus "$U"
expect 2 "must start with file://" "$LSC" restore -o "$T/x.db" "ftp://host/x"
expect 2 "must be file:///absolute" "$LSC" restore -o "$T/x.db" "file://relative/x"
"$LSC" restore --help | grep -q "in HEX" || fail "restore --help does not document the hex --index"
[ ! -e "$T/x.db" ] || fail "a usage error wrote output"

for c in generations snapshots wal; do
	expect 2 "usage" "$LSC" $c
	expect 2 "usage" "$LSC" $c "$U" extra
	expect 2 "usage" "$LSC" $c --bogus "$U"
	"$LSC" $c --help 2>&1 | grep -q "usage" || fail "$c --help"
	# An empty or missing replica is an empty listing, not an error.
	"$LSC" $c "$U" > "$T/out" || fail "$c on an empty replica"
	[ "$(wc -l < "$T/out")" = 1 ] || fail "$c on an empty replica printed more than a header"
	[ "$("$LSC" $c --json "$U")" = "[]" ] || fail "$c --json on an empty replica is not []"
done
expect 2 "usage" "$LSC" databases extra

note "configs"
expect 2 "cannot read config '$T/none.ini'" "$LSC" restore -c "$T/none.ini" "$T/app.db"
expect 2 "cannot read config '$T/none.ini'" "$LSC" restore -c "$T/none.ini" -o "$T/x.db" "$U"
expect 2 "cannot read config '$T/none.ini'" "$LSC" databases -c "$T/none.ini"
expect 2 "cannot read config '$T/none.ini'" "$LSC" generations -c "$T/none.ini" "$T/app.db"
LITESTREAM_C_CONFIG=$T/none.ini expect 2 "cannot read config '$T/none.ini'" "$LSC" snapshots "$T/app.db"
printf '[db "%s"]\nreplica = %s\nbogus-key = 1\n' "$T/app.db" "$U" > "$T/bad.ini"
expect 2 "bad.ini:3" "$LSC" restore -c "$T/bad.ini" -o "$T/x.db" "$T/app.db"
expect 2 "bad.ini:3" "$LSC" wal -c "$T/bad.ini" "$T/app.db"
expect 2 "bad.ini:3" "$LSC" databases -c "$T/bad.ini"
if [ "$(id -u)" != 0 ]; then
	printf '[db "%s"]\nreplica = %s\n' "$T/app.db" "$U" > "$T/unreadable.ini"
	chmod 000 "$T/unreadable.ini"
	expect 2 "unreadable.ini" "$LSC" restore -c "$T/unreadable.ini" -o "$T/x.db" "$T/app.db"
fi
printf '[db "%s"]\nreplica = %s\n' "$T/app.db" "$U" > "$T/good.ini"
expect 2 "is not in" "$LSC" restore -c "$T/good.ini" -o "$T/x.db" "$T/other.db"
expect 2 "is not in" "$LSC" generations -c "$T/good.ini" "$T/other.db"
# Relative DB_PATH is made absolute before the lookup.
(cd "$T" && "$LSC" snapshots -c good.ini app.db) >/dev/null || fail "relative DB_PATH not found in config"
"$LSC" databases -c "$T/good.ini" --json | grep -q "\"path\":\"$T/app.db\"" || fail "databases --json"
# The DB_PATH form restores to DB_PATH, which exists here: refused, exit 1.
: > "$T/app.db"
expect 1 "already exists" "$LSC" restore -c "$T/good.ini" "$T/app.db"
echo ok
