/* SPDX-License-Identifier: MIT */
/*
 * Multipart upload: CreateMultipartUpload, UploadPart, Complete, Abort.
 * The caller streams parts (replica_s3.c keeps one part in memory); each
 * part is retried from its own buffer.  CompleteMultipartUpload can answer
 * HTTP 200 and still fail, with an <Error> body sent after the status
 * line: that is parsed and treated like any other S3 error (retried if
 * the code is transient, e.g. InternalError).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crashpoint.h"
#include "common/xmalloc.h"
#include "s3/s3_int.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MPU_BODY_MAX	(1024 * 1024)

int
s3_mpu_create(struct s3_client *c, const char *key, char **upload_id,
    struct lsc_err *err)
{
	struct s3_param p[1] = { { "uploads", "" } };
	struct s3_call call;
	struct buf body;
	int rc;

	buf_init(&body, MPU_BODY_MAX);
	memset(&call, 0, sizeof(call));
	call.op = "CreateMultipartUpload";
	call.spec.method = "POST";
	call.spec.key = key;
	call.spec.params = p;
	call.spec.nparams = 1;
	call.spec.payload_hash = EMPTY_SHA256;
	call.ok_body = &body;
	rc = s3_call(c, &call, err);
	if (rc == LSC_OK)
		rc = s3_xml_initiate((const char *)body.data, body.len, upload_id,
		    err);
	buf_release(&body);
	return rc;
}

int
s3_mpu_part(struct s3_client *c, const char *key, const char *upload_id,
    int part_no, const void *data, size_t len, char **etag,
    struct lsc_err *err)
{
	char num[16], sha[65], md5[25];
	struct s3_param p[2];
	struct s3_hdr extra[1];
	struct s3_call call;
	int rc;

	if (part_no < 1 || part_no > S3_MAX_PARTS)
		return lsc_seterr(err, LSC_ECONFIG, 0, "UploadPart %s: part %d is "
		    "beyond S3's %d parts: raise part-size", s3_where(c, key),
		    part_no, S3_MAX_PARTS);
	snprintf(num, sizeof(num), "%d", part_no);
	p[0] = (struct s3_param){ "partNumber", num };
	p[1] = (struct s3_param){ "uploadId", upload_id };
	s3_sha256_hex(data, len, sha);
	s3_md5_base64(data, len, md5);
	extra[0] = (struct s3_hdr){ "content-md5", md5 };
	memset(&call, 0, sizeof(call));
	call.op = "UploadPart";
	call.spec.method = "PUT";
	call.spec.key = key;
	call.spec.params = p;
	call.spec.nparams = 2;
	call.spec.extra = extra;
	call.spec.nextra = 1;
	call.spec.payload_hash = sha;
	call.body = data;
	call.body_len = len;
	if ((rc = s3_call(c, &call, err)) != LSC_OK)
		return rc;
	if (call.resp.etag[0] == '\0')
		return lsc_seterr(err, LSC_ECORRUPT, 0, "UploadPart %s: part %d: "
		    "reply has no ETag", s3_where(c, key), part_no);
	*etag = xstrdup(call.resp.etag);
	CRASHPOINT("multipart.after-part");
	return LSC_OK;
}

static int
check_complete(struct s3_call *call, const struct buf *body, char *s3code,
    size_t s3code_len, struct lsc_err *err)
{
	struct s3_error_info e;
	struct lsc_err e2 = { 0 };
	int rc;

	memset(&e, 0, sizeof(e));
	rc = s3_xml_complete((const char *)body->data, body->len, &e, &e2);
	snprintf(s3code, s3code_len, "%s", e.code);
	/* Name the object, which the parser does not know. */
	if (rc == LSC_ES3)
		return lsc_seterr(err, rc, e2.sys, "CompleteMultipartUpload %s: "
		    "%s: %s (an error inside a 200 reply)",
		    s3_where(call->check_ctx, call->spec.key),
		    e.code[0] ? e.code : "Error", e.message);
	if (rc != LSC_OK)
		return lsc_seterr(err, rc, e2.sys, "%s: %s",
		    s3_where(call->check_ctx, call->spec.key), e2.msg);
	return LSC_OK;
}

int
s3_mpu_complete(struct s3_client *c, const char *key, const char *upload_id,
    char *const *etags, int nparts, struct lsc_err *err)
{
	struct s3_param p[1] = { { "uploadId", upload_id } };
	struct s3_call call;
	struct buf xml, body;
	char sha[65];
	int rc;

	buf_init(&xml, (size_t)-1 / 4);
	buf_init(&body, MPU_BODY_MAX);
	buf_appendf(&xml, NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<CompleteMultipartUpload "
	    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (int i = 0; i < nparts; i++) {
		buf_appendf(&xml, NULL, "<Part><PartNumber>%d</PartNumber><ETag>",
		    i + 1);
		s3_xml_escape(&xml, etags[i]);
		buf_append(&xml, "</ETag></Part>", 14, NULL);
	}
	buf_append(&xml, "</CompleteMultipartUpload>", 26, NULL);
	s3_sha256_hex(xml.data, xml.len, sha);
	memset(&call, 0, sizeof(call));
	call.op = "CompleteMultipartUpload";
	call.spec.method = "POST";
	call.spec.key = key;
	call.spec.params = p;
	call.spec.nparams = 1;
	call.spec.payload_hash = sha;
	call.body = xml.data;
	call.body_len = xml.len;
	call.ok_body = &body;
	call.check = check_complete;
	call.check_ctx = c;
	rc = s3_call(c, &call, err);
	buf_release(&xml);
	buf_release(&body);
	return rc;
}

int
s3_mpu_abort(struct s3_client *c, const char *key, const char *upload_id,
    struct lsc_err *err)
{
	struct s3_param p[1] = { { "uploadId", upload_id } };
	struct s3_call call;
	int saved = c->max_retries, rc;

	/* Best effort, and bounded even for the daemon: an orphan costs
	 * storage, not data, and a later clean-up can remove it. */
	if (c->max_retries < 0 || c->max_retries > 3)
		c->max_retries = 3;
	memset(&call, 0, sizeof(call));
	call.op = "AbortMultipartUpload";
	call.spec.method = "DELETE";
	call.spec.key = key;
	call.spec.params = p;
	call.spec.nparams = 1;
	call.spec.payload_hash = EMPTY_SHA256;
	rc = s3_call(c, &call, err);
	c->max_retries = saved;
	if (rc == LSC_ENOTFOUND)	/* NoSuchUpload: nothing left */
		rc = LSC_OK;
	return rc;
}
