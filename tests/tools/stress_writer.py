#!/usr/bin/python3
"""Concurrent writer for replication tests (stdlib sqlite3 only).

usage: stress_writer.py DB N [CHECKPOINT_MODE]

Commits N one-row transactions (1500-byte blobs); with CHECKPOINT_MODE
(PASSIVE, RESTART or TRUNCATE) it also runs that checkpoint every 50
commits, as an application might, with a short busy timeout so that the
backup's read lock makes it return busy instead of stalling its writers.
Prints how many of its checkpoints were busy.
"""
import sqlite3
import sys

db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
n = int(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else ""
busy = 0
for i in range(n):
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO t(v) VALUES (randomblob(1500))")
    db.execute("COMMIT")
    if mode and i % 50 == 49:
        db.execute("PRAGMA busy_timeout=20")
        busy += db.execute("PRAGMA wal_checkpoint(%s)" % mode).fetchone()[0]
print("writer mode=%s commits=%d busy_checkpoints=%d" % (mode or "none", n, busy))
