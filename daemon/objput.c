/* SPDX-License-Identifier: MIT */
/* One replica object through LZ4 and age: see objput.h. */
#include <stdlib.h>

#include "common/lz4frame.h"
#include "common/xmalloc.h"
#include "daemon/objput.h"

struct objput {
	struct replica		*rep;
	struct replica_put	*put;
	struct lz4w		*lz4;
	struct agew		*age;	/* NULL: plain */
	uint64_t		 stored;	/* bytes handed to the put */
};

/* The end of the chain: count, then hand to the replica. */
static int
put_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct objput *o = ctx;

	o->stored += len;
	return replica_put_write(o->rep, o->put, data, len, err);
}

static int
age_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	return agew_write(((struct objput *)ctx)->age, data, len, err);
}

struct objput *
objput_begin(struct replica *rep, const char *key,
    const unsigned char (*pks)[AGE_KEY_LEN], size_t npk, struct lsc_err *err)
{
	struct objput *o = xcalloc(1, sizeof(*o));

	o->rep = rep;
	if (replica_put_begin(rep, key, &o->put, err) != LSC_OK) {
		free(o);
		return NULL;
	}
	/* The age header goes out first, then the LZ4 frame inside it. */
	if (npk > 0 && (o->age = agew_new(pks, npk, put_sink, o, err)) == NULL)
		goto fail;
	if ((o->lz4 = lz4w_new(o->age != NULL ? age_sink : put_sink, o,
	    err)) == NULL)
		goto fail;
	return o;
fail:
	objput_abort(o);
	return NULL;
}

int
objput_write(struct objput *o, const void *data, size_t len,
    struct lsc_err *err)
{
	return lz4w_write(o->lz4, data, len, err);
}

int
objput_finish(struct objput *o, uint64_t *stored, struct lsc_err *err)
{
	int rc = lz4w_finish(o->lz4, err);

	if (rc == LSC_OK && o->age != NULL)
		rc = agew_finish(o->age, err);
	if (rc == LSC_OK)
		*stored = o->stored;
	return rc;
}

int
objput_commit(struct objput *o, struct lsc_err *err)
{
	int rc = replica_put_commit(o->rep, o->put, err);

	lz4w_free(o->lz4);
	agew_free(o->age);
	free(o);
	return rc;
}

void
objput_abort(struct objput *o)
{
	if (o == NULL)
		return;
	lz4w_free(o->lz4);
	agew_free(o->age);
	if (o->put != NULL)
		replica_put_abort(o->rep, o->put);
	free(o);
}
