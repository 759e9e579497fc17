/* SPDX-License-Identifier: MIT */
/*
 * ListObjectsV2 (and the one-page listing that checks a bucket) and
 * DeleteObjects.
 *
 * Listings are flat (prefix only, no delimiter: fewer calls, and some
 * stores get delimiter walks wrong), ask for encoding-type=url so keys XML
 * cannot carry still arrive, and follow NextContinuationToken until
 * IsTruncated is false.  A page that repeats its token is refused rather
 * than looped on forever.
 *
 * DeleteObjects takes at most 1000 keys per request and needs Content-MD5.
 * Its 200 reply may list per-key <Error>s; those keys are sent again
 * under the client's retry policy (NoSuchKey counts as deleted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "s3/s3_int.h"

#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define LIST_BODY_MAX	(16 * 1024 * 1024)
#define LIST_MAX_PAGES	10000000

int
s3_list_objects(struct s3_client *c, const char *prefix, s3_list_fn fn,
    void *ctx, struct lsc_err *err)
{
	struct buf body;
	char *token = NULL;
	int rc = LSC_OK;

	buf_init(&body, LIST_BODY_MAX);
	for (long page = 0; page < LIST_MAX_PAGES; page++) {
		struct s3_param p[4];
		struct s3_call call;
		struct s3_list_page pg;
		size_t np = 0;

		p[np++] = (struct s3_param){ "list-type", "2" };
		p[np++] = (struct s3_param){ "encoding-type", "url" };
		if (prefix != NULL && prefix[0] != '\0')
			p[np++] = (struct s3_param){ "prefix", prefix };
		if (token != NULL)
			p[np++] = (struct s3_param){ "continuation-token", token };
		memset(&call, 0, sizeof(call));
		call.op = "ListObjectsV2";
		call.spec.method = "GET";
		call.spec.params = p;
		call.spec.nparams = np;
		call.spec.payload_hash = EMPTY_SHA256;
		call.subject = prefix;
		call.ok_body = &body;
		if ((rc = s3_call(c, &call, err)) != LSC_OK)
			break;
		rc = s3_xml_list((const char *)body.data, body.len, fn, ctx, &pg,
		    err);
		if (rc != LSC_OK)
			break;
		if (!pg.truncated) {
			free(pg.next_token);
			break;
		}
		if (token != NULL && strcmp(token, pg.next_token) == 0) {
			free(pg.next_token);
			rc = lsc_seterr(err, LSC_ECORRUPT, 0, "ListObjectsV2 %s: "
			    "the server repeats its continuation token",
			    s3_where(c, prefix));
			break;
		}
		free(token);
		token = pg.next_token;
	}
	free(token);
	buf_release(&body);
	return rc;
}

static int
count_key(void *ctx, const char *key, uint64_t size, int64_t mtime_ns,
    struct lsc_err *err)
{
	(void)key;
	(void)size;
	(void)mtime_ns;
	(void)err;
	(*(int *)ctx)++;
	return LSC_OK;
}

int
s3_check_bucket(struct s3_client *c, const char *prefix, struct lsc_err *err)
{
	struct s3_param p[4];
	struct s3_call call;
	struct s3_list_page pg;
	struct buf body;
	struct lsc_err e = { 0 };
	size_t np = 0;
	int n = 0, rc;

	p[np++] = (struct s3_param){ "list-type", "2" };
	p[np++] = (struct s3_param){ "max-keys", "1" };
	if (prefix != NULL && prefix[0] != '\0')
		p[np++] = (struct s3_param){ "prefix", prefix };
	memset(&call, 0, sizeof(call));
	call.op = "ListObjectsV2";
	call.spec.method = "GET";
	call.spec.params = p;
	call.spec.nparams = np;
	call.spec.payload_hash = EMPTY_SHA256;
	call.subject = prefix;
	buf_init(&body, LIST_BODY_MAX);
	call.ok_body = &body;
	rc = s3_call(c, &call, &e);
	if (rc == LSC_OK) {
		rc = s3_xml_list((const char *)body.data, body.len, count_key, &n,
		    &pg, &e);
		if (rc == LSC_OK)
			free(pg.next_token);
	}
	buf_release(&body);
	/* What retries could still cure counts as "not reachable yet". */
	if (rc == LSC_ES3 && s3_retryable(rc, e.sys, NULL))
		rc = LSC_ENET;
	if (rc != LSC_OK)
		return lsc_seterr(err, rc, e.sys, "%s", e.msg);
	return LSC_OK;
}

struct del_state {
	char		**retry;	/* keys to send again */
	size_t		 nretry;
	char		 first_code[64];
	char		 first_key[128];
	char		 first_msg[128];
};

static void
on_del_error(void *ctx, const char *key, const char *code, const char *msg)
{
	struct del_state *d = ctx;

	if (strcmp(code, "NoSuchKey") == 0)
		return;		/* already gone: that is what we wanted */
	if (d->nretry < S3_DELETE_BATCH)
		d->retry[d->nretry++] = xstrdup(key);
	if (d->first_code[0] == '\0') {
		snprintf(d->first_code, sizeof(d->first_code), "%s", code);
		snprintf(d->first_key, sizeof(d->first_key), "%s", key);
		snprintf(d->first_msg, sizeof(d->first_msg), "%s", msg);
	}
}

/* One DeleteObjects request with retries of transport/5xx failures. */
static int
delete_batch(struct s3_client *c, const char *const *keys, size_t n,
    struct del_state *d, struct lsc_err *err)
{
	struct buf xml, body;
	struct s3_param p[1] = { { "delete", "" } };
	struct s3_hdr extra[1];
	struct s3_call call;
	char sha[65], md5[25];
	int rc;

	buf_init(&xml, (size_t)-1 / 4);
	buf_init(&body, LIST_BODY_MAX);
	buf_appendf(&xml, NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	    "<Quiet>true</Quiet>");
	for (size_t i = 0; i < n; i++) {
		buf_append(&xml, "<Object><Key>", 13, NULL);
		s3_xml_escape(&xml, keys[i]);
		buf_append(&xml, "</Key></Object>", 15, NULL);
	}
	buf_append(&xml, "</Delete>", 9, NULL);
	s3_sha256_hex(xml.data, xml.len, sha);
	s3_md5_base64(xml.data, xml.len, md5);
	extra[0] = (struct s3_hdr){ "content-md5", md5 };
	memset(&call, 0, sizeof(call));
	call.op = "DeleteObjects";
	call.spec.method = "POST";
	call.spec.params = p;
	call.spec.nparams = 1;
	call.spec.extra = extra;
	call.spec.nextra = 1;
	call.spec.payload_hash = sha;
	call.body = xml.data;
	call.body_len = xml.len;
	call.ok_body = &body;
	rc = s3_call(c, &call, err);
	if (rc == LSC_OK)
		rc = s3_xml_delete_result((const char *)body.data, body.len,
		    on_del_error, d, err);
	buf_release(&xml);
	buf_release(&body);
	return rc;
}

int
s3_delete_objects(struct s3_client *c, const char *const *keys, size_t n,
    struct lsc_err *err)
{
	int rc = LSC_OK;

	for (size_t off = 0; off < n && rc == LSC_OK; off += S3_DELETE_BATCH) {
		const char *const *send = keys + off;
		size_t nsend = n - off < S3_DELETE_BATCH ? n - off :
		    S3_DELETE_BATCH;
		char **owned = NULL;
		size_t nowned = 0;

		for (int round = 0;; round++) {
			struct del_state d;

			memset(&d, 0, sizeof(d));
			d.retry = xcalloc(S3_DELETE_BATCH, sizeof(char *));
			rc = delete_batch(c, send, nsend, &d, err);
			for (size_t i = 0; i < nowned; i++)
				free(owned[i]);
			free(owned);
			owned = d.retry;
			nowned = d.nretry;
			send = (const char *const *)owned;
			nsend = nowned;
			if (rc != LSC_OK || nsend == 0)
				break;
			if (!s3_retryable(LSC_ES3, 200, d.first_code) ||
			    (c->max_retries >= 0 && round >= c->max_retries)) {
				rc = lsc_seterr(err, LSC_ES3, 200,
				    "DeleteObjects %s: %zu keys not deleted, "
				    "first '%.80s': %s: %s", s3_where(c, NULL), nsend,
				    d.first_key, d.first_code, d.first_msg);
				break;
			}
			log_debug("s3 retry\top=DeleteObjects keys=%zu code=%s",
			    nsend, d.first_code);
			c->nretries++;
			if (s3_backoff_nap(c, round)) {
				rc = lsc_seterr(err, LSC_ESTOP, 0, "DeleteObjects: "
				    "stopped while retrying %zu keys", nsend);
				break;
			}
		}
		for (size_t i = 0; i < nowned; i++)
			free(owned[i]);
		free(owned);
	}
	return rc;
}
