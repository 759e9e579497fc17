#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of tests/fuzz/corpus/<target>/seed-* (stdlib,
the sqlite3 module and the lz4 CLI).  Run from the top of the tree:

    /usr/bin/python3 tests/fuzz/seeds.py

Seeds mirror the test fixtures: a real SQLite WAL (512-byte pages, both
committed and uncommitted frames), LZ4 frames as Litestream writes them
(and as the lz4 CLI writes them with other flags), replica keys from the
t2010 replica and the hostile ones of the fault matrix, S3 replies as
s3rver and AWS send them, the reference litestream-c.ini, replica URLs
from the README, and synthetic restores.  Inputs found by fuzzing (new
coverage, regressions) live beside them under other names and are never
touched here.
"""
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def real_wal():
    """A WAL with three commits and an uncommitted tail, 512-byte pages."""
    d = tempfile.mkdtemp()
    try:
        db = os.path.join(d, "a.db")
        c = sqlite3.connect(db, isolation_level=None)
        c.execute("PRAGMA page_size=512")
        c.execute("PRAGMA journal_mode=wal")
        c.execute("PRAGMA wal_autocheckpoint=0")
        c.execute("CREATE TABLE t(x)")
        for i in range(3):
            c.execute("INSERT INTO t VALUES (?)", ("row %d" % i,))
        wal = open(db + "-wal", "rb").read()
        snap = open(db, "rb").read()
        c.close()
        return snap, wal
    finally:
        shutil.rmtree(d)


def lz4(data, *flags):
    return subprocess.run(["lz4", "-q", "-c", *flags], input=data,
                          stdout=subprocess.PIPE, check=True).stdout


def main():
    snap, wal = real_wal()

    # wal_format: flags byte, then the WAL.
    for fl in (0, 1, 3, 7, 15):
        write("wal_format", "real-%02x" % fl, bytes([fl]) + wal)
    write("wal_format", "header-only", bytes([3]) + wal[:32])

    # common_lz4: mode, cap (2 bytes, x64), chunk, data.
    text = b"".join(b"row %d of some table\n" % i for i in range(2000))
    for name, frame in (("litestream", lz4(text, "-B7")),
                        ("linked", lz4(text, "-B4", "-BD")),
                        ("blockcrc", lz4(text, "-B4", "-BX")),
                        ("nocrc", lz4(text, "--no-frame-crc")),
                        ("size", lz4(text, "--content-size")),
                        ("empty", lz4(b"")),
                        ("wal", lz4(wal))):
        write("common_lz4", name, bytes([0, 0xff, 0xff, 7]) + frame)
    write("common_lz4", "capped", bytes([0, 4, 0, 1]) + lz4(text))
    write("common_lz4", "roundtrip", bytes([1, 0, 0, 3]) + text[:3000])

    # wal_layout: keys.
    g = "0123456789abcdef"
    for name, key in (
            ("snapshot", "generations/%s/snapshots/00000000.snapshot.lz4" % g),
            ("wal", "generations/%s/wal/00000001_00001038.wal.lz4" % g),
            ("wal9", "generations/%s/wal/00000001_000001038.wal.lz4" % g),
            ("wal16", "generations/%s/wal/00000001_ffffffffffffffff.wal.lz4" % g),
            ("index9", "generations/%s/wal/000000001_00000000.wal.lz4" % g),
            ("indexff", "generations/%s/snapshots/ffffffff.snapshot.lz4" % g),
            ("dotdot", "generations/../../x"),
            ("abs", "/abs"),
            ("tmp", "generations/%s/wal/00000001_00001038.wal.lz4.tmp" % g)):
        write("wal_layout", name, key)

    # s3_xml: selector byte, then the body.
    ns = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    listing = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult %s>'
               "<Name>bkt</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount>"
               "<MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>"
               "<NextContinuationToken>abc==</NextContinuationToken>"
               "<Contents><Key>p/generations/%s/snapshots/00000000.snapshot.lz4"
               "</Key><LastModified>2026-01-02T03:04:05.678Z</LastModified>"
               "<ETag>&quot;x&quot;</ETag><Size>1234</Size>"
               "<StorageClass>STANDARD</StorageClass></Contents>"
               "<Contents><Key>p/a%%2Bb%%20c%%00d</Key>"
               "<LastModified>2026-01-02T03:04:05Z</LastModified>"
               "<Size>0</Size></Contents>"
               "<EncodingType>url</EncodingType></ListBucketResult>" % (ns, g))
    write("s3_xml", "list", b"\x00" + listing.encode())
    write("s3_xml", "error", b"\x01" + b'<?xml version="1.0"?><Error>'
          b"<Code>RequestTimeTooSkewed</Code><Message>skew</Message>"
          b"<RequestTime>20260102T030405Z</RequestTime>"
          b"<ServerTime>2026-01-02T03:24:05Z</ServerTime>"
          b"<Region>eu-west-1</Region><Endpoint>s3.eu-west-1.amazonaws.com"
          b"</Endpoint></Error>")
    write("s3_xml", "initiate", b"\x02" + ("<InitiateMultipartUploadResult %s>"
          "<Bucket>bkt</Bucket><Key>k</Key><UploadId>VXBsb2FkIElE</UploadId>"
          "</InitiateMultipartUploadResult>" % ns).encode())
    write("s3_xml", "complete", b"\x03" + ("<CompleteMultipartUploadResult %s>"
          "<Location>http://x/bkt/k</Location><Bucket>bkt</Bucket><Key>k</Key>"
          "<ETag>&quot;e-2&quot;</ETag></CompleteMultipartUploadResult>"
          % ns).encode())
    write("s3_xml", "complete-error", b"\x03" + b"<Error><Code>InternalError"
          b"</Code><Message>We encountered an internal error.</Message>"
          b"</Error>")
    write("s3_xml", "delete", b"\x04" + ("<DeleteResult %s><Deleted><Key>a"
          "</Key></Deleted><Error><Key>b</Key><Code>AccessDenied</Code>"
          "<Message>no</Message></Error></DeleteResult>" % ns).encode())
    write("s3_xml", "date", b"\x05" + b"2026-01-02T03:04:05.123456789Z")
    write("s3_xml", "httpdate", b"\x05" + b"Sun, 06 Nov 1994 08:49:37 GMT")

    # common_config: selector byte, then the text.
    ini = open(os.path.join(ROOT, "..", "..", "..", "litestream-c.ini"),
               "rb").read()
    write("common_config", "reference", b"\x00" + ini)
    write("common_config", "env", b"\x00" + b'[s3]\nendpoint = ${LSC_FUZZ}\n'
          b'[db "${LSC_FUZZ}/a.db"]\nreplica = file:///tmp/r\n'
          b"sync-interval = 1h30m\nretention = 0\n")
    write("common_config", "duration", b"\x02" + b"1h30m500ms")
    write("common_config", "size", b"\x03" + b"8MiB")
    write("common_config", "hostport", b"\x04" + b"[::1]:9090")

    # replica_url
    for name, url in (("file", "file:///var/lib/replica/"),
                      ("s3", "s3://bkt/a//b/?endpoint=http%3A%2F%2F127.0.0.1"
                             "%3A9000&region=us-east-1&path-style=true"),
                      ("s3-bare", "s3://bkt"),
                      ("s3-secret", "s3://bkt/p?secret-access-key=x"),
                      ("https", "s3://my.bucket/p?endpoint=https://s3.example")):
        write("replica_url", name, url)

    # restore_apply: flags, salt, ops (see fuzz_restore_apply.c).
    # Frames on pages 1-3, a commit, a split, a new index, a torn tail.
    ops = bytes([0, 2, 0, 0x51,  1, 1, 3, 0x52,  4, 7,  0, 0, 0, 0x53,
                 5, 1,  0, 1, 0x21, 0x61,  6, 2, 0, 9])
    write("restore_apply", "structured", bytes([0x40, 7]) + ops)
    write("restore_apply", "structured-be", bytes([0x23, 9]) + ops)
    write("restore_apply", "flip", bytes([0x40, 7]) + ops[:8] +
          bytes([3, 0, 40]) + ops[8:])
    # Raw: the real WAL (512-byte pages) as index 0, split in two segments.
    cut = 32 + 536
    write("restore_apply", "raw-real", bytes([0x08 | 0x20]) +
          wal[:cut] + b"\xfe\xfd" + wal[cut:])

    # restore_plan: options, then objects (gen|kind, index, offset, time).
    objs = bytes([0x00, 0, 0, 10,  0x04, 0, 0, 11,  0x04, 0, 1, 12,
                  0x04, 1, 0, 13,  0x01, 0, 0, 20,  0x05, 0, 0, 21,
                  0x0c, 3, 0, 5,   0x8c, 1, 0, 0])
    write("restore_plan", "latest", bytes([0, 0, 0, 0]) + objs)
    write("restore_plan", "pitr", bytes([1, 12, 0, 0]) + objs)
    write("restore_plan", "index", bytes([2, 0, 0, 0]) + objs)
    write("restore_plan", "dup-spelling", bytes([0, 0, 0, 0]) + objs +
          bytes([0x14, 0, 1, 14]))
    write("restore_plan", "gap", bytes([8, 0, 0, 0]) + objs[:8] +
          bytes([0x04, 2, 0, 15]))


if __name__ == "__main__":
    main()
