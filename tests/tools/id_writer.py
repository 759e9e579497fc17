#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A writer whose every commit is written down: the model a restore is
checked against (stdlib sqlite3 only).

usage: id_writer.py DB LOG [--count N] [--until FILE] [--pace MS]
                    [--journal wal|delete] [--max-seconds S] [--expect-rows N]

Commits one row per transaction, with ids counting up from one past the
largest already in table t (created if missing) and v = 'row <id>', and
appends each id to LOG once its COMMIT has returned.  So after a clean
stop, LOG's last line is the last committed id, and a faithful replica
restores exactly the ids 1..that with their values.  Stops after N
commits, when FILE exists, or after S seconds (default 120), whichever
comes first; sleeps MS milliseconds between commits (default 0).  With
--journal the database is created in that journal mode (default wal).
With --expect-rows it first checks that t holds exactly N rows (an app
that must find its restored data) and exits 90 if not.
"""
import argparse
import os
import sqlite3
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("db")
ap.add_argument("log")
ap.add_argument("--count", type=int, default=0)
ap.add_argument("--until")
ap.add_argument("--pace", type=float, default=0)
ap.add_argument("--journal", default="wal")
ap.add_argument("--max-seconds", type=float, default=120)
ap.add_argument("--expect-rows", type=int)
a = ap.parse_args()

# A busy timeout, as every app replicated by litestream-c (or Litestream)
# needs: the daemon takes the write lock now and then (checkpoints, its
# own bookkeeping row).
c = sqlite3.connect(a.db, timeout=10, isolation_level=None)
c.execute("PRAGMA busy_timeout=10000")
c.execute("PRAGMA journal_mode=%s" % a.journal)
c.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT)")
if a.expect_rows is not None:
    n = c.execute("SELECT count(*) FROM t").fetchone()[0]
    if n != a.expect_rows:
        print("id_writer: found %d rows, expected %d" % (n, a.expect_rows))
        sys.exit(90)
i = c.execute("SELECT coalesce(max(id), 0) FROM t").fetchone()[0]
log = open(a.log, "a")
end = time.time() + a.max_seconds
done = 0
while time.time() < end:
    if a.count and done >= a.count:
        break
    if a.until and os.path.exists(a.until):
        break
    i += 1
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO t(id, v) VALUES (?, ?)", (i, "row %d" % i))
    c.execute("COMMIT")
    log.write("%d\n" % i)
    log.flush()
    done += 1
    if a.pace:
        time.sleep(a.pace / 1000.0)
c.close()
print("id_writer: %d commits, last id %d" % (done, i))
