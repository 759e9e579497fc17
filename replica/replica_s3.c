/* SPDX-License-Identifier: MIT */
/*
 * The S3 back end: object `key` is s3://bucket/<prefix>/<key>.
 *
 * Settings, first found wins: the URL's query (endpoint, region,
 * path-style), then `struct cfg_s3` (the [s3] section merged with the
 * [db] one), then the environment (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL,
 * AWS_REGION, AWS_DEFAULT_REGION, and the credentials AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, taken as a set).  An endpoint
 * implies path style unless path-style=false; the region defaults to
 * us-east-1.  Credentials never come from the URL: it ends up in ps output
 * and logs.
 *
 * Keys never start with '/': the prefix is cleaned of leading, trailing
 * and repeated slashes.  Puts stream: bytes collect in one part-sized
 * buffer; a put that ends before the first part fills is one PutObject,
 * otherwise each full part goes out as UploadPart at once (memory stays
 * about one part whatever the object's size) and commit completes the
 * multipart upload.  Any failure aborts the upload, so no orphaned parts
 * are left behind when we can help it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "replica/replica_s3.h"
#include "s3/s3.h"

#define DEFAULT_PART_SIZE	(8ULL * 1024 * 1024)
#define FIRST_ALLOC		(64 * 1024)

struct s3_replica {
	struct replica	 base;		/* first: the interface */
	struct s3_client *c;
	char		*prefix;	/* cleaned; "" for the bucket root */
	uint64_t	 part_size;
};

struct replica_put {
	struct s3_replica *r;
	char		*key;		/* full key */
	unsigned char	*buf;
	size_t		 len, cap;
	char		*upload_id;	/* NULL until the first part */
	char		**etags;
	int		 nparts;
	int		 failed;
};

static const struct replica_ops s3_ops;

/* Apply the replica's current retry policy before each operation. */
static struct s3_client *
client(struct s3_replica *r)
{
	s3_client_set_retry(r->c, r->base.max_retries, r->base.stop);
	return r->c;
}

static int
check_key(const char *key, struct lsc_err *err)
{
	if (key[0] == '\0' || key[0] == '/' || strstr(key, "..") != NULL)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "refusing object key '%s'",
		    key);
	return LSC_OK;
}

static char *
full_key(const struct s3_replica *r, const char *key)
{
	if (r->prefix[0] == '\0')
		return xstrdup(key);
	return xasprintf("%s/%s", r->prefix, key);
}

/* "/a//b/" -> "a/b" */
static char *
clean_prefix(const char *p, size_t n)
{
	char *out = xmalloc(n + 1), *w = out;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '/' && (w == out || w[-1] == '/'))
			continue;
		*w++ = p[i];
	}
	while (w > out && w[-1] == '/')
		w--;
	*w = '\0';
	return out;
}

/* %-decode n bytes into a new string; NULL on a bad escape or %00. */
static char *
pct_decode(const char *s, size_t n)
{
	char *out = xstrndup(s, n);

	if (s3_uri_decode(out, 0) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static int
parse_bool(const char *v)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcmp(v, "yes") == 0)
		return 1;
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
	    strcmp(v, "no") == 0)
		return 0;
	return -1;
}

void
replica_s3_url_release(struct replica_s3_url *u)
{
	free(u->bucket);
	free(u->prefix);
	free(u->endpoint);
	free(u->region);
}

int
replica_s3_parse_url(const char *url, struct replica_s3_url *u,
    struct lsc_err *err)
{
	const char *b = url + 5, *slash, *q;
	size_t blen;

	memset(u, 0, sizeof(*u));
	u->path_style = -1;
	if (strncmp(url, "s3://", 5) != 0)
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "replica URL '%s' must start with s3://", url);
	q = strchr(b, '?');
	slash = strchr(b, '/');
	if (slash != NULL && q != NULL && slash > q)
		slash = NULL;
	blen = slash ? (size_t)(slash - b) : q ? (size_t)(q - b) : strlen(b);
	if (blen == 0)
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "replica URL '%s' has no bucket (s3://bucket/prefix)", url);
	u->bucket = xstrndup(b, blen);
	if (slash != NULL) {
		size_t plen = q ? (size_t)(q - slash) : strlen(slash);

		u->prefix = clean_prefix(slash, plen);
	} else {
		u->prefix = xstrdup("");
	}
	if (q == NULL)
		return LSC_OK;
	for (const char *p = q + 1; *p != '\0';) {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		char *name, *val;

		eq = memchr(p, '=', len);
		if (len == 0) {
			p += amp ? 1 : 0;
			if (amp == NULL)
				break;
			continue;
		}
		name = xstrndup(p, eq ? (size_t)(eq - p) : len);
		val = eq ? pct_decode(eq + 1, len - (size_t)(eq - p) - 1) :
		    xstrdup("");
		if (val == NULL) {
			lsc_seterr(err, LSC_ECONFIG, 0, "replica URL: bad %%-escape "
			    "in '%s'", name);
			free(name);
			return LSC_ECONFIG;
		}
		if (strcmp(name, "endpoint") == 0) {
			free(u->endpoint);
			u->endpoint = val;
			val = NULL;
		} else if (strcmp(name, "region") == 0) {
			free(u->region);
			u->region = val;
			val = NULL;
		} else if (strcmp(name, "path-style") == 0 ||
		    strcmp(name, "force-path-style") == 0) {
			u->path_style = parse_bool(val);
			if (u->path_style < 0) {
				lsc_seterr(err, LSC_ECONFIG, 0, "replica URL: "
				    "path-style must be true or false, not '%.40s'",
				    val);
				free(name);
				free(val);
				return LSC_ECONFIG;
			}
		} else if (strstr(name, "key") != NULL ||
		    strstr(name, "secret") != NULL || strstr(name, "token") != NULL) {
			lsc_seterr(err, LSC_ECONFIG, 0, "replica URL: '%s' does not "
			    "belong in a URL (it shows in ps and logs): use [s3] or "
			    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY", name);
			free(name);
			free(val);
			return LSC_ECONFIG;
		} else {
			lsc_seterr(err, LSC_ECONFIG, 0, "replica URL: unknown "
			    "parameter '%.40s' (known: endpoint, region, path-style)",
			    name);
			free(name);
			free(val);
			return LSC_ECONFIG;
		}
		free(name);
		free(val);
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return LSC_OK;
}

static const char *
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

static const char *
first(const char *a, const char *b, const char *c)
{
	return nonempty(a) ? a : nonempty(b) ? b : nonempty(c);
}

int
replica_s3_open(const char *url, const struct cfg_s3 *s3,
    struct replica **out, struct lsc_err *err)
{
	struct cfg_s3 none;
	struct replica_s3_url u;
	struct s3_config sc;
	struct s3_replica *r;
	struct s3_client *c;
	int rc;

	if (s3 == NULL) {
		cfg_s3_init(&none);
		s3 = &none;
	}
	if ((rc = replica_s3_parse_url(url, &u, err)) != LSC_OK) {
		replica_s3_url_release(&u);
		return rc;
	}
	memset(&sc, 0, sizeof(sc));
	sc.bucket = u.bucket;
	sc.endpoint = first(u.endpoint, s3->endpoint,
	    first(getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"),
	    NULL));
	sc.region = first(u.region, s3->region, first(getenv("AWS_REGION"),
	    getenv("AWS_DEFAULT_REGION"), "us-east-1"));
	/* Credentials are a set: never a config key with an env secret. */
	if (nonempty(s3->access_key_id) || nonempty(s3->secret_access_key)) {
		sc.access_key_id = s3->access_key_id;
		sc.secret_access_key = s3->secret_access_key;
		sc.session_token = s3->session_token;
	} else {
		sc.access_key_id = getenv("AWS_ACCESS_KEY_ID");
		sc.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
		sc.session_token = getenv("AWS_SESSION_TOKEN");
	}
	if (u.path_style >= 0)
		sc.path_style = u.path_style;
	else if (s3->path_style >= 0)
		sc.path_style = s3->path_style;
	else
		sc.path_style = sc.endpoint != NULL;
	sc.ca_file = nonempty(s3->ca_file);
	sc.skip_verify = s3->skip_verify == 1;
	sc.connect_timeout_ms = s3->connect_timeout_ms;
	sc.request_timeout_ms = s3->request_timeout_ms;
	sc.max_retries = s3->max_retries;
	c = s3_client_new(&sc, err);
	if (c == NULL) {
		replica_s3_url_release(&u);
		return err ? err->code : LSC_ECONFIG;
	}
	if (sc.skip_verify)
		log_warn("TLS certificate verification is off for '%s' "
		    "(skip-verify = true): anyone on the path can read and "
		    "change backups", url);
	r = xcalloc(1, sizeof(*r));
	r->base.ops = &s3_ops;
	r->base.url = xstrdup(url);
	r->base.max_retries = s3->max_retries;
	r->c = c;
	r->prefix = u.prefix;
	u.prefix = NULL;
	r->part_size = s3->part_size ? s3->part_size : DEFAULT_PART_SIZE;
	replica_s3_url_release(&u);
	*out = &r->base;
	return LSC_OK;
}

/* ---- put ---- */

static int
s3_put_begin(struct replica *base, const char *key, struct replica_put **out,
    struct lsc_err *err)
{
	struct s3_replica *r = (struct s3_replica *)base;
	struct replica_put *p;
	int rc;

	if ((rc = check_key(key, err)) != LSC_OK)
		return rc;
	p = xcalloc(1, sizeof(*p));
	p->r = r;
	p->key = full_key(r, key);
	*out = p;
	return LSC_OK;
}

/* Send the buffered bytes as the next part (starting the upload). */
static int
flush_part(struct replica_put *p, struct lsc_err *err)
{
	struct s3_client *c = client(p->r);
	char *etag = NULL;
	int rc;

	if (p->upload_id == NULL &&
	    (rc = s3_mpu_create(c, p->key, &p->upload_id, err)) != LSC_OK)
		return rc;
	rc = s3_mpu_part(c, p->key, p->upload_id, p->nparts + 1, p->buf,
	    p->len, &etag, err);
	if (rc != LSC_OK)
		return rc;
	p->etags = xreallocarray(p->etags, (size_t)p->nparts + 1,
	    sizeof(*p->etags));
	p->etags[p->nparts++] = etag;
	p->len = 0;
	return LSC_OK;
}

static int
s3_put_write(struct replica_put *p, const void *data, size_t len,
    struct lsc_err *err)
{
	const unsigned char *d = data;
	size_t part = (size_t)p->r->part_size;
	int rc;

	if (p->failed)
		return lsc_seterr(err, LSC_EIO, 0, "write to a failed upload");
	while (len > 0) {
		size_t room, n;

		if (p->cap < part && p->len + len > p->cap) {
			/* Grow towards one part, never beyond it. */
			size_t want = p->cap ? p->cap * 2 : FIRST_ALLOC;

			while (want < p->len + len && want < part)
				want *= 2;
			if (want > part)
				want = part;
			p->buf = xrealloc(p->buf, want);
			p->cap = want;
		}
		room = p->cap - p->len;
		n = len < room ? len : room;
		memcpy(p->buf + p->len, d, n);
		p->len += n;
		d += n;
		len -= n;
		if (p->len == part && len > 0) {
			/* Only flush when more follows: a put of exactly one
			 * part stays a single PutObject. */
			if ((rc = flush_part(p, err)) != LSC_OK) {
				p->failed = 1;
				return rc;
			}
		}
	}
	return LSC_OK;
}

static void
put_free(struct replica_put *p)
{
	for (int i = 0; i < p->nparts; i++)
		free(p->etags[i]);
	free(p->etags);
	free(p->upload_id);
	free(p->buf);
	free(p->key);
	free(p);
}

static void
s3_put_abort(struct replica_put *p)
{
	if (p->upload_id != NULL) {
		struct lsc_err e = { 0 };

		if (s3_mpu_abort(client(p->r), p->key, p->upload_id, &e) != LSC_OK)
			log_debug("s3 abort failed\terror=\"%s\"", e.msg);
	}
	put_free(p);
}

static int
s3_put_commit(struct replica_put *p, struct lsc_err *err)
{
	struct s3_client *c = client(p->r);
	int rc;

	if (p->failed) {
		rc = lsc_seterr(err, LSC_EIO, 0, "commit of a failed upload");
	} else if (p->upload_id == NULL) {
		rc = s3_put_object(c, p->key, p->buf, p->len, err);
	} else {
		rc = LSC_OK;
		if (p->len > 0)
			rc = flush_part(p, err);
		if (rc == LSC_OK)
			rc = s3_mpu_complete(c, p->key, p->upload_id, p->etags,
			    p->nparts, err);
		if (rc == LSC_OK) {
			free(p->upload_id);
			p->upload_id = NULL;
		}
	}
	s3_put_abort(p);	/* frees; aborts the upload if it is still open */
	return rc;
}

/* ---- get, list, delete ---- */

static int
s3_get(struct replica *base, const char *key, lsc_sink_fn sink, void *ctx,
    struct lsc_err *err)
{
	struct s3_replica *r = (struct s3_replica *)base;
	char *k;
	int rc;

	if ((rc = check_key(key, err)) != LSC_OK)
		return rc;
	k = full_key(r, key);
	rc = s3_get_object(client(r), k, sink, ctx, err);
	free(k);
	return rc;
}

struct list_ctx {
	struct s3_replica	*r;
	struct replica_list	*out;
	size_t			 strip;
};

static int
on_listed(void *ctx, const char *key, uint64_t size, int64_t mtime_ns,
    struct lsc_err *err)
{
	struct list_ctx *l = ctx;

	(void)err;
	/* Keys outside our root (or "root//x") are not ours: skip them. */
	if (l->strip > 0 && (strncmp(key, l->r->prefix, l->strip - 1) != 0 ||
	    key[l->strip - 1] != '/'))
		return LSC_OK;
	if (key[l->strip] == '\0' || key[l->strip] == '/')
		return LSC_OK;
	replica_list_add(l->out, key + l->strip, size, mtime_ns);
	return LSC_OK;
}

static int
s3_list(struct replica *base, const char *prefix, struct replica_list *out,
    struct lsc_err *err)
{
	struct s3_replica *r = (struct s3_replica *)base;
	struct list_ctx l = { r, out, r->prefix[0] ? strlen(r->prefix) + 1 : 0 };
	char *p = r->prefix[0] ? xasprintf("%s/%s", r->prefix, prefix) :
	    xstrdup(prefix);
	int rc;

	rc = s3_list_objects(client(r), p, on_listed, &l, err);
	free(p);
	return rc;
}

static int
s3_del(struct replica *base, const char *const *keys, size_t n,
    struct lsc_err *err)
{
	struct s3_replica *r = (struct s3_replica *)base;
	char **full = xcalloc(n ? n : 1, sizeof(char *));
	int rc = LSC_OK;

	for (size_t i = 0; i < n && rc == LSC_OK; i++) {
		rc = check_key(keys[i], err);
		full[i] = rc == LSC_OK ? full_key(r, keys[i]) : NULL;
	}
	if (rc == LSC_OK)
		rc = s3_delete_objects(client(r), (const char *const *)full, n,
		    err);
	for (size_t i = 0; i < n; i++)
		free(full[i]);
	free(full);
	return rc;
}

static int
s3_check(struct replica *base, struct lsc_err *err)
{
	struct s3_replica *r = (struct s3_replica *)base;
	char *p = r->prefix[0] ? xasprintf("%s/", r->prefix) : xstrdup("");
	int rc;

	rc = s3_check_bucket(client(r), p, err);
	free(p);
	return rc;
}

static int
s3_dup(struct replica *base, struct replica **out, struct lsc_err *err)
{
	struct s3_replica *r = (struct s3_replica *)base, *d;
	struct s3_client *c = s3_client_dup(r->c, err);

	if (c == NULL)
		return err != NULL && err->code ? (int)err->code : LSC_ECONFIG;
	d = xcalloc(1, sizeof(*d));
	d->base.ops = &s3_ops;
	d->base.url = xstrdup(r->base.url);
	d->c = c;
	d->prefix = xstrdup(r->prefix);
	d->part_size = r->part_size;
	*out = &d->base;
	return LSC_OK;
}

static void
s3_free(struct replica *base)
{
	struct s3_replica *r = (struct s3_replica *)base;

	s3_client_free(r->c);
	free(r->prefix);
	free(r->base.url);
	free(r);
}

static const struct replica_ops s3_ops = {
	.type = "s3",
	.put_begin = s3_put_begin,
	.put_write = s3_put_write,
	.put_commit = s3_put_commit,
	.put_abort = s3_put_abort,
	.get = s3_get,
	.list = s3_list,
	.del = s3_del,
	.free = s3_free,
	.check = s3_check,
	.dup = s3_dup,
};
