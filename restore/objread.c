/* SPDX-License-Identifier: MIT */
/* Replica objects, LZ4 or age(LZ4): see objread.h. */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "restore/objread.h"

#define MODE_PLAIN	1
#define MODE_AGE	2

void
objread_init(struct objread *o, const char *identity_file)
{
	memset(o, 0, sizeof(*o));
	o->identity_file = identity_file;
}

void
objread_release(struct objread *o)
{
	age_identities_release(&o->ids);
	free(o->first_key);
	lz4r_free(o->lz);
	o->first_key = NULL;
	o->lz = NULL;
	o->mode = 0;
}

/* One object on its way: age (maybe) then LZ4. */
struct objread_obj {
	struct objread	*o;
	const char	*key;
	struct lz4r	*lz;
	struct ager	*ar;
	int		 mode;		/* 0 until the first byte */
};

static int
lz4_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	return lz4r_feed(((struct objread_obj *)ctx)->lz, data, len, err);
}

static const char *
mode_name(int mode)
{
	return mode == MODE_AGE ? "encrypted (age)" : "plain";
}

/* The first byte says what the object is; check it against the rest. */
static int
start(struct objread_obj *x, const void *data, size_t len, struct lsc_err *err)
{
	struct objread *o = x->o;
	int rc;

	x->mode = age_looks_encrypted(data, len) ? MODE_AGE : MODE_PLAIN;
	if (o->mode != 0 && o->mode != x->mode)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "the generation mixes "
		    "encrypted and plain objects: '%s' is %s, but '%s' is %s",
		    x->key, mode_name(x->mode), o->first_key, mode_name(o->mode));
	if (o->mode == 0) {
		o->mode = x->mode;
		o->first_key = xstrdup(x->key);
	}
	if (x->mode == MODE_PLAIN)
		return LSC_OK;
	if (o->ids.n == 0) {
		struct lsc_err e = { 0 };

		if (o->identity_file == NULL)
			return lsc_seterr(err, LSC_ECONFIG, 0, "'%s' is encrypted "
			    "(age); set age-identity-file (or "
			    "--age-identity-file)", x->key);
		if ((rc = age_identity_file_load(o->identity_file, &o->ids,
		    &e)) != LSC_OK)
			return lsc_seterr(err, rc, e.sys, "'%s' is encrypted (age): "
			    "%s", x->key, e.msg);
	}
	if ((x->ar = ager_new(&o->ids, lz4_sink, x, err)) == NULL)
		return err != NULL && err->code ? (int)err->code : LSC_EIO;
	return LSC_OK;
}

int
objread_feed(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct objread_obj *x = ctx;
	int rc;

	if (len == 0)
		return LSC_OK;
	if (x->mode == 0 && (rc = start(x, data, len, err)) != LSC_OK)
		return rc;
	return x->ar != NULL ? ager_feed(x->ar, data, len, err) :
	    lz4r_feed(x->lz, data, len, err);
}

struct objread_obj *
objread_begin(struct objread *o, const char *key, lsc_sink_fn sink, void *ctx)
{
	struct objread_obj *x = xcalloc(1, sizeof(*x));

	x->o = o;
	x->key = key;
	/*
	 * One LZ4 reader for every object: its buffers are 8 MiB.  Output
	 * a block at a time, so liblz4 decodes into ours directly (its own
	 * output buffer is then never touched: no more memory, one copy
	 * less of every byte).
	 */
	if (o->lz != NULL)
		lz4r_reset(o->lz, sink, ctx, UINT64_MAX);
	else
		o->lz = lz4r_new_sized(sink, ctx, UINT64_MAX, LZ4R_BLOCK_MAX,
		    NULL);
	x->lz = o->lz;
	return x;
}

int
objread_end(struct objread_obj *x, int rc, const struct lsc_err *e_in,
    struct lsc_err *err)
{
	struct lsc_err e = { 0 };
	const char *key = x->key;

	if (rc != LSC_OK && e_in != NULL)
		e = *e_in;
	if (rc == LSC_OK && x->lz == NULL)
		rc = lsc_seterr(&e, LSC_EIO, 0, "cannot create LZ4 decompressor");
	if (rc == LSC_OK && x->ar != NULL)
		rc = ager_finish(x->ar, &e);
	if (rc == LSC_OK)
		rc = lz4r_finish(x->lz, &e);
	ager_free(x->ar);
	free(x);
	if (rc == LSC_OK)
		return LSC_OK;
	if (e.code == 0)
		lsc_seterr(&e, rc, 0, "failed");
	/* Name the object, once. */
	if (strstr(e.msg, key) != NULL)
		return lsc_seterr(err, rc, e.sys, "%s", e.msg);
	if (rc == LSC_ECORRUPT)
		return lsc_seterr(err, rc, e.sys, "corrupt object '%s': %s", key,
		    e.msg);
	return lsc_seterr(err, rc, e.sys, "'%s': %s", key, e.msg);
}

int
objread_fetch(struct objread *o, struct replica *r, const char *key,
    lsc_sink_fn sink, void *ctx, struct lsc_err *err)
{
	struct objread_obj *x = objread_begin(o, key, sink, ctx);
	struct lsc_err e = { 0 };
	int rc = LSC_OK;

	if (x->lz != NULL)
		rc = replica_get(r, key, objread_feed, x, &e);
	return objread_end(x, rc, &e, err);
}
