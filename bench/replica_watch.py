#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""replica_watch.py WAL_DIR OUT STOP_FILE: log "<ns> <name>" each time a
WAL segment lands in WAL_DIR (renamed into place or closed after writing),
using inotify through ctypes (stdlib only), until STOP_FILE exists or
120 s pass.  Temp files (dot-names, *.tmp) are ignored."""
import ctypes, os, select, struct, sys, time

IN_CLOSE_WRITE, IN_MOVED_TO = 0x8, 0x80
libc = ctypes.CDLL("libc.so.6", use_errno=True)
wal_dir, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
fd = libc.inotify_init1(os.O_NONBLOCK)
if fd < 0 or libc.inotify_add_watch(fd, wal_dir.encode(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
    sys.exit("inotify: errno %d" % ctypes.get_errno())
seen = set()
end = time.time() + 120
with open(out, "w") as f:
    f.write("ready\n"); f.flush()
    while time.time() < end and not os.path.exists(stop):
        r, _, _ = select.select([fd], [], [], 0.1)
        if not r:
            continue
        now = time.time_ns()
        buf = os.read(fd, 65536)
        i = 0
        while i < len(buf):
            _, mask, _, n = struct.unpack_from("iIII", buf, i)
            name = buf[i + 16:i + 16 + n].rstrip(b"\0").decode()
            i += 16 + n
            if name.startswith(".") or name.endswith(".tmp") or name in seen:
                continue
            seen.add(name)
            f.write("%d %s\n" % (now, name))
        f.flush()
