#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A web-app-like SQLite load, as a Rails or Django app puts on its
database (stdlib only).

    app_latency.py DB [--threads 4] [--rate 800] [--seconds 15]
                      [--style deferred|immediate] [--row-size 1024]

THREADS threads, each with its own connection, SQLite's default busy
handler (the sqlite3 module's timeout=, i.e. sqlite3_busy_timeout: the
sleeps of 1, 2, 5, 10, 15... ms that the Ruby and Python drivers use),
synchronous=NORMAL.  Together they start RATE write transactions a second
on a fixed schedule (open loop: a late one starts at once), each:

    BEGIN (deferred: plain BEGIN, as Rails before 8.0 and most drivers;
           immediate: BEGIN IMMEDIATE)
    SELECT a row (the read that a deferred transaction starts with)
    UPDATE that row and INSERT a row of ROW_SIZE random bytes
    COMMIT

and, beside each, one read-only query.  A transaction's latency runs from
BEGIN to the end of COMMIT.  An error (SQLITE_BUSY, including the
BUSY_SNAPSHOT that a deferred transaction gets when anyone else committed
since its read: no busy handler can help it) is counted, rolled back and
not retried.  At the end one JSON line goes to stdout:

    {"txns":..., "errors":..., "p50_ms":..., "p99_ms":..., "p999_ms":...,
     "max_ms":..., "seconds":...}
"""
import argparse
import json
import os
import random
import sqlite3
import threading
import time


def worker(a, k, t0, lat, errs, lock):
    c = sqlite3.connect(a.db, timeout=30, isolation_level=None,
                        check_same_thread=False)
    c.execute("PRAGMA synchronous=NORMAL")
    rng = random.Random(k)
    i = 0
    mine, bad, kinds = [], 0, {}
    while True:
        start = t0 + (i * a.threads + k) / a.rate
        if start > t0 + a.seconds:
            break
        now = time.perf_counter()
        if start > now:
            time.sleep(start - now)
        rid = rng.randrange(1, 1001)
        t = time.perf_counter()
        try:
            c.execute("BEGIN IMMEDIATE" if a.style == "immediate" else "BEGIN")
            c.execute("SELECT v FROM items WHERE id = ?", (rid,)).fetchall()
            c.execute("UPDATE items SET n = n + 1 WHERE id = ?", (rid,))
            c.execute("INSERT INTO events(item, body) VALUES (?, ?)",
                      (rid, os.urandom(a.row_size)))
            c.execute("COMMIT")
            mine.append(time.perf_counter() - t)
        except sqlite3.OperationalError as e:
            bad += 1
            name = getattr(e, "sqlite_errorname", "?")
            kinds[name] = kinds.get(name, 0) + 1
            try:
                c.execute("ROLLBACK")
            except sqlite3.OperationalError:
                pass
        c.execute("SELECT count(*) FROM items WHERE n > ?",
                  (rng.randrange(10),)).fetchall()
        i += 1
    c.close()
    with lock:
        lat.extend(mine)
        errs[0] += bad
        for n, v in kinds.items():
            errs[1][n] = errs[1].get(n, 0) + v


def main():
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--rate", type=float, default=800)
    p.add_argument("--seconds", type=float, default=15)
    p.add_argument("--style", choices=("deferred", "immediate"),
                   default="deferred")
    p.add_argument("--row-size", type=int, default=1024)
    a = p.parse_args()
    c = sqlite3.connect(a.db, timeout=30, isolation_level=None)
    c.execute("PRAGMA journal_mode=wal")
    c.executescript(
        "CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY, n INTEGER,"
        " v BLOB);"
        "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, item INT,"
        " body BLOB);")
    if c.execute("SELECT count(*) FROM items").fetchone()[0] == 0:
        c.execute("BEGIN")
        for i in range(1, 1001):
            c.execute("INSERT INTO items VALUES (?, 0, ?)", (i, os.urandom(200)))
        c.execute("COMMIT")
    lat, errs, lock = [], [0, {}], threading.Lock()
    t0 = time.perf_counter() + 0.2
    ths = [threading.Thread(target=worker, args=(a, k, t0, lat, errs, lock))
           for k in range(a.threads)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    lat.sort()

    def pct(q):
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3) \
            if lat else None
    print(json.dumps({"txns": len(lat), "errors": errs[0],
                      "error_kinds": errs[1],
                      "p50_ms": pct(0.5), "p99_ms": pct(0.99),
                      "p999_ms": pct(0.999),
                      "max_ms": round(lat[-1] * 1000, 3) if lat else None,
                      "seconds": a.seconds, "style": a.style}))
    c.close()


if __name__ == "__main__":
    main()
