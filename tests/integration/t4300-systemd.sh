#!/bin/sh
# systemd: both units pass `systemd-analyze verify` with no output at all;
# `systemd-analyze security --offline=yes` scores each at most 2.5 (printed);
# make install puts both units in place with PREFIX applied; the restore
# unit's command line (with %f as systemd expands it) restores a missing
# database and leaves an existing one alone; and the daemon, given a test
# NOTIFY_SOCKET and WATCHDOG_USEC=400000, sends
#   STATUS= with a lag while a database cannot sync yet, and no READY=1;
#   READY=1 once, when both databases' snapshots are in their replicas;
#   STATUS= with a lag when a database fails after READY;
#   WATCHDOG=1 every 200 ms, never 400 ms apart (systemd's limit);
#   STOPPING=1 after SIGTERM and before the process exits.
# The listener (tests/tools/notify_listener.py) stamps each message with
# time.time(), the clock `date +%s.%N` reads, to check that order.
. "$(dirname "$0")/lib.sh"
cd "$T"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "/usr/bin/python3 missing (tests/deps.sh installs it)"
now() { date +%s.%N; }
# le A B: A <= B for decimal numbers.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
sd_missing=""

note "1. units: systemd-analyze verify and security"
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify insists that ExecStart's binary exists: point it at the build.
	mkdir units
	for u in litestream-c.service litestream-c-restore@.service; do
		sed "s|/usr/local/bin/litestream-c|$LSC|" "$ROOT/systemd/$u" > "units/$u"
		grep -q "^ExecStart=$LSC " "units/$u" || fail "$u: ExecStart is not /usr/local/bin/litestream-c"
	done
	# A template is verified through an instance; systemd loads the
	# template from the same directory.
	inst="litestream-c-restore@var-lib-app-app.db.service"
	for u in litestream-c.service "$inst"; do
		systemd-analyze verify "$T/units/$u" > verify.out 2>&1
		rc=$?
		# Unknown keys are only warnings (exit 0): any output fails.
		[ $rc -eq 0 ] && [ ! -s verify.out ] ||
			fail "systemd-analyze verify $u (exit $rc): $(cat verify.out)"
		echo "verify $u: clean"
	done
	if systemd-analyze security --help 2>&1 | grep -q -- --offline; then
		for u in litestream-c.service "$inst"; do
			systemd-analyze security --offline=yes "$T/units/$u" > sec.out 2>&1
			score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' sec.out)
			[ -n "$score" ] || fail "no exposure score for $u: $(tail -n 5 sec.out)"
			echo "exposure $u: $score"
			grep '✗' sec.out | sed 's/^/    /'
			le "$score" 2.5 || fail "$u: exposure $score is above 2.5"
		done
	else
		sd_missing="systemd-analyze security has no --offline (systemd < 250)"
	fi
else
	sd_missing="systemd-analyze not installed (tests/deps.sh installs systemd)"
fi

note "2. make install: both units, ExecStart under PREFIX"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" install BUILD="$BUILD" PREFIX=/usr DESTDIR="$T/dest" > install.log 2>&1 ||
	fail "make install: $(tail -n 5 install.log)"
for u in litestream-c.service litestream-c-restore@.service; do
	f="$T/dest/usr/lib/systemd/system/$u"
	[ -f "$f" ] || fail "make install did not install $u"
	grep -q '^ExecStart=/usr/bin/litestream-c ' "$f" || fail "$u: ExecStart does not follow PREFIX"
	! grep -q /usr/local/ "$f" || fail "$u: still names /usr/local/"
done
[ -x "$T/dest/usr/bin/litestream-c" ] || fail "make install did not install the binary"

note "3. the restore unit's command line"
sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
INSERT INTO t(v) VALUES ('one'), ('two');" >/dev/null
cat > r.ini <<EOF
[db "$T/app.db"]
replica = file://$T/rep-r
EOF
# ExecStart with -c pointed at our config and %f as systemd expands it:
# the unescaped instance name with a leading '/'.
cmd=$(sed -n 's/^ExecStart=//p' "$ROOT/systemd/litestream-c-restore@.service" |
    sed "s|^/usr/local/bin/litestream-c|$LSC|; s|-c /etc/litestream-c.ini|-c $T/r.ini|")
if command -v systemd-escape >/dev/null 2>&1; then
	instance=$(systemd-escape --path "$T/app.db")
	dbpath=$(systemd-escape --unescape --path "$instance")
	dbpath="/${dbpath#/}"
	[ "$dbpath" = "$T/app.db" ] || fail "systemd-escape round trip gave '$dbpath'"
else
	dbpath="$T/app.db"
fi
run_restore() { set -- $(printf "%s\n" "$cmd" | sed "s|%f|$dbpath|"); "$@"; }
mv app.db keep.db
run_restore 2> r1.log || fail "no backup yet must be success: $(cat r1.log)"
[ ! -e app.db ] || fail "restore created a database from an empty replica"
mv keep.db app.db
"$LSC" replicate -c r.ini 2> r2.log & D=$!; LSC_PIDS="$LSC_PIDS $D"
wait_for 20 grep -q "snapshot written" r2.log || fail "no snapshot: $(cat r2.log)"
kill -TERM $D; wait $D || fail "replicate exit status $?"
run_restore 2> r3.log || fail "existing database must be success: $(cat r3.log)"
cp app.db orig.db
rm -f app.db app.db-wal app.db-shm
run_restore 2> r4.log || fail "restore of the missing database failed: $(cat r4.log)"
assert_same_db orig.db app.db
echo "restore unit command: no backup -> no-op, exists -> no-op, missing -> restored"

note "4. sd_notify: READY, STATUS, WATCHDOG, STOPPING"
sql a.db "PRAGMA journal_mode=wal; CREATE TABLE t(x);" >/dev/null
# b.db is not a database yet: its first sync keeps failing until it is.
printf 'this is not an SQLite database, only a placeholder of text\n%.0s' \
    1 2 3 4 5 6 7 8 > b.db
cat > n.ini <<EOF
[db "$T/a.db"]
replica = file://$T/rep-a
sync-interval = 200ms
[db "$T/b.db"]
replica = file://$T/rep-b
sync-interval = 200ms
EOF
bg "$PY" "$ROOT/tests/tools/notify_listener.py" "$T/notify.sock" "$T/notify.log" \
    --glob "$T/rep-[ab]/generations/*/snapshots/*.snapshot.lz4" --timeout 120
wait_for 10 test -S notify.sock || fail "the listener did not bind"
t_start=$(now)
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 "$LSC" replicate -c n.ini 2> n.log &
D=$!; LSC_PIDS="$LSC_PIDS $D"
lagged() { grep -q -E 'STATUS=starting: 1 of 2 databases synced, worst lag [1-9][0-9]*s' notify.log; }
wait_for 20 lagged || fail "no STATUS with a lag while b.db fails: $(cat notify.log)"
grep -q 'READY=1' notify.log && fail "READY=1 before every database synced"
grep -q 'WATCHDOG=1' notify.log || fail "no WATCHDOG=1 while starting"
# Now make b.db a database: the next step opens it and syncs.
sql b-new.db "PRAGMA journal_mode=wal; CREATE TABLE t(y); INSERT INTO t VALUES (1);" >/dev/null
mv b-new.db b.db
t_fixed=$(now)
wait_for 20 grep -q 'READY=1' notify.log || fail "no READY=1 after b.db was fixed: $(tail -n 5 notify.log)"
# After READY: b.db replaced by a directory (its steps fail from now on)
# must show as a growing lag, then stop.  (Not junk bytes: with the old
# b.db-wal beside them SQLite would still read the old database.)
sleep 0.5
rm -f b.db b.db-wal b.db-shm
mkdir b.db
failing() { grep -q -E 'STATUS=2 databases, 1 failing, worst lag [1-9][0-9]*s \(.*/b.db\)' notify.log; }
wait_for 20 failing || fail "no STATUS with b.db's lag after READY: $(tail -n 5 notify.log)"
t_term=$(now)
kill -TERM $D
# b.db cannot be synced any more, and the exit status says so.
rc=0; wait $D || rc=$?
[ $rc = 1 ] || fail "daemon exit status $rc, want 1 (b.db cannot be synced)"
t_exit=$(now)
cp notify.log notify.final
echo "listener log (first 12 and last 4 lines):"
head -n 12 notify.final | sed 's/^/    /'
echo "    ..."
tail -n 4 notify.final | sed 's/^/    /'

[ "$(grep -c 'READY=1' notify.final)" = 1 ] || fail "READY=1 sent more than once"
ready=$(grep -m1 'READY=1' notify.final)
t_ready=${ready%% *}
snaps=$(printf '%s\n' "$ready" | cut -d' ' -f2)
[ "$snaps" = 2 ] || fail "READY=1 arrived with $snaps of 2 snapshots in the replicas"
le "$t_fixed" "$t_ready" || fail "READY=1 ($t_ready) before b.db could sync ($t_fixed)"
grep -q 'STATUS=2 databases, worst lag 0s' notify.final || fail "no healthy STATUS after READY"
stopping=$(grep -m1 'STOPPING=1' notify.final) || fail "no STOPPING=1"
t_stop=${stopping%% *}
le "$t_term" "$t_stop" && le "$t_stop" "$t_exit" ||
	fail "STOPPING=1 at $t_stop is not between SIGTERM ($t_term) and exit ($t_exit)"
awk -v s="$t_stop" '$3 == "WATCHDOG=1" && $1 > s { bad = 1 } END { exit bad }' notify.final ||
	fail "WATCHDOG=1 after STOPPING=1"
# The watchdog: regular from the start to STOPPING, never 400 ms apart.
wd=$(awk -v t0="$t_start" -v s="$t_stop" '
	$3 == "WATCHDOG=1" { n++; if (n == 1) first = $1 - t0; else if ($1 - prev > max) max = $1 - prev; prev = $1 }
	END { printf "%d %.3f %.3f %.3f", n, first, max, s - prev }' notify.final)
set -- $wd
echo "watchdog: $1 pings, first ${2}s after start, largest gap ${3}s, last ${4}s before STOPPING"
[ "$1" -ge 10 ] || fail "only $1 WATCHDOG=1 messages"
le "$2" 0.4 || fail "first WATCHDOG=1 came ${2}s after start"
le "$3" 0.399 || fail "WATCHDOG=1 gap of ${3}s: systemd would have killed the daemon"
le "$4" 0.4 || fail "WATCHDOG=1 stopped ${4}s before STOPPING=1"
lags=$(grep -o 'worst lag [0-9]*s' notify.final | sort -u | tr '\n' ' ')
echo "lags reported: $lags"
grep -q 'ready: every database has made its first sync' n.log || fail "no ready log line"

if [ -n "$sd_missing" ]; then
	skip "$sd_missing; the sd_notify, install and restore parts passed"
fi
echo "ok"
