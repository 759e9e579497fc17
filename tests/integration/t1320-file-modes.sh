#!/bin/sh
# Issue 11 defect 5: copies of a private database stay private.  Under
# umask 022, every file and directory the daemon creates (the local state
# directory, the generation file, shadow WAL files, the file replica's
# directories and objects) gets the database's mode (directories: x where
# r): a 0600 database gives 0600/0700, a 0640 one 0640/0750.  Before the
# fix they were 0644/0755 whatever the database's mode.
. "$(dirname "$0")/lib.sh"
cd "$T"
umask 022
for dbmode in 600 640; do
	rm -rf app.db app.db-wal app.db-shm .app.db-litestream rep
	sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);" >/dev/null
	chmod "$dbmode" app.db
	case $dbmode in 600) fm=600 dm=700 ;; 640) fm=640 dm=750 ;; esac
	cat > c.ini <<EOC
[db "$T/app.db"]
replica = file://$T/rep
sync-interval = 100ms
EOC
	chmod 600 c.ini
	bg "$LSC" replicate -c c.ini 2> d.log; D=$BGPID
	wait_for 10 grep -q "snapshot written" d.log || fail "no snapshot: $(cat d.log)"
	/usr/bin/python3 "$ROOT/tests/tools/stress_writer.py" app.db 20 >/dev/null || fail writer
	wait_for 10 sh -c "ls rep/generations/*/wal | grep -v -q '^00000000_00000000'" || fail "no second segment"
	kill -TERM $D; wait $D || fail "daemon exit status $?"
	n=0
	for f in $(find .app.db-litestream rep); do
		want=$fm
		[ -d "$f" ] && want=$dm
		got=$(stat -c %a "$f")
		[ "$got" = "$want" ] || fail "database $dbmode: $f has mode $got, want $want"
		n=$((n + 1))
	done
	[ "$n" -ge 8 ] || fail "expected files to check, found $n"
	note "database $dbmode: $n files and directories have mode $fm/$dm"
done
echo "ok: state and replica copies follow the database's mode under umask 022"
