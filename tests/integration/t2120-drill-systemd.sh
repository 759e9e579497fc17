#!/bin/sh
# The drill's systemd units: litestream-c-drill@.service and its .timer
# pass `systemd-analyze verify` with no output at all (through an
# instance, as systemd loads a template), the service scores at most 2.5
# in `systemd-analyze security --offline=yes`, the timer is daily with a
# randomized delay, make install puts both in place with PREFIX applied,
# and the service's command line (with %f as systemd expands it) runs a
# drill of a configured database that passes.
. "$(dirname "$0")/lib.sh"
cd "$T"
SVC=litestream-c-drill@.service
TMR=litestream-c-drill@.timer
inst=litestream-c-drill@var-lib-app-app.db
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

grep -q '^OnCalendar=daily$' "$ROOT/systemd/$TMR" || fail "timer is not daily"
grep -q '^RandomizedDelaySec=' "$ROOT/systemd/$TMR" || fail "timer has no randomized delay"
grep -q 'OnFailure=' "$ROOT/systemd/$SVC" || fail "OnFailure= is not documented in the unit"

if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir units
	for u in $SVC $TMR; do
		sed "s|/usr/local/bin/litestream-c|$LSC|" "$ROOT/systemd/$u" > "units/$u"
	done
	grep -q "^ExecStart=$LSC drill " units/$SVC || fail "ExecStart is not /usr/local/bin/litestream-c drill"
	for u in $inst.service $inst.timer; do
		systemd-analyze verify "$T/units/$u" > verify.out 2>&1; rc=$?
		[ $rc -eq 0 ] && [ ! -s verify.out ] || fail "systemd-analyze verify $u (exit $rc): $(cat verify.out)"
		echo "verify $u: clean"
	done
	if systemd-analyze security --help 2>&1 | grep -q -- --offline; then
		systemd-analyze security --offline=yes "$T/units/$inst.service" > sec.out 2>&1
		score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' sec.out)
		[ -n "$score" ] || fail "no exposure score: $(tail -n 5 sec.out)"
		echo "exposure $inst.service: $score"
		le "$score" 2.5 || fail "exposure $score is above 2.5"
	fi
else
	echo "systemd-analyze not installed: units not verified"
fi

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" install BUILD="$BUILD" PREFIX=/usr DESTDIR="$T/dest" > install.log 2>&1 ||
	fail "make install: $(tail -n 5 install.log)"
for u in $SVC $TMR; do
	[ -f "$T/dest/usr/lib/systemd/system/$u" ] || fail "make install did not install $u"
	! grep -q /usr/local/bin "$T/dest/usr/lib/systemd/system/$u" || fail "$u: still names /usr/local/bin"
done
grep -q '^ExecStart=/usr/bin/litestream-c drill ' "$T/dest/usr/lib/systemd/system/$SVC" || fail "ExecStart does not follow PREFIX"

# The service's command line, as systemd would run it: %f is the
# unescaped instance with a leading '/'; -c and --tmpdir pointed here.
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(v); INSERT INTO t VALUES (1);" >/dev/null
printf '[db "%s/app.db"]\nreplica = file://%s/rep\n' "$T" "$T" > c.ini
bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
wait_for 20 grep -q "snapshot written" d.log || fail "no snapshot"
kill -TERM "$D"; wait "$D" || fail "daemon exit status $?"
mkdir vartmp
cmd=$(sed -n 's/^ExecStart=//p' "$ROOT/systemd/$SVC" |
    sed "s|^/usr/local/bin/litestream-c|$LSC|; s|-c /etc/litestream-c.ini|-c $T/c.ini|; s|--tmpdir /var/tmp|--tmpdir $T/vartmp|; s|%f|$T/app.db|")
echo "running: $cmd"
sh -c "$cmd" > out 2> err || { cat out err; fail "the unit's drill failed"; }
tail -n 1 out | grep -q "^drill: pass" || fail "no pass summary: $(tail -n 1 out)"
[ -z "$(ls -A vartmp)" ] || fail "files left in --tmpdir"
echo "ok: drill units verify, install and run"
