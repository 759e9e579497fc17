/* SPDX-License-Identifier: MIT */
/*
 * The client: endpoint and addressing, request building and signing, and
 * the retry loop every operation goes through (s3_call).
 *
 * Addressing: path style puts the bucket in the path
 * (http://127.0.0.1:9000/bucket/key), virtual-hosted style in the host
 * (https://bucket.s3.eu-west-1.amazonaws.com/key).  The query string sent
 * is the canonical one, so what is signed is exactly what is sent.
 *
 * Each attempt is signed just before it is sent, with a fresh x-amz-date,
 * so a request that waited in back-off is never refused as skewed.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "s3/s3_int.h"

static int
bad_host_char(unsigned char ch)
{
	return !(isalnum(ch) || ch == '.' || ch == '-' || ch == ':' ||
	    ch == '[' || ch == ']' || ch == '_');
}

/* Split "http(s)://host[:port][/]" into scheme and host (port kept unless
 * it is the scheme's default, as the Host header and botocore do). */
static int
parse_endpoint(const char *ep, char **scheme, char **host, struct lsc_err *err)
{
	const char *h = ep;
	size_t n;
	char *hs;

	if (strncmp(ep, "https://", 8) == 0) {
		*scheme = xstrdup("https");
		h = ep + 8;
	} else if (strncmp(ep, "http://", 7) == 0) {
		*scheme = xstrdup("http");
		h = ep + 7;
	} else if (strstr(ep, "://") != NULL) {
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "S3 endpoint '%.100s': only http:// and https:// are supported",
		    ep);
	} else {
		*scheme = xstrdup("https");
	}
	n = strlen(h);
	if (n > 0 && h[n - 1] == '/')
		n--;
	if (n == 0 || n > 255) {
		free(*scheme);
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "S3 endpoint '%.100s' has no host", ep);
	}
	for (size_t i = 0; i < n; i++) {
		if (bad_host_char((unsigned char)h[i])) {
			free(*scheme);
			return lsc_seterr(err, LSC_ECONFIG, 0,
			    "S3 endpoint '%.100s': unexpected '%c' in host "
			    "(no path, user or spaces allowed)", ep,
			    isprint((unsigned char)h[i]) ? h[i] : '?');
		}
	}
	hs = xstrndup(h, n);
	for (char *p = hs; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	n = strlen(hs);
	if (strcmp(*scheme, "https") == 0 && n > 4 &&
	    strcmp(hs + n - 4, ":443") == 0)
		hs[n - 4] = '\0';
	else if (strcmp(*scheme, "http") == 0 && n > 3 &&
	    strcmp(hs + n - 3, ":80") == 0)
		hs[n - 3] = '\0';
	*host = hs;
	return LSC_OK;
}

/* "[::1]:9000", "127.0.0.1", "10.0.0.1:9000" */
static int
is_ip_host(const char *h)
{
	if (h[0] == '[')
		return 1;
	for (; *h && *h != ':'; h++)
		if (!(isdigit((unsigned char)*h) || *h == '.'))
			return 0;
	return 1;
}

static int
check_bucket(const char *b, struct lsc_err *err)
{
	size_t n = strlen(b);

	if (n < 1 || n > 255)
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "S3 bucket name '%.100s' must be 1 to 255 characters", b);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)b[i];

		if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == '_'))
			return lsc_seterr(err, LSC_ECONFIG, 0,
			    "S3 bucket name '%.100s' has a bad character", b);
	}
	return LSC_OK;
}

struct s3_client *
s3_client_new(const struct s3_config *cfg, struct lsc_err *err)
{
	struct s3_client *c;
	struct s3_http_opts ho;
	const char *region = cfg->region && cfg->region[0] ? cfg->region :
	    "us-east-1";

	if (cfg->bucket == NULL || check_bucket(cfg->bucket, err) != LSC_OK) {
		if (cfg->bucket == NULL)
			lsc_seterr(err, LSC_ECONFIG, 0, "S3: no bucket given");
		return NULL;
	}
	if (cfg->access_key_id == NULL || cfg->access_key_id[0] == '\0' ||
	    cfg->secret_access_key == NULL || cfg->secret_access_key[0] == '\0') {
		lsc_seterr(err, LSC_ECONFIG, 0,
		    "S3: no credentials: set access-key-id and secret-access-key "
		    "in [s3], or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		return NULL;
	}
	for (const char *p = region; *p; p++) {
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_') ||
		    p - region > 60) {
			lsc_seterr(err, LSC_ECONFIG, 0, "S3 region '%.64s' is not "
			    "a region name", region);
			return NULL;
		}
	}
	c = xcalloc(1, sizeof(*c));
	if (cfg->endpoint != NULL && cfg->endpoint[0] != '\0') {
		if (parse_endpoint(cfg->endpoint, &c->scheme, &c->host, err) !=
		    LSC_OK) {
			free(c);
			return NULL;
		}
	} else {
		c->scheme = xstrdup("https");
		c->host = xasprintf("s3.%s.amazonaws.com", region);
	}
	c->bucket = xstrdup(cfg->bucket);
	c->region = xstrdup(region);
	c->path_style = cfg->path_style;
	/* A dotted bucket cannot be a TLS host name under a wildcard cert,
	 * and an IP address cannot take a bucket in front of it. */
	if (!c->path_style && ((strchr(c->bucket, '.') != NULL &&
	    strcmp(c->scheme, "https") == 0) || is_ip_host(c->host)))
		c->path_style = 1;
	c->max_retries = cfg->max_retries;
	c->stop = cfg->stop;
	c->rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
	    (uint64_t)(uintptr_t)c;
	s3_sigv4_init(&c->sv, cfg->access_key_id, cfg->secret_access_key,
	    cfg->session_token);
	/* Say now, not at the first request, that the CA file is unusable. */
	if (cfg->ca_file != NULL && access(cfg->ca_file, R_OK) != 0) {
		lsc_seterr(err, LSC_ECONFIG, errno, "S3 ca-file '%s': %s",
		    cfg->ca_file, strerror(errno));
		s3_client_free(c);
		return NULL;
	}
	memset(&ho, 0, sizeof(ho));
	ho.ca_file = cfg->ca_file;
	ho.skip_verify = cfg->skip_verify;
	ho.connect_timeout_ms = cfg->connect_timeout_ms;
	ho.request_timeout_ms = cfg->request_timeout_ms;
	ho.low_speed_ms = cfg->low_speed_ms;
	c->http = s3_http_new(&ho, err);
	if (c->http == NULL) {
		s3_client_free(c);
		return NULL;
	}
	return c;
}

struct s3_client *
s3_client_dup(const struct s3_client *c, struct lsc_err *err)
{
	struct s3_client *d = xcalloc(1, sizeof(*d));

	d->scheme = xstrdup(c->scheme);
	d->host = xstrdup(c->host);
	d->bucket = xstrdup(c->bucket);
	d->region = xstrdup(c->region);
	d->path_style = c->path_style;
	d->max_retries = c->max_retries;
	d->stop = c->stop;
	d->rng = c->rng ^ (uint64_t)(uintptr_t)d;
	s3_sigv4_init(&d->sv, c->sv.access_key_id, c->sv.secret, c->sv.token);
	if ((d->http = s3_http_dup(c->http, err)) == NULL) {
		s3_client_free(d);
		return NULL;
	}
	return d;
}

void
s3_client_free(struct s3_client *c)
{
	if (c == NULL)
		return;
	s3_http_free(c->http);
	s3_sigv4_release(&c->sv);
	free(c->scheme);
	free(c->host);
	free(c->bucket);
	free(c->region);
	free(c);
}

void
s3_client_set_retry(struct s3_client *c, int max_retries,
    volatile sig_atomic_t *stop)
{
	c->max_retries = max_retries;
	c->stop = stop;
}

uint64_t
s3_client_requests(const struct s3_client *c)
{
	return c->nrequests;
}

uint64_t
s3_client_retries(const struct s3_client *c)
{
	return c->nretries;
}

const char *
s3_where(struct s3_client *c, const char *key)
{
	snprintf(c->where, sizeof(c->where), "s3://%s/%.100s%s", c->bucket,
	    key ? key : "", key && strlen(key) > 100 ? "..." : "");
	return c->where;
}

/* What a call is about, for messages: its key, else its subject. */
static const char *
call_where(struct s3_client *c, const struct s3_call *call)
{
	return s3_where(c, call->spec.key ? call->spec.key : call->subject);
}

void
s3_prepare(struct s3_client *c, const struct s3_reqspec *spec, time_t now,
    struct s3_prepared *out)
{
	struct buf path, query, authz;
	struct s3_hdr h[12];
	size_t nh = 0;
	char date[17];

	memset(out, 0, sizeof(*out));
	buf_init(&path, (size_t)-1 / 4);
	buf_init(&query, (size_t)-1 / 4);
	buf_init(&authz, (size_t)-1 / 4);
	buf_append(&path, "/", 1, NULL);
	buf_append(&query, "", 0, NULL);
	if (c->path_style) {
		out->host = xstrdup(c->host);
		s3_uri_encode(&path, c->bucket, strlen(c->bucket), 0);
		if (spec->key != NULL)
			buf_append(&path, "/", 1, NULL);
	} else {
		out->host = xasprintf("%s.%s", c->bucket, c->host);
	}
	if (spec->key != NULL)
		s3_uri_encode(&path, spec->key, strlen(spec->key), 1);
	s3_canonical_query(&query, spec->params, spec->nparams);
	s3_amz_date(now, date);

	h[nh++] = (struct s3_hdr){ "host", out->host };
	h[nh++] = (struct s3_hdr){ "x-amz-date", date };
	h[nh++] = (struct s3_hdr){ "x-amz-content-sha256", spec->payload_hash };
	if (c->sv.token != NULL)
		h[nh++] = (struct s3_hdr){ "x-amz-security-token", c->sv.token };
	for (size_t i = 0; i < spec->nextra && nh < 12; i++)
		h[nh++] = spec->extra[i];
	s3_sigv4_sign(&c->sv, c->region, "s3", date, spec->method,
	    (const char *)path.data, (const char *)query.data, h, nh,
	    spec->payload_hash, &authz, NULL, NULL);

	out->url = xasprintf("%s://%s%s%s%s", c->scheme, out->host,
	    (const char *)path.data, query.len ? "?" : "",
	    (const char *)query.data);
	for (size_t i = 0; i < nh; i++)
		out->headers[out->nheaders++] = xasprintf("%s: %s", h[i].name,
		    h[i].value);
	out->headers[out->nheaders++] = xasprintf("Authorization: %s",
	    (const char *)authz.data);
	out->headers[out->nheaders] = NULL;
	/* "SignedHeaders=a;b, Signature=" -> "a;b" */
	{
		const char *sh = strstr((const char *)authz.data,
		    "SignedHeaders=");
		const char *end = sh ? strchr(sh, ',') : NULL;

		if (sh != NULL && end != NULL)
			out->signed_headers = xstrndup(sh + 14,
			    (size_t)(end - sh - 14));
	}
	explicit_bzero(authz.data, authz.len);
	buf_release(&path);
	buf_release(&query);
	buf_release(&authz);
}

void
s3_prepared_release(struct s3_prepared *p)
{
	for (int i = 0; i < p->nheaders; i++) {
		/* Wipe the signature and any session token. */
		explicit_bzero(p->headers[i], strlen(p->headers[i]));
		free(p->headers[i]);
	}
	free(p->url);
	free(p->host);
	free(p->signed_headers);
	memset(p, 0, sizeof(*p));
}

static uint64_t
next_rand(struct s3_client *c)
{
	/* xorshift64*: only for jitter, not for anything secret. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ULL;
}

static int
stopping(const struct s3_client *c)
{
	return c->stop != NULL && *c->stop;
}

/* Sleep ms in short slices so shutdown is not held up; 1 if stopped. */
static int
nap(struct s3_client *c, int64_t ms)
{
	while (ms > 0 && !stopping(c)) {
		int64_t slice = ms < 50 ? ms : 50;
		struct timespec ts = { 0, (long)slice * 1000000L };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stopping(c))
			;
		ms -= slice;
	}
	return stopping(c);
}

int
s3_backoff_nap(struct s3_client *c, int attempt)
{
	return stopping(c) || nap(c, s3_backoff_ms(attempt, next_rand(c)));
}

/*
 * Turn a refusal into one line saying what to fix.  `signed_at` is the
 * time the request was signed (for clock skew).
 */
static int
refusal(struct s3_client *c, struct s3_call *call,
    const struct s3_http_resp *r, const struct s3_error_info *e,
    time_t signed_at, struct lsc_err *err)
{
	const char *where = call_where(c, call);
	const char *code = e->code;
	int st = (int)r->status;

	if (strcmp(code, "NoSuchKey") == 0 || (st == 404 && code[0] == '\0' &&
	    call->spec.key != NULL))
		return lsc_seterr(err, LSC_ENOTFOUND, st, "%s %s: no such object",
		    call->op, where);
	if (strcmp(code, "NoSuchBucket") == 0)
		return lsc_seterr(err, LSC_ES3, st,
		    "%s %s: bucket '%s' does not exist at %s://%s (NoSuchBucket): "
		    "create it or fix the bucket name", call->op, where, c->bucket,
		    c->scheme, c->host);
	if (strcmp(code, "InvalidAccessKeyId") == 0)
		return lsc_seterr(err, LSC_ES3, st,
		    "%s %s: the server does not know this access key id "
		    "(InvalidAccessKeyId): check access-key-id or AWS_ACCESS_KEY_ID",
		    call->op, where);
	if (strcmp(code, "SignatureDoesNotMatch") == 0)
		return lsc_seterr(err, LSC_ES3, st,
		    "%s %s: request signature refused (SignatureDoesNotMatch): "
		    "check secret-access-key or AWS_SECRET_ACCESS_KEY", call->op,
		    where);
	if (strcmp(code, "AccessDenied") == 0)
		return lsc_seterr(err, LSC_ES3, st,
		    "%s %s: access denied (AccessDenied): check the credentials' "
		    "permissions on bucket '%s'", call->op, where, c->bucket);
	if (strcmp(code, "ExpiredToken") == 0 ||
	    strcmp(code, "InvalidToken") == 0)
		return lsc_seterr(err, LSC_ES3, st,
		    "%s %s: session token refused (%s): refresh session-token or "
		    "AWS_SESSION_TOKEN", call->op, where, code);
	if (strcmp(code, "RequestTimeTooSkewed") == 0) {
		int64_t server = -1, ns;

		if (e->server_time[0] && s3_parse_iso8601(e->server_time,
		    &ns) == 0)
			server = ns / 1000000000;
		else if (r->date_s >= 0)
			server = r->date_s;
		if (server >= 0) {
			long long off = (long long)signed_at - (long long)server;

			return lsc_seterr(err, LSC_ES3, st,
			    "%s %s: local clock is %lld s %s the server's "
			    "(RequestTimeTooSkewed, limit 900 s): fix the clock "
			    "(NTP)", call->op, where, off < 0 ? -off : off,
			    off < 0 ? "behind" : "ahead of");
		}
		return lsc_seterr(err, LSC_ES3, st,
		    "%s %s: local clock differs from the server's by more than "
		    "15 minutes (RequestTimeTooSkewed): fix the clock (NTP)",
		    call->op, where);
	}
	if (e->region[0] != '\0' || r->bucket_region[0] != '\0' || st == 301) {
		const char *right = r->bucket_region[0] ? r->bucket_region :
		    e->region;

		if (right[0] != '\0' && strcmp(right, c->region) != 0)
			return lsc_seterr(err, LSC_ES3, st,
			    "%s %s: bucket '%s' is in region '%s', not '%s' (%s): "
			    "set region = %s", call->op, where, c->bucket, right,
			    c->region, code[0] ? code : "redirect", right);
		if (st == 301)
			return lsc_seterr(err, LSC_ES3, st,
			    "%s %s: the server redirects elsewhere (%s%s%s): check "
			    "endpoint, region and path-style", call->op, where,
			    code[0] ? code : "301", e->endpoint[0] ? " to " : "",
			    e->endpoint);
	}
	if (code[0] != '\0')
		return lsc_seterr(err, LSC_ES3, st, "%s %s: HTTP %d %s: %s",
		    call->op, where, st, code, e->message[0] ? e->message :
		    "no message");
	return lsc_seterr(err, LSC_ES3, st, "%s %s: HTTP %d", call->op, where,
	    st);
}

/*
 * GetObject's sink: on the first bytes of each attempt decide how many to
 * skip (a server that ignored Range sends everything again), then pass
 * each byte on exactly once.
 */
static int
get_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct s3_call *call = ctx;
	const unsigned char *p = data;
	const struct s3_http_resp *r = &call->resp;

	if (call->first_chunk) {
		call->first_chunk = 0;
		if (r->status == 206) {
			if (r->range_start < 0 ||
			    (uint64_t)r->range_start != call->delivered)
				return lsc_seterr(err, LSC_ENET, 0,
				    "GetObject: Content-Range starts at %lld, "
				    "wanted %llu", (long long)r->range_start,
				    (unsigned long long)call->delivered);
			call->skip = 0;
		} else {
			call->skip = call->delivered;
		}
	}
	if (call->skip > 0) {
		size_t s = call->skip < len ? (size_t)call->skip : len;

		p += s;
		len -= s;
		call->skip -= s;
	}
	if (len == 0)
		return LSC_OK;
	if (call->total >= 0 && call->delivered + len > (uint64_t)call->total)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "GetObject: more bytes than the object's %lld",
		    (long long)call->total);
	call->delivered += len;
	return call->user_sink(call->user_ctx, p, len, err);
}

/* Record what a GET reply says about the whole object; check it agrees. */
static int
get_meta(struct s3_client *c, struct s3_call *call, struct lsc_err *err)
{
	const struct s3_http_resp *r = &call->resp;
	int64_t total = r->status == 206 ? r->range_total : r->content_length;

	if (total < 0)
		return lsc_seterr(err, LSC_ENET, 0, "%s %s: reply has no length",
		    call->op, call_where(c, call));
	if (call->total >= 0 && (total != call->total ||
	    (call->etag[0] && r->etag[0] && strcmp(call->etag, r->etag) != 0)))
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "%s %s: object changed while being downloaded", call->op,
		    call_where(c, call));
	call->total = total;
	if (call->etag[0] == '\0')
		snprintf(call->etag, sizeof(call->etag), "%s", r->etag);
	return LSC_OK;
}

/* One attempt; *s3code gets the S3 error code, if any. */
static int
attempt(struct s3_client *c, struct s3_call *call, char *s3code,
    size_t s3code_len, struct lsc_err *err)
{
	struct s3_prepared prep;
	struct s3_http_req req;
	struct s3_http_resp *r = &call->resp;
	struct s3_reqspec spec = call->spec;
	struct s3_hdr extra[8];
	struct buf ebody;
	char range[48];
	time_t now;
	int rc;
	struct timespec t0, t1;

	s3code[0] = '\0';
	if (call->get && call->delivered > 0 && spec.nextra < 7) {
		/* spec.extra may be NULL: memcpy must not see it even for 0. */
		if (spec.nextra > 0)
			memcpy(extra, spec.extra, spec.nextra * sizeof(*extra));
		snprintf(range, sizeof(range), "bytes=%llu-",
		    (unsigned long long)call->delivered);
		extra[spec.nextra] = (struct s3_hdr){ "range", range };
		spec.extra = extra;
		spec.nextra++;
	}
	buf_init(&ebody, 64 * 1024);
	if (call->ok_body != NULL)
		buf_reset(call->ok_body);
	now = time(NULL);
	s3_prepare(c, &spec, now, &prep);
	memset(&req, 0, sizeof(req));
	req.method = spec.method;
	req.url = prep.url;
	req.headers = (const char *const *)prep.headers;
	req.body = call->body;
	req.body_len = call->body_len;
	req.err_body = &ebody;
	if (call->get) {
		call->first_chunk = 1;
		req.sink = get_sink;
		req.sink_ctx = call;
	} else {
		req.sink = call->sink;
		req.sink_ctx = call->sink_ctx;
		req.ok_body = call->ok_body;
	}
	c->nrequests++;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = s3_http_do(c->http, &req, r, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* A failed sink still had a reply; any other failure had none. */
	s3_stats_count(call->op, rc != LSC_OK && !r->sink_failed ?
	    S3_STATS_CODE_NONE : r->status);
	log_debug("s3 request\tmethod=%s url=%s status=%ld ms=%lld",
	    spec.method, prep.url, r->status,
	    (long long)((t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	s3_prepared_release(&prep);
	if (rc != LSC_OK) {
		if ((rc == LSC_ENET || rc == LSC_ECONFIG) && !r->sink_failed) {
			/* Prefix the curl message with what we were doing. */
			char m[LSC_ERRLEN];
			int sys = err->sys;

			snprintf(m, sizeof(m), "%s", err->msg);
			lsc_err_clear(err);
			rc = lsc_seterr(err, rc, sys, "%s %s: %s", call->op,
			    call_where(c, call), m);
		}
		buf_release(&ebody);
		return rc;
	}
	if (r->status >= 200 && r->status < 300) {
		buf_release(&ebody);
		if (call->get && (rc = get_meta(c, call, err)) != LSC_OK)
			return rc;
		if (r->content_length >= 0 && spec.method[0] != 'H' &&
		    r->body_bytes < (uint64_t)r->content_length)
			return lsc_seterr(err, LSC_ENET, 0,
			    "%s %s: short body: %llu of %lld bytes", call->op,
			    call_where(c, call),
			    (unsigned long long)r->body_bytes,
			    (long long)r->content_length);
		if (call->get && call->delivered != (uint64_t)call->total)
			return lsc_seterr(err, LSC_ENET, 0,
			    "%s %s: short body: %llu of %lld bytes", call->op,
			    call_where(c, call),
			    (unsigned long long)call->delivered,
			    (long long)call->total);
		if (call->check != NULL)
			return call->check(call, call->ok_body, s3code, s3code_len,
			    err);
		return LSC_OK;
	}
	{
		struct s3_error_info e;

		if (s3_xml_error((const char *)ebody.data, ebody.len, &e) != 1)
			memset(&e, 0, sizeof(e));
		snprintf(s3code, s3code_len, "%s", e.code);
		buf_release(&ebody);
		return refusal(c, call, r, &e, now, err);
	}
}

int
s3_call(struct s3_client *c, struct s3_call *call, struct lsc_err *err)
{
	char s3code[64];
	int rc;

	if (call->get) {
		call->user_sink = call->sink;
		call->user_ctx = call->sink_ctx;
		call->total = -1;
		call->delivered = 0;
		call->etag[0] = '\0';
	}
	for (int n = 0;; n++) {
		struct lsc_err e = { 0 };
		int64_t ms;

		rc = attempt(c, call, s3code, sizeof(s3code), &e);
		if (rc == LSC_OK)
			return LSC_OK;
		if (call->resp.sink_failed || !s3_retryable(rc, e.sys, s3code) ||
		    (c->max_retries >= 0 && n >= c->max_retries)) {
			if (n > 0 && s3_retryable(rc, e.sys, s3code))
				return lsc_seterr(err, rc, e.sys, "%s (gave up after "
				    "%d attempts)", e.msg, n + 1);
			return lsc_seterr(err, rc, e.sys, "%s", e.msg);
		}
		ms = s3_backoff_ms(n, next_rand(c));
		if (call->resp.retry_after_s > 0 &&
		    call->resp.retry_after_s * 1000 > ms)
			ms = call->resp.retry_after_s * 1000 > S3_BACKOFF_CAP_MS ?
			    S3_BACKOFF_CAP_MS : call->resp.retry_after_s * 1000;
		log_debug("s3 retry\top=%s attempt=%d delay_ms=%lld error=\"%s\"",
		    call->op, n + 1, (long long)ms, e.msg);
		c->nretries++;
		if (stopping(c) || nap(c, ms))
			return lsc_seterr(err, LSC_ESTOP, 0, "%s: stopped while "
			    "retrying after: %s", call->op, e.msg);
	}
}
