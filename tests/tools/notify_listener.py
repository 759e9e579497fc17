# SPDX-License-Identifier: MIT
"""A stand-in for systemd's notification socket (sd_notify(3)), for tests.

    notify_listener.py SOCKET_PATH LOG_PATH [--glob PATTERN] [--timeout S]

Binds a Unix datagram socket at SOCKET_PATH (give it to the daemon as
NOTIFY_SOCKET) and appends one line per message line to LOG_PATH:

    <unix time, 6 decimals> <count> <message line>

<count> is how many files matched PATTERN (a glob, e.g. the replica's
snapshot files) when the datagram arrived, or - without --glob: it lets a
test prove that READY=1 came only after the snapshot was in the replica.
The clock is time.time(), the one `date +%s.%N` reads, so a shell test
can order these lines against its own events.  Exits after --timeout
seconds (default 300) so a failed test never leaves it behind.
"""
import glob
import os
import socket
import sys
import time


def main():
    args = sys.argv[1:]
    pattern = None
    timeout = 300.0
    if "--glob" in args:
        i = args.index("--glob")
        pattern = args[i + 1]
        del args[i:i + 2]
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    sock_path, log_path = args
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    end = time.monotonic() + timeout
    with open(log_path, "a", buffering=1) as log:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data = s.recv(65536)
            except socket.timeout:
                break
            now = time.time()
            count = "-" if pattern is None else str(len(glob.glob(pattern)))
            for line in data.decode("utf-8", "replace").split("\n"):
                if line:
                    log.write("%.6f %s %s\n" % (now, count, line))
    s.close()
    os.unlink(sock_path)


if __name__ == "__main__":
    main()
