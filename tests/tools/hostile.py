#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile replica objects for tests (stdlib only).

    hostile.py bomb OUT GIB       an LZ4 frame of GIB GiB of zeros (about
                                  4 MiB per 16 KiB stored: 8 GiB is 33 MB)
    hostile.py lying OUT IN       IN's frame (lz4 CLI) under a header whose
                                  content-size field says 1 TiB
    hostile.py bigblock OUT       a frame whose first block header claims
                                  more bytes than the frame holds
    hostile.py xxh32 FILE         print the xxHash32 of FILE (self-check)

The bomb's blocks are hand-made LZ4 sequences (one literal, then a match
at offset 1 for the rest, then the 5 literals LZ4 wants at the end), so no
compressor has to chew through gigabytes.  Its content checksum is wrong
on purpose: a reader that got that far has already lost.
"""
import struct
import sys

MAGIC = b"\x04\x22\x4d\x18"
BLOCK = 4 << 20
P1, P2, P3, P4, P5 = (2654435761, 2246822519, 3266489917, 668265263,
                      374761393)
M32 = 0xffffffff


def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


def xxh32(data, seed=0):
    """xxHash32, as the LZ4 frame format uses it (header and content)."""
    n = len(data)
    i = 0
    if n >= 16:
        v = [(seed + P1 + P2) & M32, (seed + P2) & M32, seed & M32,
             (seed - P1) & M32]
        while i + 16 <= n:
            for k in range(4):
                lane = struct.unpack_from("<I", data, i + 4 * k)[0]
                v[k] = (rotl((v[k] + lane * P2) & M32, 13) * P1) & M32
            i += 16
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) +
             rotl(v[3], 18)) & M32
    else:
        h = (seed + P5) & M32
    h = (h + n) & M32
    while i + 4 <= n:
        h = (rotl((h + struct.unpack_from("<I", data, i)[0] * P3) & M32, 17)
             * P4) & M32
        i += 4
    while i < n:
        h = (rotl((h + data[i] * P5) & M32, 11) * P1) & M32
        i += 1
    h ^= h >> 15
    h = (h * P2) & M32
    h ^= h >> 13
    h = (h * P3) & M32
    h ^= h >> 16
    return h


def header(content_size=None):
    """Magic, FLG (version 1, independent blocks, content checksum), BD
    (4 MiB blocks), the optional content size, and the header checksum."""
    flg = 0x40 | 0x20 | 0x04 | (0x08 if content_size is not None else 0)
    desc = bytes([flg, 0x70])
    if content_size is not None:
        desc += struct.pack("<Q", content_size)
    return MAGIC + desc + bytes([(xxh32(desc) >> 8) & 0xff])


def zero_block():
    """One LZ4 block that decodes to BLOCK zero bytes."""
    match = BLOCK - 1 - 5                 # after 1 literal, before 5
    ext = match - 4 - 15
    seq = bytes([0x1f, 0x00]) + struct.pack("<H", 1)
    seq += b"\xff" * (ext // 255) + bytes([ext % 255])
    seq += bytes([0x50]) + b"\x00" * 5    # the last 5 bytes: literals
    return struct.pack("<I", len(seq)) + seq


def bomb(out, gib):
    blk = zero_block()
    n = int(gib * (1 << 30)) // BLOCK + 1
    with open(out, "wb") as f:
        f.write(header())
        for _ in range(n):
            f.write(blk)
        f.write(b"\x00\x00\x00\x00")
        f.write(struct.pack("<I", 0xdeadbeef))   # wrong on purpose


def lying(out, src):
    """SRC's frame (from the lz4 CLI: independent blocks, no block
    checksums) under a header whose content-size field says 1 TiB."""
    data = open(src, "rb").read()
    if data[:4] != MAGIC or data[4] & 0x19:
        raise SystemExit("%s: want a frame without content size or block "
                         "checksums" % src)
    with open(out, "wb") as f:
        f.write(header(content_size=1 << 40))
        f.write(data[7:])


def bigblock(out):
    """A block header that claims 4 MiB - 1 stored bytes; 10 follow."""
    with open(out, "wb") as f:
        f.write(header())
        f.write(struct.pack("<I", BLOCK - 1))
        f.write(b"\x11" * 10)


def main(argv):
    if len(argv) == 4 and argv[1] == "bomb":
        bomb(argv[2], float(argv[3]))
    elif len(argv) == 4 and argv[1] == "lying":
        lying(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "bigblock":
        bigblock(argv[2])
    elif len(argv) == 3 and argv[1] == "xxh32":
        print("%08x" % xxh32(open(argv[2], "rb").read()))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
