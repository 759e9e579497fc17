#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Re-sign requests with botocore and compare with litestream-c's signer.

Run with Debian's interpreter (/usr/bin/python3), which sees python3-botocore.
Input: the file written by build/tests/test_s3_sigdiff (one case per line,
tab-separated, free text hex-encoded, "-" for none):

  id method endpoint path_style bucket key region ak sk token amz_date
  body_len body_seed unsigned extras(name:value,...) params(name:value,...)
  url authorization payload_hash

From the raw parts this script builds the URL itself (urllib quote: every
byte but A-Za-z0-9-_.~ encoded, '/' kept in the path; query parameters in
the generated, unsorted order) and signs it with botocore's S3SigV4Auth at
the case's fixed time.  It prints "OK id" or "DIFF id: what" per case and a
SUMMARY line.  Exit status 0 even on differences (the C side counts them).
"""
import sys
from urllib.parse import quote, urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


def unhex(s):
    return b"" if s == "-" else bytes.fromhex(s)


def uhex(s):
    return unhex(s).decode("utf-8")


def body_of(n, seed):
    pattern = bytes(((i * 7 + seed) & 0xFF) for i in range(256))
    reps = n // 256 + 1
    return (pattern * reps)[:n]


def build_url(endpoint, path_style, bucket, key, region, params):
    if endpoint is None:
        scheme, host = "https", "s3.%s.amazonaws.com" % region
    else:
        if "://" not in endpoint:
            endpoint = "https://" + endpoint
        parts = urlsplit(endpoint)
        scheme, host = parts.scheme, parts.netloc.lower()
    if path_style:
        path = "/" + quote(bucket, safe="~")
        if key is not None:
            path += "/" + quote(key, safe="/~")
    else:
        host = bucket + "." + host
        path = "/" + (quote(key, safe="/~") if key is not None else "")
    query = "&".join(
        "%s=%s" % (quote(k, safe="~"), quote(v, safe="~")) for k, v in params
    )
    return "%s://%s%s%s" % (scheme, host, path, "?" + query if query else "")


def sign(method, url, headers, body, ts, region, ak, sk, token, unsigned):
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    auth = S3SigV4Auth(Credentials(ak, sk, token), "s3", region)
    req.context["timestamp"] = ts
    if unsigned:
        req.context["client_config"] = Config(
            s3={"payload_signing_enabled": False})
    auth._modify_request_before_signing(req)
    creq = auth.canonical_request(req)
    sts = auth.string_to_sign(req, creq)
    sig = auth.signature(sts, req)
    auth._inject_signature_to_request(req, sig)
    return req.headers["Authorization"], req.headers["X-Amz-Content-SHA256"]


def norm_authz(a):
    # botocore writes ", " between the parts; both forms are accepted.
    return a.replace(", ", ",")


def query_pairs(url):
    q = urlsplit(url).query
    return sorted(q.split("&")) if q else []


def main():
    ok = bad = 0
    with open(sys.argv[1], encoding="ascii") as f:
        for line in f:
            fld = line.rstrip("\n").split("\t")
            (cid, method, ep, ps, bucket, key, region, ak, sk, token, ts,
             blen, seed, unsigned, extras, params, url, authz,
             phash) = fld
            endpoint = None if ep == "-" else uhex(ep)
            key = None if key == "-" else uhex(key)
            extras = [] if extras == "-" else [
                tuple(uhex(x) for x in e.split(":")) for e in extras.split(",")]
            params = [] if params == "-" else [
                tuple(uhex(x) for x in p.split(":")) for p in params.split(",")]
            ours_url = uhex(url)
            ours_authz = uhex(authz)
            body = body_of(int(blen), int(seed))
            want_url = build_url(endpoint, ps == "1", bucket, key, region,
                                 params)
            theirs, th_hash = sign(method, want_url, extras, body, ts, region,
                                   uhex(ak), uhex(sk),
                                   None if token == "-" else uhex(token),
                                   unsigned == "1")
            why = []
            w, o = urlsplit(want_url), urlsplit(ours_url)
            # botocore drops default ports from Host; so do we in the URL.
            if o.path != w.path:
                why.append("path %r != %r" % (o.path, w.path))
            if query_pairs(ours_url) != query_pairs(want_url):
                why.append("query %r != %r" % (o.query, w.query))
            if norm_authz(ours_authz) != norm_authz(theirs):
                why.append("authorization %r != %r" % (ours_authz, theirs))
            if phash != th_hash:
                why.append("payload hash %s != %s" % (phash, th_hash))
            if why:
                bad += 1
                print("DIFF %s: %s" % (cid, "; ".join(why)))
            else:
                ok += 1
                print("OK %s" % cid)
    print("SUMMARY botocore agreed on %d of %d cases" % (ok, ok + bad))


if __name__ == "__main__":
    main()
