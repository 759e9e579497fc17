/* SPDX-License-Identifier: MIT */
/*
 * The reader thread and its ring (contract in rstream.h).  Slots
 * [tail, tail + count) are handed over (the consumer holds `tail` while
 * it works on it); the reader fills slot `head` = tail + count, which it
 * may only take while count < RSTREAM_SLOTS.  One mutex, two condition
 * variables: `room` for the reader, `ready` for the consumer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "restore/prefetch.h"
#include "restore/rstream.h"

struct rstream {
	pthread_t	 th;
	pthread_mutex_t	 mu;
	pthread_cond_t	 room, ready;
	struct rstream_piece slot[RSTREAM_SLOTS];
	uint8_t		*buf[RSTREAM_SLOTS];
	unsigned	 tail, count;
	int		 holding;	/* the consumer holds slot `tail` */
	int		 cancel;	/* rstream_free: the reader must end */

	/* the reader's own */
	struct replica	*r;
	struct objread	*o;
	const char *const *keys;
	const uint64_t	*caps;		/* NULL: none */
	const char *const *whys;
	size_t		 n;
	volatile sig_atomic_t *stop;
	struct prefetch	*pf;		/* downloads ahead, or NULL */
	uint8_t		*spool_buf;	/* for reading what they stored */
	struct rstream_piece *fill;	/* slot being filled, or NULL */
	uint8_t		*fill_buf;	/* its buffer */
	size_t		 obj;
};

/* The reader: a free slot for object s->obj, or NULL when cancelled. */
static struct rstream_piece *
take_slot(struct rstream *s)
{
	struct rstream_piece *p = NULL;
	unsigned head;

	pthread_mutex_lock(&s->mu);
	while (!s->cancel && s->count == RSTREAM_SLOTS)
		pthread_cond_wait(&s->room, &s->mu);
	if (!s->cancel) {
		head = (s->tail + s->count) % RSTREAM_SLOTS;
		p = &s->slot[head];
		memset(p, 0, sizeof(*p));
		p->obj = s->obj;
		p->data = s->fill_buf = s->buf[head];
	}
	pthread_mutex_unlock(&s->mu);
	return p;
}

/* The reader: hand slot s->fill over. */
static void
publish(struct rstream *s)
{
	pthread_mutex_lock(&s->mu);
	s->count++;
	pthread_cond_signal(&s->ready);
	pthread_mutex_unlock(&s->mu);
	s->fill = NULL;
}

static int
cancelled(struct rstream *s, struct lsc_err *err)
{
	int c;

	pthread_mutex_lock(&s->mu);
	c = s->cancel;
	pthread_mutex_unlock(&s->mu);
	if (c || (s->stop != NULL && *s->stop))
		return lsc_seterr(err, LSC_ESTOP, 0, "interrupted");
	return LSC_OK;
}

/* objread's sink: copy decoded bytes into slots. */
static int
ring_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct rstream *s = ctx;
	const uint8_t *p = data;
	int rc;

	if ((rc = cancelled(s, err)) != LSC_OK)
		return rc;
	while (len > 0) {
		size_t k;

		if (s->fill == NULL && (s->fill = take_slot(s)) == NULL)
			return lsc_seterr(err, LSC_ESTOP, 0, "interrupted");
		k = RSTREAM_SLOT_BYTES - s->fill->len;
		k = k < len ? k : len;
		memcpy(s->fill_buf + s->fill->len, p, k);
		s->fill->len += k;
		p += k;
		len -= k;
		if (s->fill->len == RSTREAM_SLOT_BYTES)
			publish(s);
	}
	return LSC_OK;
}

/* Feeds objread what follows the first `skip` bytes of an object. */
struct skip {
	struct objread_obj *x;
	uint64_t	 skip;
};

static int
skip_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct skip *k = ctx;
	size_t n = k->skip < len ? (size_t)k->skip : len;

	k->skip -= n;
	return objread_feed(k->x, (const uint8_t *)data + n, len - n, err);
}

/* The most object s->obj may inflate to, and why (objread.h). */
static uint64_t
obj_cap(const struct rstream *s)
{
	return s->caps != NULL ? s->caps[s->obj] : UINT64_MAX;
}

static const char *
obj_why(const struct rstream *s)
{
	return s->whys != NULL ? s->whys[s->obj] : "no cap";
}

/* Object s->obj, downloaded ahead: decode it from its temp file. */
static int
read_spooled(struct rstream *s, struct lsc_err *err)
{
	struct objread_obj *x = objread_begin(s->o, s->keys[s->obj],
	    obj_cap(s), obj_why(s), ring_sink, s);
	struct lsc_err e = { 0 };
	int rc = LSC_OK, frc = LSC_OK;
	uint64_t fed = 0;

	for (;;) {
		ssize_t k = prefetch_read(s->pf, s->obj, s->spool_buf,
		    RSTREAM_SLOT_BYTES, &frc, &e);

		if (k <= 0) {
			rc = k < 0 ? (e.code ? (int)e.code : LSC_EIO) : frc;
			break;
		}
		if ((rc = objread_feed(x, s->spool_buf, (size_t)k, &e)) != LSC_OK)
			break;
		fed += (uint64_t)k;
	}
	if (rc != LSC_OK && rc != LSC_ESTOP && prefetch_lost(s->pf, s->obj)) {
		/* Not stored (a full disk?): fetch it again, skip what we had. */
		struct skip k = { x, fed };

		lsc_err_clear(&e);
		rc = replica_get(s->r, s->keys[s->obj], skip_sink, &k, &e);
		if (rc == LSC_OK && k.skip > 0)
			rc = lsc_seterr(&e, LSC_ECORRUPT, 0,
			    "'%s' is shorter than when it was first read",
			    s->keys[s->obj]);
	}
	prefetch_done(s->pf, s->obj);
	return objread_end(x, rc, &e, err);
}

static void *
reader(void *arg)
{
	struct rstream *s = arg;

	for (s->obj = 0; s->obj < s->n; s->obj++) {
		struct lsc_err e = { 0 };
		struct rstream_piece *p;
		int rc;

		if (s->pf != NULL && prefetch_take(s->pf, s->obj))
			rc = read_spooled(s, &e);
		else
			rc = objread_fetch(s->o, s->r, s->keys[s->obj],
			    obj_cap(s), obj_why(s), ring_sink, s, &e);
		if (s->fill != NULL)
			publish(s);
		if ((p = take_slot(s)) == NULL)
			break;
		p->end = 1;
		p->rc = rc;
		p->err = e;
		s->fill = p;
		publish(s);
		if (rc != LSC_OK)
			break;
	}
	return NULL;
}

int
rstream_start(struct rstream **out, struct replica *r, struct objread *o,
    const char *const *keys, size_t n, const struct rstream_opts *opts,
    volatile sig_atomic_t *stop, struct lsc_err *err)
{
	struct rstream *s = xcalloc(1, sizeof(*s));
	int e;

	if (opts != NULL && opts->fetchers > 0 && n > 1) {
		s->pf = prefetch_start(r, keys, opts->sizes, n, opts->fetchers,
		    opts->spool_budget, opts->spool_dir, err);
		if (s->pf == NULL) {
			free(s);
			return err != NULL && err->code ? (int)err->code : LSC_EIO;
		}
		s->spool_buf = xmalloc(RSTREAM_SLOT_BYTES);
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->room, NULL);
	pthread_cond_init(&s->ready, NULL);
	for (unsigned i = 0; i < RSTREAM_SLOTS; i++)
		s->buf[i] = xmalloc(RSTREAM_SLOT_BYTES);
	s->r = r;
	s->o = o;
	s->keys = keys;
	if (opts != NULL) {
		s->caps = opts->caps;
		s->whys = opts->whys;
	}
	s->n = n;
	s->stop = stop;
	if ((e = pthread_create(&s->th, NULL, reader, s)) != 0) {
		prefetch_free(s->pf);
		free(s->spool_buf);
		for (unsigned i = 0; i < RSTREAM_SLOTS; i++)
			free(s->buf[i]);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->room);
		pthread_cond_destroy(&s->ready);
		free(s);
		return lsc_seterr(err, LSC_EIO, e, "cannot start a thread: %s",
		    strerror(e));
	}
	*out = s;
	return LSC_OK;
}

const struct rstream_piece *
rstream_next(struct rstream *s)
{
	const struct rstream_piece *p;

	pthread_mutex_lock(&s->mu);
	if (s->holding) {
		s->tail = (s->tail + 1) % RSTREAM_SLOTS;
		s->count--;
		s->holding = 0;
		pthread_cond_signal(&s->room);
	}
	while (s->count == 0)
		pthread_cond_wait(&s->ready, &s->mu);
	s->holding = 1;
	p = &s->slot[s->tail];
	pthread_mutex_unlock(&s->mu);
	return p;
}

void
rstream_free(struct rstream *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->cancel = 1;
	pthread_cond_broadcast(&s->room);
	pthread_mutex_unlock(&s->mu);
	prefetch_cancel(s->pf);		/* the reader may wait on a download */
	pthread_join(s->th, NULL);
	prefetch_free(s->pf);
	free(s->spool_buf);
	for (unsigned i = 0; i < RSTREAM_SLOTS; i++)
		free(s->buf[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->room);
	pthread_cond_destroy(&s->ready);
	free(s);
}
