/* SPDX-License-Identifier: MIT */
/*
 * One HTTP exchange over a libcurl easy handle that lives as long as the
 * client, so connections (and TLS sessions) are reused.  curl_easy_reset
 * between requests keeps the connection cache while dropping the previous
 * request's options.
 *
 * What we ask of curl: a known Content-Length on every body (never
 * chunked), no `Expect: 100-continue` (a peer that ignores it costs a
 * second per request), no automatic redirects (a 301 from S3 means a
 * wrong region, which we report), http and https only, TLS verified unless
 * skip_verify (a certificate that fails verification is a configuration
 * error, not retried), and three timeouts: connect, low speed (less than 1 byte/s
 * for low_speed_ms) and total.  CURLOPT_VERBOSE is never set: it would
 * print the Authorization header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/xmalloc.h"
#include "s3/s3_int.h"

#define ERR_BODY_MAX	(64 * 1024)

struct s3_http {
	CURL		*curl;
	struct s3_http_opts o;
	char		*ca_file;
	char		 errbuf[CURL_ERROR_SIZE];
};

struct xfer {
	const struct s3_http_req *req;
	struct s3_http_resp	*resp;
	struct lsc_err		*err;
	size_t			 sent;		/* request body bytes read */
	int			 sink_rc;
};

static int curl_ready;

struct s3_http *
s3_http_new(const struct s3_http_opts *o, struct lsc_err *err)
{
	struct s3_http *h;

	if (!curl_ready) {
		/* Not thread-safe in libcurl 7.88; the first client is made
		 * at start-up, before any thread. */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			lsc_seterr(err, LSC_ECONFIG, 0, "cannot initialise libcurl");
			return NULL;
		}
		curl_ready = 1;
	}
	h = xcalloc(1, sizeof(*h));
	h->o = *o;
	h->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	h->o.ca_file = h->ca_file;
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h->ca_file);
		free(h);
		lsc_seterr(err, LSC_ECONFIG, 0, "cannot create a libcurl handle");
		return NULL;
	}
	return h;
}

struct s3_http *
s3_http_dup(const struct s3_http *h, struct lsc_err *err)
{
	return s3_http_new(&h->o, err);
}

void
s3_http_free(struct s3_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h);
}

static int
is_2xx(long status)
{
	return status >= 200 && status < 300;
}

static void
header_value(char *dst, size_t n, const char *v, size_t vl)
{
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
	    v[vl - 1] == ' '))
		vl--;
	if (vl >= n)
		vl = n - 1;
	memcpy(dst, v, vl);
	dst[vl] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	struct s3_http_resp *r = x->resp;
	size_t n = size * nmemb;
	const char *colon;
	char name[64], val[512];
	size_t nl;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new status line (after 100 Continue, say): start over. */
		const char *sp = memchr(p, ' ', n);

		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		r->content_length = -1;
		r->range_start = -1;
		r->range_total = -1;
		r->retry_after_s = -1;
		r->date_s = -1;
		r->last_modified_s = -1;
		r->etag[0] = '\0';
		r->bucket_region[0] = '\0';
		return n;
	}
	colon = memchr(p, ':', n);
	if (colon == NULL)
		return n;
	nl = (size_t)(colon - p);
	if (nl >= sizeof(name))
		return n;
	memcpy(name, p, nl);
	name[nl] = '\0';
	header_value(val, sizeof(val), colon + 1, n - nl - 1);
	if (strcasecmp(name, "Content-Length") == 0) {
		r->content_length = strtoll(val, NULL, 10);
	} else if (strcasecmp(name, "Content-Range") == 0) {
		long long a, b, t;

		/* "bytes 100-199/1000" */
		if (sscanf(val, "bytes %lld-%lld/%lld", &a, &b, &t) == 3) {
			r->range_start = a;
			r->range_total = t;
		}
	} else if (strcasecmp(name, "ETag") == 0) {
		header_value(r->etag, sizeof(r->etag), val, strlen(val));
	} else if (strcasecmp(name, "x-amz-bucket-region") == 0) {
		header_value(r->bucket_region, sizeof(r->bucket_region), val,
		    strlen(val));
	} else if (strcasecmp(name, "Retry-After") == 0) {
		r->retry_after_s = strtoll(val, NULL, 10);
	} else if (strcasecmp(name, "Date") == 0) {
		int64_t s;

		if (s3_parse_http_date(val, &s) == 0)
			r->date_s = s;
	} else if (strcasecmp(name, "Last-Modified") == 0) {
		int64_t s;

		if (s3_parse_http_date(val, &s) == 0)
			r->last_modified_s = s;
	}
	return n;
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	const struct s3_http_req *q = x->req;
	size_t n = size * nmemb;

	x->resp->body_bytes += n;
	if (!is_2xx(x->resp->status)) {
		if (q->err_body != NULL && q->err_body->len + n <= ERR_BODY_MAX)
			buf_append(q->err_body, p, n, NULL);
		return n;
	}
	if (q->sink != NULL) {
		x->sink_rc = q->sink(q->sink_ctx, p, n, x->err);
		if (x->sink_rc != LSC_OK) {
			x->resp->sink_failed = 1;
			return 0;	/* abort the transfer */
		}
		return n;
	}
	if (q->ok_body != NULL && buf_append(q->ok_body, p, n, x->err) !=
	    LSC_OK) {
		x->sink_rc = LSC_ECORRUPT;
		x->resp->sink_failed = 1;
		return 0;
	}
	return n;
}

static size_t
on_read(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, left = x->req->body_len - x->sent;

	if (n > left)
		n = left;
	if (n > 0)
		memcpy(p, (const char *)x->req->body + x->sent, n);
	x->sent += n;
	return n;
}

/* Rewinding is needed when curl resends a body (after a 401, say). */
static int
on_seek(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	if (origin != SEEK_SET || off < 0 || (size_t)off > x->req->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/*
 * A failed transfer.  Most causes are transient (LSC_ENET: retried), but a
 * certificate the server cannot prove, or a CA file curl cannot use, will
 * be the same on every attempt: LSC_ECONFIG (not retried), saying what to
 * set.  errbuf names the host and cause, never a header.
 */
static int
transfer_error(const struct s3_http *h, CURLcode cc, struct lsc_err *err)
{
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		/* One code for both; the text tells a name mismatch (a wrong
		 * endpoint) from an unknown issuer (a missing ca-file). */
		if (strstr(why, "host name") != NULL ||
		    strstr(why, "subject name") != NULL)
			return lsc_seterr(err, LSC_ECONFIG, (int)cc,
			    "TLS: the server certificate is not for this host (%s): "
			    "check endpoint", why);
		/* FALLTHROUGH */
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return lsc_seterr(err, LSC_ECONFIG, (int)cc,
		    "TLS: server certificate not trusted (%s): set ca-file to the "
		    "CA that signed it", why);
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CRL_BADFILE:
		return lsc_seterr(err, LSC_ECONFIG, (int)cc,
		    "TLS: cannot use the CA file (%s): check ca-file", why);
	default:
		return lsc_seterr(err, LSC_ENET, (int)cc, "%s", why);
	}
}

int
s3_http_do(struct s3_http *h, const struct s3_http_req *req,
    struct s3_http_resp *resp, struct lsc_err *err)
{
	CURL *c = h->curl;
	struct curl_slist *hl = NULL;
	struct xfer x;
	CURLcode cc;
	int64_t total = h->o.request_timeout_ms > 0 ? h->o.request_timeout_ms :
	    15 * 60 * 1000;
	int64_t low = h->o.low_speed_ms > 0 ? h->o.low_speed_ms : 30000;
	int64_t conn = h->o.connect_timeout_ms > 0 ? h->o.connect_timeout_ms :
	    10000;

	if (low > total)
		low = total;
	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	resp->range_start = -1;
	resp->range_total = -1;
	resp->retry_after_s = -1;
	resp->date_s = -1;
	resp->last_modified_s = -1;
	memset(&x, 0, sizeof(x));
	x.req = req;
	x.resp = resp;
	x.err = err;

	curl_easy_reset(c);
	h->errbuf[0] = '\0';
	for (int i = 0; req->headers[i] != NULL; i++)
		hl = curl_slist_append(hl, req->headers[i]);
	/* Empty values make curl drop its defaults. */
	hl = curl_slist_append(hl, "Expect:");
	hl = curl_slist_append(hl, "Accept:");
	hl = curl_slist_append(hl, "Transfer-Encoding:");
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "litestream-c");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)conn);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)total);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
	    (long)((low + 999) / 1000));
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	if (h->o.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->o.ca_file);
	if (h->o.skip_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, &x);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}

	cc = curl_easy_perform(c);
	curl_slist_free_all(hl);
	if (resp->sink_failed)
		return x.sink_rc;
	if (cc != CURLE_OK)
		return transfer_error(h, cc, err);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	return LSC_OK;
}
