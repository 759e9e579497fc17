#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Check that every line of a litestream-c log is logfmt as common/log.h promises.

    logfmt.py [--journal] FILE

Each line is `key=value` pairs separated by single spaces; a value is bare
(no space, double quote or '=') or double-quoted with only \\" and \\\\ escaped
inside.  Keys are [a-z_][a-z0-9_.-]* and do not repeat.  The first keys are,
in order: time (an RFC 3339 UTC stamp with milliseconds), level, then db if
present, then msg.  With --journal the line starts with a journald priority
prefix <N> matching the level (debug 7, info 6, warn 4, error 3) and has no
time key, since journald adds its own.  Prints a count per level; exit 1 at
the first bad line, saying why.
"""
import re
import sys

KEY = re.compile(r"[a-z_][a-z0-9_.-]*")
BARE = re.compile(r'[^ "=]+')
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PRIO = {"debug": "7", "info": "6", "warn": "4", "error": "3"}


def pairs(line):
    i, out = 0, []
    while i < len(line):
        m = KEY.match(line, i)
        if not m or line[m.end():m.end() + 1] != "=":
            raise ValueError("expected key= at column %d" % (i + 1))
        key, i = m.group(0), m.end() + 1
        if line[i:i + 1] == '"':
            i += 1
            val = []
            while True:
                if i >= len(line):
                    raise ValueError("unterminated quoted value of %s" % key)
                c = line[i]
                if c == "\\":
                    if line[i + 1:i + 2] not in ('"', "\\"):
                        raise ValueError("bad escape in value of %s" % key)
                    val.append(line[i + 1])
                    i += 2
                elif c == '"':
                    i += 1
                    break
                else:
                    val.append(c)
                    i += 1
            val = "".join(val)
        else:
            m = BARE.match(line, i)
            if not m:
                raise ValueError("empty or bad bare value of %s" % key)
            val, i = m.group(0), m.end()
        out.append((key, val))
        if i < len(line):
            if line[i] != " " or i + 1 == len(line):
                raise ValueError("expected one space after the value of %s" % key)
            i += 1
    return out


def check(line, journal):
    prio = None
    if journal:
        m = re.match(r"<([0-7])>", line)
        if not m:
            raise ValueError("no <N> priority prefix")
        prio, line = m.group(1), line[m.end():]
    kv = pairs(line)
    keys = [k for k, _ in kv]
    if len(set(keys)) != len(keys):
        raise ValueError("a key repeats")
    want = ["level"] if journal else ["time", "level"]
    if keys[:len(want)] != want:
        raise ValueError("starts with %s, want %s" % (keys[:len(want)], want))
    d = dict(kv)
    if not journal and not STAMP.fullmatch(d["time"]):
        raise ValueError("bad time %r" % d["time"])
    if journal and "time" in d:
        raise ValueError("time key under journald")
    if d["level"] not in PRIO:
        raise ValueError("bad level %r" % d["level"])
    if journal and PRIO[d["level"]] != prio:
        raise ValueError("prefix <%s> for level %s" % (prio, d["level"]))
    rest = keys[len(want):]
    if rest[:1] == ["db"]:
        rest = rest[1:]
    if rest[:1] != ["msg"]:
        raise ValueError("msg is not after level [db]")
    return d["level"]


def main(argv):
    journal = "--journal" in argv
    files = [a for a in argv[1:] if a != "--journal"]
    if len(files) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    counts = {}
    with open(files[0], encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.endswith("\n"):
                print("line %d: no newline at the end" % n, file=sys.stderr)
                return 1
            try:
                level = check(line[:-1], journal)
            except ValueError as e:
                print("line %d: not logfmt: %s\n  %s" % (n, e, line.rstrip("\n")),
                      file=sys.stderr)
                return 1
            counts[level] = counts.get(level, 0) + 1
    print(" ".join("%s=%d" % (k, counts.get(k, 0)) for k in PRIO))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
