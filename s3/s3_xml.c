/* SPDX-License-Identifier: MIT */
/*
 * S3 reply bodies, parsed with libexpat (never by hand).  One small walker
 * keeps the path of open elements and the text of the innermost one; each
 * reply type is a callback that looks at (path, text) when an element
 * closes.  Namespaces are ignored: S3 puts everything in one default
 * namespace and expat without namespace processing reports plain names.
 *
 * Limits: 16 levels, 64 KiB of text per element.  Anything deeper or
 * longer is refused as not an S3 reply.  Expat refuses DTDs with entity
 * declarations that expand without bound (billion laughs protection in
 * expat >= 2.4), and we never ask it to load external entities.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>

#include "common/xmalloc.h"
#include "s3/s3_int.h"

#define XML_MAX_DEPTH	16
#define XML_MAX_TEXT	(64 * 1024)

struct walker;
typedef void (*elem_fn)(struct walker *w, const char *text);

struct walker {
	XML_Parser	 p;
	const char	*path[XML_MAX_DEPTH];
	int		 depth;
	int		 overflow;
	struct buf	 text;
	elem_fn		 on_end;
	void		*ctx;
};

/* Is the element just closed at depth `d` (1 = root) named `name`? */
static int
at(const struct walker *w, int d, const char *name)
{
	return w->depth == d && strcmp(w->path[d - 1], name) == 0;
}

static int
under(const struct walker *w, int d, const char *name)
{
	return w->depth >= d && strcmp(w->path[d - 1], name) == 0;
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct walker *w = ud;

	(void)attrs;
	if (w->depth >= XML_MAX_DEPTH) {
		w->overflow = 1;
		XML_StopParser(w->p, XML_FALSE);
		return;
	}
	w->path[w->depth++] = xstrdup(name);
	buf_reset(&w->text);
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct walker *w = ud;

	(void)name;
	if (w->depth == 0)
		return;
	w->on_end(w, w->text.data ? (const char *)w->text.data : "");
	free((char *)w->path[--w->depth]);
	buf_reset(&w->text);
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct walker *w = ud;

	if (buf_append(&w->text, s, (size_t)len, NULL) != LSC_OK) {
		w->overflow = 1;
		XML_StopParser(w->p, XML_FALSE);
	}
}

/* Parse body; 0 if well-formed and within limits, -1 if not. */
static int
walk(const char *body, size_t len, elem_fn fn, void *ctx)
{
	struct walker w;
	int ok;

	memset(&w, 0, sizeof(w));
	w.on_end = fn;
	w.ctx = ctx;
	buf_init(&w.text, XML_MAX_TEXT);
	w.p = XML_ParserCreate("UTF-8");
	if (w.p == NULL)
		return -1;
	XML_SetUserData(w.p, &w);
	XML_SetElementHandler(w.p, on_start, on_end);
	XML_SetCharacterDataHandler(w.p, on_text);
	ok = len <= (size_t)INT32_MAX &&
	    XML_Parse(w.p, body, (int)len, XML_TRUE) == XML_STATUS_OK &&
	    !w.overflow;
	while (w.depth > 0)
		free((char *)w.path[--w.depth]);
	XML_ParserFree(w.p);
	buf_release(&w.text);
	return ok ? 0 : -1;
}

static void
copy_field(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

/* ---- <Error> ---- */

struct err_ctx {
	struct s3_error_info	*out;
	int			 is_error;
};

static void
error_end(struct walker *w, const char *text)
{
	struct err_ctx *c = w->ctx;
	struct s3_error_info *e = c->out;

	if (at(w, 1, "Error"))
		c->is_error = 1;
	if (w->depth != 2 || !under(w, 1, "Error"))
		return;
	if (at(w, 2, "Code"))
		copy_field(e->code, sizeof(e->code), text);
	else if (at(w, 2, "Message"))
		copy_field(e->message, sizeof(e->message), text);
	else if (at(w, 2, "Region"))
		copy_field(e->region, sizeof(e->region), text);
	else if (at(w, 2, "RequestTime"))
		copy_field(e->request_time, sizeof(e->request_time), text);
	else if (at(w, 2, "ServerTime"))
		copy_field(e->server_time, sizeof(e->server_time), text);
	else if (at(w, 2, "Endpoint"))
		copy_field(e->endpoint, sizeof(e->endpoint), text);
}

int
s3_xml_error(const char *body, size_t len, struct s3_error_info *out)
{
	struct err_ctx c = { out, 0 };

	memset(out, 0, sizeof(*out));
	if (len == 0 || walk(body, len, error_end, &c) != 0)
		return -1;
	return c.is_error;
}

/* ---- ListBucketResult ---- */

struct list_ctx {
	s3_list_fn		 fn;
	void			*ctx;
	struct s3_list_page	*page;
	struct lsc_err		*err;
	int			 rc;
	int			 is_list;
	/* The current <Contents>. */
	char			*key;
	uint64_t		 size;
	int64_t			 mtime_ns;
	/* Contents seen before <EncodingType> (which may come last). */
	struct {
		char	*key;
		uint64_t size;
		int64_t	 mtime_ns;
	}			*pend;
	size_t			 npend, cappend;
};

static void
list_end(struct walker *w, const char *text)
{
	struct list_ctx *c = w->ctx;

	if (at(w, 1, "ListBucketResult")) {
		c->is_list = 1;
		return;
	}
	if (w->depth < 2 || !under(w, 1, "ListBucketResult"))
		return;
	if (at(w, 2, "IsTruncated")) {
		c->page->truncated = strcmp(text, "true") == 0;
	} else if (at(w, 2, "NextContinuationToken")) {
		free(c->page->next_token);
		c->page->next_token = xstrdup(text);
	} else if (at(w, 2, "EncodingType")) {
		c->page->url_encoded = strcmp(text, "url") == 0;
	} else if (w->depth == 3 && under(w, 2, "Contents")) {
		if (at(w, 3, "Key")) {
			free(c->key);
			c->key = xstrdup(text);
		} else if (at(w, 3, "Size")) {
			char *end;

			c->size = strtoull(text, &end, 10);
			if (*end != '\0' || text[0] == '\0' || text[0] == '-')
				c->rc = lsc_seterr(c->err, LSC_ECORRUPT, 0,
				    "S3 listing: bad <Size> '%.40s'", text);
		} else if (at(w, 3, "LastModified")) {
			if (s3_parse_iso8601(text, &c->mtime_ns) != 0)
				c->mtime_ns = 0;
		}
	} else if (at(w, 2, "Contents")) {
		if (c->key == NULL) {
			c->rc = lsc_seterr(c->err, LSC_ECORRUPT, 0,
			    "S3 listing: <Contents> without <Key>");
			return;
		}
		if (c->npend == c->cappend) {
			c->cappend = c->cappend ? 2 * c->cappend : 64;
			c->pend = xreallocarray(c->pend, c->cappend,
			    sizeof(*c->pend));
		}
		c->pend[c->npend].key = c->key;
		c->pend[c->npend].size = c->size;
		c->pend[c->npend].mtime_ns = c->mtime_ns;
		c->npend++;
		c->key = NULL;
		c->size = 0;
		c->mtime_ns = 0;
	}
}

int
s3_xml_list(const char *body, size_t len, s3_list_fn fn, void *ctx,
    struct s3_list_page *page, struct lsc_err *err)
{
	struct list_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(page, 0, sizeof(*page));
	c.fn = fn;
	c.ctx = ctx;
	c.page = page;
	c.err = err;
	if (walk(body, len, list_end, &c) != 0 || !c.is_list) {
		rc = c.rc ? c.rc : lsc_seterr(err, LSC_ECORRUPT, 0,
		    "S3 listing: reply is not a ListBucketResult");
		goto out;
	}
	rc = c.rc;
	/*
	 * Only now is EncodingType known for sure, so decode here.  A key
	 * that does not decode (a bad escape, or %00, which would cut it) is
	 * handed on as listed: still %-encoded, it can never pass for one of
	 * ours (they hold no '%'), so the caller skips it with the other
	 * foreign keys instead of one stray object failing the listing.
	 */
	for (size_t i = 0; rc == LSC_OK && i < c.npend; i++) {
		char *k = c.pend[i].key;

		if (page->url_encoded) {
			char *d = xstrdup(k);

			if (s3_uri_decode(d, 1) == 0) {
				free(k);
				c.pend[i].key = k = d;
			} else {
				free(d);
			}
		}
		if (strlen(k) == 0) {
			rc = lsc_seterr(err, LSC_ECORRUPT, 0,
			    "S3 listing: empty or NUL-bearing key");
			break;
		}
		rc = fn(ctx, k, c.pend[i].size, c.pend[i].mtime_ns, err);
	}
	if (rc == LSC_OK && page->truncated && (page->next_token == NULL ||
	    page->next_token[0] == '\0'))
		rc = lsc_seterr(err, LSC_ECORRUPT, 0,
		    "S3 listing: truncated page without NextContinuationToken");
out:
	for (size_t i = 0; i < c.npend; i++)
		free(c.pend[i].key);
	free(c.pend);
	free(c.key);
	if (rc != LSC_OK) {
		free(page->next_token);
		page->next_token = NULL;
	}
	return rc;
}

/* ---- InitiateMultipartUploadResult ---- */

struct init_ctx {
	char	*upload_id;
	int	 ok;
};

static void
init_end(struct walker *w, const char *text)
{
	struct init_ctx *c = w->ctx;

	if (at(w, 1, "InitiateMultipartUploadResult"))
		c->ok = 1;
	else if (at(w, 2, "UploadId") &&
	    under(w, 1, "InitiateMultipartUploadResult")) {
		free(c->upload_id);
		c->upload_id = xstrdup(text);
	}
}

int
s3_xml_initiate(const char *body, size_t len, char **upload_id,
    struct lsc_err *err)
{
	struct init_ctx c = { NULL, 0 };

	if (walk(body, len, init_end, &c) != 0 || !c.ok ||
	    c.upload_id == NULL || c.upload_id[0] == '\0') {
		free(c.upload_id);
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "S3 CreateMultipartUpload: reply carries no UploadId");
	}
	*upload_id = c.upload_id;
	return LSC_OK;
}

/* ---- CompleteMultipartUploadResult (or a 200 carrying <Error>) ---- */

struct complete_ctx {
	struct err_ctx	e;
	int		ok;
};

static void
complete_end(struct walker *w, const char *text)
{
	struct complete_ctx *c = w->ctx;

	if (at(w, 1, "CompleteMultipartUploadResult"))
		c->ok = 1;
	/* error_end looks at w->ctx as an err_ctx, the first member. */
	error_end(w, text);
}

int
s3_xml_complete(const char *body, size_t len, struct s3_error_info *einfo,
    struct lsc_err *err)
{
	struct complete_ctx c;

	memset(&c, 0, sizeof(c));
	memset(einfo, 0, sizeof(*einfo));
	c.e.out = einfo;
	if (walk(body, len, complete_end, &c) != 0)
		return lsc_seterr(err, LSC_ENET, 0,
		    "S3 CompleteMultipartUpload: reply is not XML");
	if (c.e.is_error)
		return lsc_seterr(err, LSC_ES3, 200,
		    "S3 CompleteMultipartUpload failed: %s: %s",
		    einfo->code[0] ? einfo->code : "Error", einfo->message);
	if (!c.ok)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "S3 CompleteMultipartUpload: unexpected reply");
	return LSC_OK;
}

/* ---- DeleteResult ---- */

struct del_ctx {
	s3_delerr_fn	 fn;
	void		*ctx;
	int		 ok;
	char		*key, *code, *msg;
};

static void
del_end(struct walker *w, const char *text)
{
	struct del_ctx *c = w->ctx;
	char **slot = NULL;

	if (at(w, 1, "DeleteResult")) {
		c->ok = 1;
		return;
	}
	if (w->depth == 3 && under(w, 1, "DeleteResult") &&
	    under(w, 2, "Error")) {
		if (at(w, 3, "Key"))
			slot = &c->key;
		else if (at(w, 3, "Code"))
			slot = &c->code;
		else if (at(w, 3, "Message"))
			slot = &c->msg;
		if (slot != NULL) {
			free(*slot);
			*slot = xstrdup(text);
		}
	} else if (at(w, 2, "Error") && under(w, 1, "DeleteResult")) {
		if (c->key != NULL)
			c->fn(c->ctx, c->key, c->code ? c->code : "",
			    c->msg ? c->msg : "");
		free(c->key);
		free(c->code);
		free(c->msg);
		c->key = c->code = c->msg = NULL;
	}
}

int
s3_xml_delete_result(const char *body, size_t len, s3_delerr_fn fn, void *ctx,
    struct lsc_err *err)
{
	struct del_ctx c;
	int ok;

	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.ctx = ctx;
	ok = walk(body, len, del_end, &c) == 0 && c.ok;
	free(c.key);
	free(c.code);
	free(c.msg);
	if (!ok)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "S3 DeleteObjects: reply is not a DeleteResult");
	return LSC_OK;
}

void
s3_xml_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':  buf_append(out, "&amp;", 5, NULL); break;
		case '<':  buf_append(out, "&lt;", 4, NULL); break;
		case '>':  buf_append(out, "&gt;", 4, NULL); break;
		case '"':  buf_append(out, "&quot;", 6, NULL); break;
		case '\'': buf_append(out, "&apos;", 6, NULL); break;
		default:   buf_append(out, s, 1, NULL); break;
		}
	}
}

/* ---- dates ---- */

int
s3_parse_iso8601(const char *s, int64_t *ns)
{
	struct tm tm;
	const char *p;
	int64_t frac = 0, scale = 1000000000;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
			p++;
		}
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	t = timegm(&tm);
	/* Nanoseconds in an int64_t reach 1677..2262 only (a listing may
	 * say year 4601: refuse it rather than overflow). */
	if (t == (time_t)-1 || t < INT64_MIN / 1000000000 + 1 ||
	    t > INT64_MAX / 1000000000 - 1)
		return -1;
	*ns = (int64_t)t * 1000000000 + frac;
	return 0;
}

int
s3_parse_http_date(const char *s, int64_t *sec)
{
	struct tm tm;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (p == NULL)
		return -1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*sec = (int64_t)t;
	return 0;
}
