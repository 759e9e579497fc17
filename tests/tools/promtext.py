#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A strict reader of the Prometheus text exposition format 0.0.4 (stdlib only).

    promtext.py check FILE             exit 0 if FILE is well-formed, else say why
    promtext.py get FILE NAME [k=v..]  print the value of the one sample NAME
                                       whose labels include every k=v given
    promtext.py mono OLD NEW           every counter sample in OLD is in NEW
                                       with a value at least as large

What "well-formed" means here (the format's rules as written in the
Prometheus exposition-format documentation, plus what this project promises):
  - every line ends with a newline, no blank lines, no trailing spaces;
  - `# HELP name text` and `# TYPE name type` at most once per family, HELP
    and TYPE before the family's samples, type one of counter, gauge,
    histogram, summary, untyped; other `#` lines are comments;
  - a sample is `name{label="value",...} value [timestamp]`: metric and
    label names match [a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*,
    label values use only the escapes \\\\, \\" and \\n, no label repeats;
  - the value is a float (or NaN, +Inf, -Inf), a timestamp an integer;
  - all samples of a family are contiguous and no series appears twice;
  - (ours) every sample belongs to a family with HELP and TYPE, counter
    names end in _total and counter values are finite and >= 0.
"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_value(s, where):
    if s in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    try:
        return float(s)
    except ValueError:
        raise Bad("%s: bad value %r" % (where, s))


def parse_labels(s, i, where):
    """s[i] is '{'; returns (labels dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if i < len(s) and s[i] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad("%s: bad label name at column %d" % (where, i + 1))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad("%s: expected =\" after label %s" % (where, name))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Bad("%s: unterminated label value" % where)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", '"', "n"):
                    raise Bad("%s: bad escape \\%s in label value" % (where, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise Bad("%s: label %s repeated" % (where, name))
        labels[name] = "".join(val)
        if i < len(s) and s[i] == ",":
            i += 1
        elif i < len(s) and s[i] == "}":
            continue
        else:
            raise Bad("%s: expected , or } after label %s" % (where, name))


def parse(text):
    """Returns (families {name: {"help", "type"}}, samples [(name, labels, value)])."""
    if text and not text.endswith("\n"):
        raise Bad("the last line has no newline")
    families = {}
    samples = []
    seen_series = set()
    done = set()          # families whose samples are finished
    current = None        # family of the previous sample
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % n
        if line == "":
            raise Bad("%s: blank line" % where)
        if line != line.rstrip():
            raise Bad("%s: trailing white space" % where)
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise Bad("%s: bad metric name %r" % (where, name))
                fam = families.setdefault(name, {})
                key = parts[1].lower()
                if key in fam:
                    raise Bad("%s: second %s for %s" % (where, parts[1], name))
                if name in done or current == name:
                    raise Bad("%s: %s for %s after its samples" % (where, parts[1], name))
                if key == "type":
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise Bad("%s: bad TYPE line" % where)
                    fam["type"] = parts[3]
                else:
                    fam["help"] = parts[3] if len(parts) == 4 else ""
            continue
        m = NAME.match(line)
        if not m:
            raise Bad("%s: bad metric name" % where)
        name = m.group(0)
        i = m.end()
        labels = {}
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, where)
        if line[i:i + 1] != " ":
            raise Bad("%s: expected a space before the value" % where)
        rest = line[i + 1:].split(" ")
        if len(rest) not in (1, 2):
            raise Bad("%s: expected value [timestamp]" % where)
        value = parse_value(rest[0], where)
        if len(rest) == 2 and not re.fullmatch(r"-?[0-9]+", rest[1]):
            raise Bad("%s: bad timestamp %r" % (where, rest[1]))
        fam_name = name
        for suffix in ("_bucket", "_count", "_sum"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and families.get(base, {}).get("type") in (
                    "histogram", "summary"):
                fam_name = base
        if fam_name != current:
            if fam_name in done:
                raise Bad("%s: samples of %s are not together" % (where, fam_name))
            if current is not None:
                done.add(current)
            current = fam_name
        fam = families.get(fam_name)
        if not fam or "help" not in fam or "type" not in fam:
            raise Bad("%s: %s has no HELP and TYPE before it" % (where, fam_name))
        if fam["type"] == "counter":
            if not name.endswith("_total"):
                raise Bad("%s: counter %s does not end in _total" % (where, name))
            if not math.isfinite(value) or value < 0:
                raise Bad("%s: counter %s has value %r" % (where, name, value))
        series = (name, tuple(sorted(labels.items())))
        if series in seen_series:
            raise Bad("%s: series %s%s appears twice" % (where, name, labels))
        seen_series.add(series)
        samples.append((name, labels, value))
    return families, samples


def load(path):
    with open(path, encoding="utf-8") as f:
        return parse(f.read())


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "check":
            families, samples = load(argv[2])
            print("ok: %d families, %d samples" % (len(families), len(samples)))
            return 0
        if len(argv) >= 4 and argv[1] == "get":
            _, samples = load(argv[2])
            want = dict(a.split("=", 1) for a in argv[4:])
            hits = [v for (n, l, v) in samples if n == argv[3] and
                    all(l.get(k) == x for k, x in want.items())]
            if len(hits) != 1:
                print("%d samples of %s %s" % (len(hits), argv[3], want), file=sys.stderr)
                return 1
            v = hits[0]
            print(int(v) if math.isfinite(v) and v == int(v) else v)
            return 0
        if len(argv) == 4 and argv[1] == "mono":
            fam_old, old = load(argv[2])
            _, new = load(argv[3])
            now = {(n, tuple(sorted(l.items()))): v for (n, l, v) in new}
            for n, l, v in old:
                if fam_old.get(n, {}).get("type") != "counter":
                    continue
                key = (n, tuple(sorted(l.items())))
                if key not in now:
                    raise Bad("counter %s%s vanished" % (n, l))
                if now[key] < v:
                    raise Bad("counter %s%s went down: %r -> %r" % (n, l, v, now[key]))
            print("ok: counters did not go down")
            return 0
    except Bad as e:
        print("not Prometheus text format: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
