/* SPDX-License-Identifier: MIT */
/*
 * Single-object operations: PutObject, GetObject (streamed, resumed with
 * Range), HeadObject.  Every PUT carries Content-MD5 (S3 answers BadDigest
 * if the bytes were damaged in flight) and the body's real SHA-256 in
 * x-amz-content-sha256 (never UNSIGNED-PAYLOAD: several S3-compatible
 * stores refuse it).
 */
#include <stdio.h>
#include <string.h>

#include "s3/s3_int.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

int
s3_put_object(struct s3_client *c, const char *key, const void *data,
    size_t len, struct lsc_err *err)
{
	struct s3_call call;
	struct s3_hdr extra[1];
	char sha[65], md5[25];

	s3_sha256_hex(data, len, sha);
	s3_md5_base64(data, len, md5);
	extra[0] = (struct s3_hdr){ "content-md5", md5 };
	memset(&call, 0, sizeof(call));
	call.op = "PutObject";
	call.spec.method = "PUT";
	call.spec.key = key;
	call.spec.extra = extra;
	call.spec.nextra = 1;
	call.spec.payload_hash = sha;
	call.body = data;
	call.body_len = len;
	return s3_call(c, &call, err);
}

int
s3_get_object(struct s3_client *c, const char *key, lsc_sink_fn sink,
    void *ctx, struct lsc_err *err)
{
	struct s3_call call;

	memset(&call, 0, sizeof(call));
	call.op = "GetObject";
	call.spec.method = "GET";
	call.spec.key = key;
	call.spec.payload_hash = EMPTY_SHA256;
	call.get = 1;
	call.sink = sink;
	call.sink_ctx = ctx;
	return s3_call(c, &call, err);
}

int
s3_head_object(struct s3_client *c, const char *key, uint64_t *size,
    int64_t *mtime_ns, struct lsc_err *err)
{
	struct s3_call call;
	int rc;

	memset(&call, 0, sizeof(call));
	call.op = "HeadObject";
	call.spec.method = "HEAD";
	call.spec.key = key;
	call.spec.payload_hash = EMPTY_SHA256;
	if ((rc = s3_call(c, &call, err)) != LSC_OK)
		return rc;
	if (call.resp.content_length < 0)
		return lsc_seterr(err, LSC_ENET, 0, "HeadObject %s: no length",
		    s3_where(c, key));
	if (size != NULL)
		*size = (uint64_t)call.resp.content_length;
	if (mtime_ns != NULL)
		*mtime_ns = call.resp.last_modified_s >= 0 ?
		    call.resp.last_modified_s * 1000000000LL : 0;
	return LSC_OK;
}
