/* SPDX-License-Identifier: MIT */
/* The replica interface: dispatch on the URL, wrappers, list helpers. */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "replica/replica.h"
#include "replica/replica_file.h"
#include "replica/replica_s3.h"

int
replica_open(const char *url, const struct cfg_s3 *s3, int max_retries,
    struct replica **out, struct lsc_err *err)
{
	struct replica *r = NULL;
	int rc;

	if (strncmp(url, "file://", 7) == 0) {
		if (url[7] != '/')
			return lsc_seterr(err, LSC_ECONFIG, 0,
			    "replica URL '%s' must be file:///absolute/dir", url);
		rc = replica_file_open(url + 7, &r, err);
	} else if (strncmp(url, "s3://", 5) == 0) {
		rc = replica_s3_open(url, s3, &r, err);
	} else {
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "replica URL '%s' must start with file:// or s3://", url);
	}
	if (rc != LSC_OK)
		return rc;
	r->max_retries = max_retries;
	*out = r;
	return LSC_OK;
}

void
replica_free(struct replica *r)
{
	if (r != NULL)
		r->ops->free(r);
}

int
replica_check(struct replica *r, struct lsc_err *err)
{
	return r->ops->check != NULL ? r->ops->check(r, err) : LSC_OK;
}

int
replica_dup(struct replica *r, struct replica **out, struct lsc_err *err)
{
	struct replica *d = NULL;
	int rc;

	if (r->ops->dup == NULL)
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "replica '%s' cannot be opened twice", r->url);
	if ((rc = r->ops->dup(r, &d, err)) != LSC_OK)
		return rc;
	d->max_retries = r->max_retries;
	d->stop = r->stop;
	d->file_mode = r->file_mode;
	*out = d;
	return LSC_OK;
}

int
replica_put_begin(struct replica *r, const char *key, struct replica_put **out,
    struct lsc_err *err)
{
	return r->ops->put_begin(r, key, out, err);
}

int
replica_put_write(struct replica *r, struct replica_put *p, const void *data,
    size_t len, struct lsc_err *err)
{
	return r->ops->put_write(p, data, len, err);
}

int
replica_put_commit(struct replica *r, struct replica_put *p,
    struct lsc_err *err)
{
	return r->ops->put_commit(p, err);
}

void
replica_put_abort(struct replica *r, struct replica_put *p)
{
	if (p != NULL)
		r->ops->put_abort(p);
}

int
replica_put_buf(struct replica *r, const char *key, const void *data,
    size_t len, struct lsc_err *err)
{
	struct replica_put *p;
	int rc;

	if ((rc = replica_put_begin(r, key, &p, err)) != LSC_OK)
		return rc;
	if ((rc = replica_put_write(r, p, data, len, err)) != LSC_OK) {
		replica_put_abort(r, p);
		return rc;
	}
	return replica_put_commit(r, p, err);
}

int
replica_get(struct replica *r, const char *key, lsc_sink_fn sink, void *ctx,
    struct lsc_err *err)
{
	return r->ops->get(r, key, sink, ctx, err);
}

int
replica_list(struct replica *r, const char *prefix, struct replica_list *out,
    struct lsc_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = r->ops->list(r, prefix, out, err);
	if (rc != LSC_OK) {
		replica_list_free(out);
		return rc;
	}
	replica_list_sort(out);
	replica_list_dedup(out);
	return LSC_OK;
}

int
replica_delete(struct replica *r, const char *const *keys, size_t n,
    struct lsc_err *err)
{
	if (n == 0)
		return LSC_OK;
	return r->ops->del(r, keys, n, err);
}

void
replica_list_add(struct replica_list *l, const char *key, uint64_t size,
    int64_t mtime_ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].key = xstrdup(key);
	l->v[l->n].size = size;
	l->v[l->n].mtime_ns = mtime_ns;
	l->n++;
}

static int
cmp_obj(const void *a, const void *b)
{
	return strcmp(((const struct replica_obj *)a)->key,
	    ((const struct replica_obj *)b)->key);
}

void
replica_list_sort(struct replica_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_obj);
}

void
replica_list_dedup(struct replica_list *l)
{
	size_t keep = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (keep > 0 && strcmp(l->v[keep - 1].key, l->v[i].key) == 0) {
			free(l->v[i].key);
			continue;
		}
		l->v[keep++] = l->v[i];
	}
	l->n = keep;
}

void
replica_list_free(struct replica_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].key);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
