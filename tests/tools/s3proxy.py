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
     "action": "status" | "reset_request" | "reset_response" | "truncate"
             | "stall" | "error200" | "delete_errors",
     "status": 503, "code": "SlowDown", "message": "...",  # status/error200
     "bytes": 1000,      # reset_response/truncate: body bytes sent first
     "seconds": 10,      # stall: how long to hold the request
     "keys": 3,          # delete_errors: keys failed with "code"
     "extra": {...}}     # status: extra <Error> fields (e.g. ServerTime)

Actions: status = answer with that status and an S3 <Error> body, nothing
forwarded; reset_request = read half the request body, then RST;
reset_response = forward, send the headers and `bytes` of the body, then
RST; truncate = the same but a clean close (FIN) after `bytes`; stall =
read the request and answer nothing for `seconds`; error200 = answer 200
with an <Error> body (not forwarded); delete_errors = forward a
DeleteObjects without its first `keys` keys and report those keys as
per-key <Error>s.

Every request is logged as one JSON line: method, path, query, the
integrity headers (content-md5, x-amz-content-sha256, content-length,
range), whether the MD5 and SHA-256 headers match the body, the number of
keys in a DeleteObjects body, the action taken and the status sent.  The
Authorization header is never logged.
"""
import argparse
import base64
import hashlib
import http.client
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

LOCK = threading.Lock()
STATE = {"rules": [], "mtime": None, "counts": [], "seq": 0}
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

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

    def _forward(self, body):
        up = http.client.HTTPConnection(ARGS.upstream, timeout=120)
        up.putrequest(self.command, self.path, skip_host=True,
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
            entry["status"] = st
            log(entry)
            self._reply(st, error_xml(code, rule.get("message", code),
                                      rule.get("extra")),
                        rule.get("headers"))
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
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
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
