/* SPDX-License-Identifier: MIT */
/* Replica objects, LZ4 or age(LZ4): see objread.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "restore/objread.h"

#define MODE_PLAIN	1
#define MODE_AGE	2

#define LZ4_MAX_RATIO	255
#define LZ4_SLACK	(64 * 1024)	/* a tiny frame's headers and one block */

static uint64_t
inflate_cap(uint64_t listed)
{
	if (listed > (UINT64_MAX - LZ4_SLACK) / LZ4_MAX_RATIO)
		return UINT64_MAX;
	return listed * LZ4_MAX_RATIO + LZ4_SLACK;
}

uint64_t
objread_object_cap(uint64_t listed, char *why, size_t n)
{
	snprintf(why, n, "255 times its listed size of %llu bytes",
	    (unsigned long long)listed);
	return inflate_cap(listed);
}

uint64_t
objread_segment_cap(const struct cat_obj *s, const struct cat_obj *end,
    char *why, size_t n)
{
	uint64_t cap = inflate_cap(s->size);

	for (const struct cat_obj *x = s + 1; x < end && x->index == s->index;
	    x++) {
		if (x->offset > s->offset) {
			/* Only when the listed size allows that much. */
			if (x->offset - s->offset > cap)
				break;
			snprintf(why, n, "the %llu bytes before the next segment "
			    "'%s'", (unsigned long long)(x->offset - s->offset),
			    x->key);
			return x->offset - s->offset;
		}
	}
	return objread_object_cap(s->size, why, n);
}

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
	lsc_sink_fn	 sink;		/* the caller's */
	void		*ctx;
	int		 local;		/* the caller's sink failed */
	uint64_t	 cap;		/* the most it may inflate to */
	const char	*why;		/* where that cap comes from */
};

/* Between the LZ4 reader and the caller: notes that a failure was the
 * caller's to write (a full disk), not the object's. */
static int
through(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct objread_obj *x = ctx;
	int rc = x->sink(x->ctx, data, len, err);

	if (rc != LSC_OK)
		x->local = 1;
	return rc;
}

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
objread_begin(struct objread *o, const char *key, uint64_t cap,
    const char *why, lsc_sink_fn sink, void *ctx)
{
	struct objread_obj *x = xcalloc(1, sizeof(*x));

	x->o = o;
	x->key = key;
	x->sink = sink;
	x->ctx = ctx;
	x->cap = cap;
	x->why = why;
	/*
	 * One LZ4 reader for every object: its buffers are 8 MiB.  Output
	 * a block at a time, so liblz4 decodes into ours directly (its own
	 * output buffer is then never touched: no more memory, one copy
	 * less of every byte).
	 */
	if (o->lz != NULL)
		lz4r_reset(o->lz, through, x, cap);
	else
		o->lz = lz4r_new_sized(through, x, cap, LZ4R_BLOCK_MAX, NULL);
	x->lz = o->lz;
	return x;
}

int
objread_end(struct objread_obj *x, int rc, const struct lsc_err *e_in,
    struct lsc_err *err)
{
	struct lsc_err e = { 0 };
	const char *key = x->key;
	int local = x->local;

	if (rc != LSC_OK && e_in != NULL)
		e = *e_in;
	if (rc == LSC_OK && x->lz == NULL)
		rc = lsc_seterr(&e, LSC_EIO, 0, "cannot create LZ4 decompressor");
	if (rc == LSC_OK && x->ar != NULL)
		rc = ager_finish(x->ar, &e);
	if (rc == LSC_OK)
		rc = lz4r_finish(x->lz, &e);
	ager_free(x->ar);
	if (rc != LSC_OK && x->lz != NULL && lz4r_over_cap(x->lz)) {
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, "refusing object '%s': it "
		    "inflates past %llu bytes, more than %s", key,
		    (unsigned long long)x->cap, x->why);
		free(x);
		return rc;
	}
	free(x);
	if (rc == LSC_OK)
		return LSC_OK;
	if (e.code == 0)
		lsc_seterr(&e, rc, 0, "failed");
	/* Name the object, once; the output's own failure names the output. */
	if (local || strstr(e.msg, key) != NULL)
		return lsc_seterr(err, rc, e.sys, "%s", e.msg);
	if (rc == LSC_ECORRUPT)
		return lsc_seterr(err, rc, e.sys, "corrupt object '%s': %s", key,
		    e.msg);
	return lsc_seterr(err, rc, e.sys, "'%s': %s", key, e.msg);
}

int
objread_fetch(struct objread *o, struct replica *r, const char *key,
    uint64_t cap, const char *why, lsc_sink_fn sink, void *ctx,
    struct lsc_err *err)
{
	struct objread_obj *x = objread_begin(o, key, cap, why, sink, ctx);
	struct lsc_err e = { 0 };
	int rc = LSC_OK;

	if (x->lz != NULL)
		rc = replica_get(r, key, objread_feed, x, &e);
	return objread_end(x, rc, &e, err);
}
