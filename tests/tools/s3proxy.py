#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A fault-injecting HTTP proxy for S3 tests (stdlib only).

    s3proxy.py --upstream 127.0.0.1:PORT --port-file F --log LOG.jsonl \
               [--faults FAULTS.json]

Listens on 127.0.0.1 (a free port, written to --port-file), forwards each
request to the upstream S3 server (s3rver) and applies the first fault rule
that matches.  The faults file is re-read whenever it changes (counters
restart), so a test can change the schedule between steps.  It holds a JSON
list of rules:

    {"method": "PUT", "path": "regex", "query": "regex",
     "skip": 0,          # let this many matching requests through first
     "times": 1,         # then apply to this many (-1: all)
     "prob": 0.1,        # and then only to this share of them (optional)
     "action": "status" | "reset_request" | "reset_response" | "truncate"
             | "stall" | "error200" | "delete_errors" | "lost_reply"
             | "list_rewrite",
     "status": 503, "code": "SlowDown", "message": "...",  # status/error200
     "bytes": 1000,      # reset_response/truncate: body bytes sent first
     "seconds": 10,      # stall: how long to hold the request
     "keys": 3,          # delete_errors: keys failed with "code"
     "extra": {...},     # status: extra <Error> fields (e.g. ServerTime)
     "inject": [{"key": "...", "size": 1, "mtime": "2020-..Z"}],
     "generate": {"count": 3000, "key": "p/generations/%016x/...",
                  "size": 1, "mtime": "2020-..Z"},
     "sizes": {"regex": 10},   # list_rewrite: see below
     "encoding_type": "url"}

Actions: status = answer with that status and an S3 <Error> body, nothing
forwarded; reset_request = read half the request body, then RST;
reset_response = forward, send the headers and `bytes` of the body, then
RST; truncate = the same but a clean close (FIN) after `bytes`; stall =
read the request and answer nothing for `seconds`; error200 = answer 200
with an <Error> body (not forwarded); delete_errors = forward a
DeleteObjects without its first `keys` keys and report those keys as
per-key <Error>s; drop_response (also spelt lost_reply) = forward the
request (the store keeps it), then RST before any byte of the reply, so
the client cannot know it succeeded.  A drop_response rule may carry
"hide_s": N: for N seconds the key is then left out of every listing the
proxy answers (an eventually consistent store that does not list a new
key yet).
list_rewrite = forward a listing (a GET of the bucket
with list-type) and rewrite its reply: add the <Contents> of "inject"
(each key written into the XML as given, so it may carry %-escapes,
&#...; references or 2 KB) and of "generate" (count keys from a
%-format taking 0..count-1), set the <Size> of every key matching a
regex of "sizes" to its value, and with "encoding_type" add
<EncodingType>url</EncodingType> (s3rver itself ignores encoding-type, so
without it injected %-escapes would not be decoded).

A status rule may carry "skew_s": N; the <Error> body then gets
RequestTime (from the request's x-amz-date) and ServerTime (now + N
seconds), as S3 sends with RequestTimeTooSkewed, and a Date header with
that server time.

--emulate-delimiter: s3rver 3.7.1 loses common prefixes whose "directory"
holds only sub-directories (lib/stores/filesystem.js listObjects prunes
them before finding a key), so a delimiter listing of
<prefix>/generations/ comes back empty and Litestream v0.3.13 finds no
generation.  With this flag a GET listing with a delimiter is answered by
the proxy from a flat upstream listing (all pages), as S3 answers it.

--encode-listing: s3rver 3.7.1 ignores encoding-type=url; with this flag a
GET listing that asks for it is answered by the proxy (from flat upstream
pages) with the keys form-encoded as AWS S3 encodes them: a space as '+',
a '+' as %2B (botocore decodes them with unquote_plus).

--tls-cert/--tls-key: serve HTTPS (the upstream stays plain HTTP), for
certificate verification tests.

Every request is logged as one JSON line: method, path, query, the
integrity headers (content-md5, x-amz-content-sha256, content-length,
range), whether the MD5 and SHA-256 headers match the body, the number of
keys in a DeleteObjects body, the action taken and the status sent.  The
Authorization header is never logged.
"""
import argparse
import base64
import calendar
import hashlib
import http.client
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
import xml.etree.ElementTree as ET
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import (parse_qsl, quote, quote_plus, unquote, urlencode,
                          urlsplit)
from xml.sax.saxutils import escape

LOCK = threading.Lock()
STATE = {"rules": [], "mtime": None, "counts": [], "seq": 0,
         "hidden": {}}  # key (bucket-relative) -> hidden until (time)
ARGS = None


def load_rules():
    path = ARGS.faults
    if not path:
        return
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        mtime = None
    if mtime == STATE["mtime"]:
        return
    rules = []
    if mtime is not None:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
        rules = json.loads(text) if text else []
    STATE.update(rules=rules, mtime=mtime, counts=[0] * len(rules))


def pick_rule(method, path, query):
    with LOCK:
        load_rules()
        STATE["seq"] += 1
        seq = STATE["seq"]
        for i, r in enumerate(STATE["rules"]):
            if r.get("method") and r["method"] != method:
                continue
            if r.get("path") and not re.search(r["path"], path):
                continue
            if r.get("query") is not None and not re.search(r["query"], query):
                continue
            n = STATE["counts"][i]
            STATE["counts"][i] = n + 1
            skip, times = r.get("skip", 0), r.get("times", 1)
            if n < skip or (times >= 0 and n >= skip + times):
                continue
            if "prob" in r and random.random() >= r["prob"]:
                continue
            return seq, r
        return seq, None


def log(entry):
    with LOCK:
        with open(ARGS.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def error_xml(code, message, extra=None):
    fields = "".join("<%s>%s</%s>" % (k, v, k) for k, v in (extra or {}).items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            "<Message>%s</Message>%s<RequestId>s3proxy</RequestId></Error>"
            % (code, message, fields)).encode()


def iso_time(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def skew_fields(rule, headers):
    """RequestTime/ServerTime for a RequestTimeTooSkewed reply."""
    now = time.time() + rule["skew_s"]
    amz = headers.get("x-amz-date") or ""
    try:
        req = iso_time(calendar.timegm(time.strptime(amz, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        req = amz
    fields = {"RequestTime": req, "ServerTime": iso_time(now),
              "MaxAllowedSkewMilliseconds": "900000"}
    return fields, {"Date": formatdate(now, usegmt=True)}


def local(tag):
    """An element's name without its namespace (s3rver uses its own)."""
    return tag.rsplit("}", 1)[-1]


def child_text(el, name):
    for c in el:
        if local(c.tag) == name:
            return c.text or ""
    return None


def flat_listing(handler, bucket_path, params):
    """Every object under params["prefix"], from flat upstream pages.
    Returns a list of dicts (Key, LastModified, ETag, Size, StorageClass)
    or raises OSError."""
    v2 = params.get("list-type") == "2"
    base = {"prefix": params.get("prefix", "")}
    if v2:
        base["list-type"] = "2"
    objs, token = [], None
    for _ in range(100000):
        q = dict(base)
        if token is not None:
            q["continuation-token" if v2 else "marker"] = token
        up, resp = handler._forward(b"", bucket_path + "?" + urlencode(q))
        data = resp.read()
        up.close()
        if resp.status != 200:
            raise OSError("upstream listing: HTTP %d" % resp.status)
        root = ET.fromstring(data)
        page = []
        for c in root:
            if local(c.tag) == "Contents":
                page.append({f: child_text(c, f) or "" for f in
                             ("Key", "LastModified", "ETag", "Size",
                              "StorageClass")})
        objs += page
        if (child_text(root, "IsTruncated") or "false") != "true":
            return objs
        token = (child_text(root, "NextContinuationToken") if v2 else
                 (child_text(root, "NextMarker") or
                  (page[-1]["Key"] if page else None)))
        if not token:
            raise OSError("upstream listing: truncated without a token")
    raise OSError("upstream listing: too many pages")


def emulated_listing(handler, bucket_path, query):
    """Answer a listing as S3 would (see --emulate-delimiter and
    --encode-listing)."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    prefix, delim = params.get("prefix", ""), params.get("delimiter", "")
    enc = params.get("encoding-type") == "url"
    objs = flat_listing(handler, bucket_path, params)
    now = time.time()
    with LOCK:
        hidden = {k for k, t in STATE["hidden"].items() if t > now}
    objs = [o for o in objs if o["Key"] not in hidden]
    contents, prefixes = [], set()
    for o in objs:
        rest = o["Key"][len(prefix):]
        i = rest.find(delim) if delim else -1
        if i >= 0:
            prefixes.add(prefix + rest[:i + len(delim)])
        else:
            contents.append(o)

    def k(x):
        if not enc:
            return escape(x)
        if ARGS.encode_listing:
            return escape(quote_plus(x, safe="/"))
        return escape(quote(x, safe="/~"))
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
           'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
           "<Name>%s</Name><Prefix>%s</Prefix><Delimiter>%s</Delimiter>"
           "<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
           % (escape(bucket_path.strip("/")), k(prefix), k(delim))]
    if params.get("list-type") == "2":
        out.append("<KeyCount>%d</KeyCount>" % (len(contents) + len(prefixes)))
    else:
        out.append("<Marker></Marker>")
    if enc:
        out.append("<EncodingType>url</EncodingType>")
    for o in contents:
        out.append("<Contents><Key>%s</Key><LastModified>%s</LastModified>"
                   "<ETag>%s</ETag><Size>%s</Size><StorageClass>%s"
                   "</StorageClass></Contents>"
                   % (k(o["Key"]), escape(o["LastModified"]),
                      escape(o["ETag"]), escape(o["Size"]),
                      escape(o["StorageClass"] or "STANDARD")))
    for p in sorted(prefixes):
        out.append("<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>"
                   % k(p))
    out.append("</ListBucketResult>")
    return "".join(out).encode()


def rewrite_listing(rule, data):
    """list_rewrite: see the top of the file.  Keys are inserted verbatim
    (the rule writes them as the XML should carry them)."""
    def contents(key, size, mtime):
        return ("<Contents><Key>%s</Key><LastModified>%s</LastModified>"
                "<ETag>&quot;0&quot;</ETag><Size>%d</Size>"
                "<StorageClass>STANDARD</StorageClass></Contents>"
                % (key, mtime, size)).encode()
    extra = []
    for o in rule.get("inject") or []:
        extra.append(contents(o["key"], o.get("size", 1),
                              o.get("mtime", "2020-01-01T00:00:00.000Z")))
    g = rule.get("generate")
    if g:
        for i in range(g["count"]):
            extra.append(contents(g["key"] % i, g.get("size", 1),
                                  g.get("mtime", "2020-01-01T00:00:00.000Z")))
    for rx, size in (rule.get("sizes") or {}).items():
        def resize(m, rx=rx, size=size):
            block = m.group(0)
            key = re.search(rb"<Key>(.*?)</Key>", block, re.S)
            if key is None or not re.search(rx.encode(), key.group(1)):
                return block
            return re.sub(rb"<Size>\d*</Size>", b"<Size>%d</Size>" % size,
                          block)
        data = re.sub(rb"<Contents>.*?</Contents>", resize, data, flags=re.S)
    if rule.get("encoding_type") and b"<EncodingType>" not in data:
        extra.append(b"<EncodingType>%s</EncodingType>"
                     % rule["encoding_type"].encode())
    tail = b"</ListBucketResult>"
    if extra and tail in data:
        data = data.replace(tail, b"".join(extra) + tail, 1)
    elif extra and re.search(rb"<ListBucketResult[^>]*/>", data):
        data = re.sub(rb"<ListBucketResult([^>]*)/>",
                      rb"<ListBucketResult\1>" + b"".join(extra).replace(
                          b"\\", b"\\\\") + tail, data)
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

    def setup(self):
        # TLS: the handshake runs here, in the connection's own thread
        # (not in accept()), so a client that refuses our certificate
        # or never speaks cannot hold up the others.
        self.tls_failed = False
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
                self.request.settimeout(None)
            except (OSError, ssl.SSLError) as e:
                # Logged like a request, so tests can count attempts.
                self.tls_failed = True
                log({"i": 0, "t": time.time(), "method": "-", "path": "-",
                     "query": "", "action": "tls", "authorization": False,
                     "status": "tls-handshake-failed: %s" % e})
        super().setup()

    def handle(self):
        if not self.tls_failed:
            super().handle()

    def _rst(self):
        """Close with a TCP reset (SO_LINGER 0)."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self._close()

    def _close(self):
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def _reply(self, status, body, headers=None):
        self.send_response_only(status)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "application/xml")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self, body, path=None):
        up = http.client.HTTPConnection(ARGS.upstream, timeout=120)
        up.putrequest(self.command, path or self.path, skip_host=True,
                      skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() in ("content-length", "connection", "keep-alive"):
                continue
            up.putheader(k, v)
        up.putheader("Content-Length", str(len(body)))
        up.endheaders(body if body else None)
        return up, up.getresponse()

    def _send_head(self, resp, length=None):
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() in ("transfer-encoding", "connection", "keep-alive",
                             "content-length", "date"):
                continue
            self.send_header(k, v)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, BrokenPipeError, socket.timeout, OSError,
                ValueError):
            self.close_connection = True

    def _handle(self):
        parts = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        seq, rule = pick_rule(self.command, parts.path, parts.query)
        action = rule["action"] if rule else "pass"
        entry = {"i": seq, "t": time.time(), "method": self.command,
                 "path": parts.path, "query": parts.query, "action": action,
                 "len": n}
        for h in ("content-md5", "x-amz-content-sha256", "range",
                  "x-amz-date", "expect", "transfer-encoding"):
            if self.headers.get(h) is not None:
                entry[h] = self.headers.get(h)
        entry["authorization"] = self.headers.get("Authorization") is not None

        if action == "reset_request":
            self.rfile.read(n // 2)
            entry["status"] = "rst"
            log(entry)
            self._rst()
            return
        body = self.rfile.read(n) if n else b""
        entry["sha256_ok"] = (hashlib.sha256(body).hexdigest()
                              == self.headers.get("x-amz-content-sha256"))
        md5 = self.headers.get("Content-MD5")
        if md5 is not None:
            entry["md5_ok"] = base64.b64encode(
                hashlib.md5(body).digest()).decode() == md5
        delete_keys = None
        if self.command == "POST" and re.search(r"(^|&)delete(=|&|$)",
                                                parts.query):
            delete_keys = re.findall(rb"<Key>(.*?)</Key>", body, re.S)
            entry["delete_keys"] = len(delete_keys)

        if action == "status":
            st = rule.get("status", 503)
            code = rule.get("code", "SlowDown")
            extra = dict(rule.get("extra") or {})
            headers = dict(rule.get("headers") or {})
            if "skew_s" in rule:
                f, h = skew_fields(rule, self.headers)
                extra.update(f)
                headers.update(h)
            entry["status"] = st
            log(entry)
            self._reply(st, error_xml(code, rule.get("message", code), extra),
                        headers)
            return
        qd = dict(parse_qsl(parts.query, keep_blank_values=True))
        with LOCK:
            hiding = any(t > time.time() for t in STATE["hidden"].values())
        if (action == "pass" and self.command == "GET" and
                re.fullmatch(r"/[^/]+/?", parts.path) and
                ((ARGS.emulate_delimiter and "delimiter" in qd) or
                 (ARGS.encode_listing and
                  qd.get("encoding-type") == "url") or
                 (hiding and ("list-type" in qd or "prefix" in qd)))):
            try:
                data = emulated_listing(self, parts.path.rstrip("/"),
                                        parts.query)
            except (OSError, ET.ParseError) as e:
                entry["status"] = "upstream-error: %s" % e
                log(entry)
                self._reply(502, error_xml("BadGateway", str(e)))
                return
            entry["status"] = 200
            entry["emulated"] = "listing"
            log(entry)
            self._reply(200, data)
            return
        if action == "error200":
            entry["status"] = 200
            log(entry)
            self._reply(200, error_xml(rule.get("code", "InternalError"),
                                       rule.get("message", "injected")))
            return
        if action == "stall":
            entry["status"] = "stall"
            log(entry)
            time.sleep(rule.get("seconds", 10))
            self._close()
            return

        if action == "list_rewrite":
            try:
                up, resp = self._forward(body)
                data = resp.read()
                up.close()
            except OSError as e:
                entry["status"] = "upstream-error: %s" % e
                log(entry)
                self._reply(502, error_xml("BadGateway", str(e)))
                return
            if resp.status == 200:
                data = rewrite_listing(rule, data)
                entry["rewritten"] = True
            entry["status"] = resp.status
            log(entry)
            self._send_head(resp, len(data))
            self.wfile.write(data)
            return

        failed = []
        if action == "delete_errors" and delete_keys:
            failed = delete_keys[:rule.get("keys", 1)]
            for k in failed:
                body = body.replace(b"<Object><Key>" + k + b"</Key></Object>",
                                    b"", 1)
            del self.headers["Content-MD5"]
            self.headers["Content-MD5"] = base64.b64encode(
                hashlib.md5(body).digest()).decode()
            del self.headers["x-amz-content-sha256"]
            self.headers["x-amz-content-sha256"] = hashlib.sha256(
                body).hexdigest()
        try:
            up, resp = self._forward(body)
        except OSError as e:
            entry["status"] = "upstream-error: %s" % e
            log(entry)
            self._reply(502, error_xml("BadGateway", str(e)))
            return
        if action in ("drop_response", "lost_reply"):
            resp.read()
            up.close()
            if rule.get("hide_s"):
                key = unquote(parts.path.lstrip("/").split("/", 1)[1])
                with LOCK:
                    STATE["hidden"][key] = time.time() + rule["hide_s"]
                entry["hidden"] = key
            entry["status"] = "dropped-%d" % resp.status
            log(entry)
            self._rst()
            return
        length = resp.getheader("Content-Length")
        if self.command == "HEAD":
            resp.read()
            entry["status"] = resp.status
            log(entry)
            self._send_head(resp, length)
            up.close()
            return
        if failed or length is None:
            data = resp.read()
            if failed:
                errs = b"".join(
                    b"<Error><Key>" + k + b"</Key><Code>" +
                    rule.get("code", "InternalError").encode() +
                    b"</Code><Message>injected</Message></Error>"
                    for k in failed)
                if b"</DeleteResult>" in data:
                    data = data.replace(b"</DeleteResult>",
                                        errs + b"</DeleteResult>")
                elif re.search(rb"<DeleteResult[^>]*/>", data):
                    data = re.sub(rb"<DeleteResult([^>]*)/>",
                                  rb"<DeleteResult\1>" + errs +
                                  b"</DeleteResult>", data)
                entry["injected_key_errors"] = len(failed)
            entry["status"] = resp.status
            log(entry)
            self._send_head(resp, len(data))
            self.wfile.write(data)
            up.close()
            return
        length = int(length)
        entry["status"] = resp.status
        cut = rule.get("bytes", length // 2) if action in (
            "reset_response", "truncate") else None
        self._send_head(resp, length)
        sent = 0
        while sent < length:
            want = 65536 if cut is None else min(65536, cut - sent)
            if want <= 0:
                break
            chunk = resp.read(want)
            if not chunk:
                break
            self.wfile.write(chunk)
            sent += len(chunk)
        up.close()
        entry["sent"] = sent
        log(entry)
        if cut is not None:
            if action == "reset_response":
                self._rst()
            else:
                self._close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--faults")
    p.add_argument("--emulate-delimiter", action="store_true")
    p.add_argument("--encode-listing", action="store_true")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
