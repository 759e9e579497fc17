#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A model-checked workload for recovery tests (stdlib only).

    model.py write DB --seed S [--steps N] [--seconds T] [--log FILE]
                      [--stop FILE] [--pause-ms MS] [--mix MIX]
    model.py check DB --seed S [--exact STEP] [--at-least STEP]

`write` runs a deterministic sequence of steps against DB (created if
missing, in WAL mode).  Step i is derived from (seed, i) and from the
committed state before it, so the checker can replay it:

    commit    1-4 inserts of random blobs, updates, deletes
    spill     a big transaction (hundreds of 3 KB rows, cache_size=20 so
              SQLite spills it to the WAL before it commits), committed
    rollback  a small or spilling transaction, then ROLLBACK
    vacuum    VACUUM (no change to the content)
    truncate  the app's own PRAGMA wal_checkpoint(TRUNCATE) (busy_timeout
              20 ms, as an app should give it), no change to the content
    passive   PRAGMA wal_checkpoint(PASSIVE)

Every committing step also sets model_meta.step = i in the same
transaction, so a database tells which step it is the state after.  Each
committed step is appended to --log as "commit <i>" (after COMMIT
returns), and the last line is "done <i>" when the writer ends normally.

`check` opens a restored DB read-only, reads model_meta.step = k, replays
steps 1..k in memory and compares every row: the restore must be exactly
the state after committed step k (a committed prefix).  With --exact it
must be that step; with --at-least, no earlier.  It prints "ok step=k
rows=n" or "FAIL: ..." (exit 1).

--mix sets the relative weights, e.g. "commit=80,spill=4,rollback=6,
vacuum=2,truncate=4,passive=4" (the default).
"""
import argparse
import hashlib
import os
import random
import sqlite3
import sys
import time

DEFAULT_MIX = "commit=80,spill=4,rollback=6,vacuum=2,truncate=4,passive=4"
SCHEMA = ("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB);"
          "CREATE TABLE IF NOT EXISTS model_meta(id INTEGER PRIMARY KEY,"
          " step INTEGER);")


def parse_mix(text):
    mix = []
    for part in text.split(","):
        k, w = part.split("=")
        mix.append((k.strip(), int(w)))
    return mix


def step_rng(seed, i):
    return random.Random(hashlib.sha256(("%s:%d" % (seed, i)).encode())
                         .digest())


def plan_step(seed, i, mix, state):
    """The step's kind and, for writes, its operations, from the state
    (dict id -> blob, and next id) before it.  Pure."""
    rng = step_rng(seed, i)
    total = sum(w for _, w in mix)
    r = rng.randrange(total)
    for kind, w in mix:
        if r < w:
            break
        r -= w
    ops = []
    rows, next_id = state
    if kind in ("commit", "rollback"):
        big = kind == "rollback" and rng.random() < 0.5
        n = rng.randrange(40, 400) if big else rng.randrange(1, 5)
        ids = sorted(rows)
        for _ in range(n):
            what = rng.random()
            if what < 0.6 or not ids or big:
                ops.append(("ins", next_id, rng.randbytes(
                    3000 if big else rng.randrange(50, 3000))))
                next_id += 1
            elif what < 0.85:
                ops.append(("upd", rng.choice(ids),
                            rng.randbytes(rng.randrange(50, 3000))))
            else:
                victim = rng.choice(ids)
                ids.remove(victim)
                ops.append(("del", victim, None))
    elif kind == "spill":
        # 50-400 rows of 3 KB: spilled (cache_size=20), and often more
        # than one 256-frame batch of the daemon's capture.
        for _ in range(rng.randrange(50, 400)):
            ops.append(("ins", next_id, rng.randbytes(3000)))
            next_id += 1
        # Rewrite some rows of this very transaction: SQLite then rewrites
        # frames (and their checksums) it already spilled.
        for _ in range(rng.randrange(5, 40)):
            j = rng.randrange(len(ops))
            if ops[j][0] == "ins":
                ops.append(("upd", ops[j][1], rng.randbytes(3000)))
    return kind, ops


def apply_ops(state, ops):
    rows, next_id = state
    for op, rid, blob in ops:
        if op in ("ins", "upd"):
            rows[rid] = blob
            if op == "ins":
                next_id = max(next_id, rid + 1)
        else:
            rows.pop(rid, None)
    return rows, next_id


def run_sql(c, ops):
    for op, rid, blob in ops:
        if op == "ins":
            c.execute("INSERT INTO t(id, v) VALUES (?, ?)", (rid, blob))
        elif op == "upd":
            c.execute("UPDATE t SET v = ? WHERE id = ?", (blob, rid))
        else:
            c.execute("DELETE FROM t WHERE id = ?", (rid,))


def cmd_write(a):
    mix = parse_mix(a.mix)
    c = sqlite3.connect(a.db, isolation_level=None, timeout=30)
    c.execute("PRAGMA journal_mode=wal")
    c.executescript(SCHEMA)
    c.execute("PRAGMA busy_timeout=30000")
    log = open(a.log, "a") if a.log else None
    # Resume the model where the database is (a writer restarted on an
    # existing database continues its sequence).
    state = ({}, 1)
    row = c.execute("SELECT step FROM model_meta WHERE id=1").fetchone()
    first = 1
    if row:
        state = replay(a.seed, row[0], mix)
        first = row[0] + 1
    end = time.time() + a.seconds
    i = first
    last = first - 1
    while i < first + a.steps and time.time() < end:
        if a.stop and os.path.exists(a.stop):
            break
        kind, ops = plan_step(a.seed, i, mix, state)
        if kind in ("commit", "spill", "rollback"):
            spilling = kind == "spill" or len(ops) > 100
            c.execute("PRAGMA cache_size=%d" % (20 if spilling else 2000))
            c.execute("BEGIN")
            run_sql(c, ops)
            if kind == "rollback":
                c.execute("ROLLBACK")
            else:
                c.execute("INSERT INTO model_meta(id, step) VALUES (1, ?) "
                          "ON CONFLICT(id) DO UPDATE SET step=excluded.step",
                          (i,))
                c.execute("COMMIT")
                state = apply_ops(state, ops)
                last = i
                if log:
                    log.write("commit %d\n" % i)
                    log.flush()
        elif kind == "vacuum":
            c.execute("VACUUM")
        elif kind == "truncate":
            c.execute("PRAGMA busy_timeout=20")
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            c.execute("PRAGMA busy_timeout=30000")
        elif kind == "passive":
            c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        i += 1
        if a.pause_ms:
            time.sleep(a.pause_ms / 1000.0)
    if log:
        log.write("done %d\n" % last)
        log.close()
    c.close()
    print("writer steps=%d last_commit=%d" % (i - first, last))


def replay(seed, upto, mix):
    state = ({}, 1)
    for i in range(1, upto + 1):
        kind, ops = plan_step(seed, i, mix, state)
        if kind in ("commit", "spill"):
            state = apply_ops(state, ops)
    return state


def cmd_check(a):
    mix = parse_mix(a.mix)
    try:
        # immutable: no -wal or -shm appears beside a restored file.
        c = sqlite3.connect("file:%s?mode=ro&immutable=1" % a.db, uri=True)
        ic = c.execute("PRAGMA integrity_check").fetchone()[0]
        if ic != "ok":
            sys.exit("FAIL: integrity_check: %s" % ic)
        row = c.execute("SELECT step FROM model_meta WHERE id=1").fetchone()
        got = dict(c.execute("SELECT id, v FROM t").fetchall())
    except sqlite3.Error as e:
        sys.exit("FAIL: %s: %s" % (a.db, e))
    k = row[0] if row else 0
    if a.exact is not None and k != a.exact:
        sys.exit("FAIL: restored step %d, want exactly %d" % (k, a.exact))
    if a.at_least is not None and k < a.at_least:
        sys.exit("FAIL: restored step %d, want at least %d" % (k, a.at_least))
    want, _ = replay(a.seed, k, mix)
    if got != want:
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        diff = sorted(r for r in set(got) & set(want) if got[r] != want[r])[:5]
        sys.exit("FAIL: step %d: %d rows, want %d (missing %s, extra %s, "
                 "different %s)" % (k, len(got), len(want), missing, extra,
                                    diff))
    print("ok step=%d rows=%d" % (k, len(got)))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("db")
    w.add_argument("--seed", required=True)
    w.add_argument("--steps", type=int, default=10 ** 9)
    w.add_argument("--seconds", type=float, default=600)
    w.add_argument("--log")
    w.add_argument("--stop")
    w.add_argument("--pause-ms", type=float, default=0)
    w.add_argument("--mix", default=DEFAULT_MIX)
    ch = sub.add_parser("check")
    ch.add_argument("db")
    ch.add_argument("--seed", required=True)
    ch.add_argument("--exact", type=int)
    ch.add_argument("--at-least", type=int)
    ch.add_argument("--mix", default=DEFAULT_MIX)
    a = p.parse_args()
    cmd_write(a) if a.cmd == "write" else cmd_check(a)


if __name__ == "__main__":
    main()
