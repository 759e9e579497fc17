/* SPDX-License-Identifier: MIT */
/*
 * Downloads ahead of the reader (contract in prefetch.h).  One mutex and
 * one condition variable guard the objects' states, the reader's position
 * and the bytes on disk; a download writes its temp file outside the lock
 * and publishes how far it got under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "restore/prefetch.h"

enum {
	PF_NONE,	/* nobody has it yet */
	PF_FETCHING,
	PF_DONE,	/* downloaded, or failed: rc says */
	PF_READER,	/* the reader fetches it itself */
	PF_GONE		/* read and its file closed */
};

struct pf_obj {
	int		 state;
	int		 fd;		/* the temp file, -1 if none */
	uint64_t	 have;		/* bytes in it */
	uint64_t	 read_off;	/* the reader's */
	int		 rc;
	struct lsc_err	 err;
	int		 lost;		/* failed to store, not to download */
};

struct pf_thread {
	struct prefetch	*p;
	pthread_t	 th;
	struct replica	*r;		/* its own handle */
	int		 started;
};

struct prefetch {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	const char *const *keys;
	const uint64_t	*sizes;
	size_t		 n;
	struct pf_obj	*obj;
	size_t		 next;		/* the next object a download may take */
	size_t		 reader;	/* the object the reader is on */
	uint64_t	 stored;	/* sizes of objects on disk, unread */
	uint64_t	 budget;
	int		 cancel;
	const char	*spool_dir;
	struct pf_thread *t;
	int		 nthreads;
};

/* A download's sink: append to the temp file, then say so. */
struct spool {
	struct prefetch	*p;
	struct pf_obj	*o;
};

static int
spool_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct spool *s = ctx;
	struct prefetch *p = s->p;
	int cancel;

	if (pwrite_full(s->o->fd, data, len, (off_t)s->o->have) != 0) {
		s->o->lost = 1;		/* published with PF_DONE */
		return lsc_seterr(err, LSC_EIO, errno,
		    "cannot write a temp file in '%s': %s", p->spool_dir,
		    strerror(errno));
	}
	pthread_mutex_lock(&p->mu);
	s->o->have += len;
	cancel = p->cancel;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (cancel)
		return lsc_seterr(err, LSC_ESTOP, 0, "interrupted");
	return LSC_OK;
}

static int
temp_file(const char *dir, struct lsc_err *err)
{
	/* Unnamed, so nothing is left behind whatever happens. */
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		char *path = xasprintf("%s/.lsc-prefetch-XXXXXX", dir);

		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
		free(path);
	}
	if (fd < 0)
		lsc_seterr(err, LSC_EIO, errno,
		    "cannot create a temp file in '%s': %s", dir, strerror(errno));
	return fd;
}

/* Under the lock: the next object to download, or SIZE_MAX for none. */
static size_t
pick(struct prefetch *p)
{
	for (;;) {
		if (p->next <= p->reader)
			p->next = p->reader + 1;
		while (p->next < p->n && p->obj[p->next].state != PF_NONE)
			p->next++;
		if (p->cancel || p->next >= p->n)
			return SIZE_MAX;
		if (p->stored + p->sizes[p->next] <= p->budget)
			return p->next++;
		pthread_cond_wait(&p->cv, &p->mu);
	}
}

static void *
download(void *arg)
{
	struct pf_thread *t = arg;
	struct prefetch *p = t->p;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t j = pick(p);
		struct pf_obj *o;
		struct spool s;
		struct lsc_err e = { 0 };
		int rc, fd;

		if (j == SIZE_MAX)
			break;
		o = &p->obj[j];
		o->state = PF_FETCHING;
		p->stored += p->sizes[j];
		pthread_mutex_unlock(&p->mu);
		rc = LSC_OK;
		if ((fd = temp_file(p->spool_dir, &e)) < 0) {
			rc = e.code;
			o->lost = 1;
		}
		o->fd = fd;	/* the reader waits for PF_DONE or bytes */
		s.p = p;
		s.o = o;
		if (rc == LSC_OK)
			rc = replica_get(t->r, p->keys[j], spool_sink, &s, &e);
		pthread_mutex_lock(&p->mu);
		o->rc = rc;
		o->err = e;
		o->state = PF_DONE;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct prefetch *
prefetch_start(struct replica *r, const char *const *keys,
    const uint64_t *sizes, size_t n, int nthreads, uint64_t budget,
    const char *spool_dir, struct lsc_err *err)
{
	struct prefetch *p = xcalloc(1, sizeof(*p));
	int rc = LSC_OK;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->keys = keys;
	p->sizes = sizes;
	p->n = n;
	p->obj = xcalloc(n ? n : 1, sizeof(*p->obj));
	for (size_t i = 0; i < n; i++)
		p->obj[i].fd = -1;
	p->budget = budget;
	p->spool_dir = spool_dir;
	p->nthreads = nthreads;
	p->t = xcalloc((size_t)nthreads, sizeof(*p->t));
	/* Every handle first: libcurl's set-up is not for threads. */
	for (int i = 0; rc == LSC_OK && i < nthreads; i++) {
		p->t[i].p = p;
		rc = replica_dup(r, &p->t[i].r, err);
	}
	for (int i = 0; rc == LSC_OK && i < nthreads; i++) {
		int e = pthread_create(&p->t[i].th, NULL, download, &p->t[i]);

		if (e != 0)
			rc = lsc_seterr(err, LSC_EIO, e, "cannot start a thread: %s",
			    strerror(e));
		else
			p->t[i].started = 1;
	}
	if (rc != LSC_OK) {
		prefetch_free(p);
		return NULL;
	}
	return p;
}

int
prefetch_take(struct prefetch *p, size_t j)
{
	int have;

	pthread_mutex_lock(&p->mu);
	p->reader = j;
	have = p->obj[j].state != PF_NONE;
	if (!have)
		p->obj[j].state = PF_READER;
	pthread_cond_broadcast(&p->cv);	/* downloads may move on */
	pthread_mutex_unlock(&p->mu);
	return have;
}

ssize_t
prefetch_read(struct prefetch *p, size_t j, void *buf, size_t cap, int *rc,
    struct lsc_err *err)
{
	struct pf_obj *o = &p->obj[j];
	ssize_t got;
	size_t k;

	pthread_mutex_lock(&p->mu);
	while (o->read_off == o->have && o->state == PF_FETCHING && !p->cancel)
		pthread_cond_wait(&p->cv, &p->mu);
	if (o->read_off == o->have && o->state == PF_FETCHING) {
		pthread_mutex_unlock(&p->mu);
		*rc = lsc_seterr(err, LSC_ESTOP, 0, "interrupted");
		return 0;
	}
	if (o->read_off == o->have) {
		*rc = o->rc;
		if (o->rc != LSC_OK)
			lsc_seterr(err, o->rc, o->err.sys, "%s", o->err.msg);
		pthread_mutex_unlock(&p->mu);
		return 0;
	}
	k = o->have - o->read_off < cap ? (size_t)(o->have - o->read_off) : cap;
	pthread_mutex_unlock(&p->mu);
	got = pread_full(o->fd, buf, k, (off_t)o->read_off);
	if (got != (ssize_t)k) {
		lsc_seterr(err, LSC_EIO, errno,
		    "cannot read back a temp file in '%s'", p->spool_dir);
		return -1;
	}
	o->read_off += k;
	return got;
}

int
prefetch_lost(struct prefetch *p, size_t j)
{
	int lost;

	pthread_mutex_lock(&p->mu);
	lost = p->obj[j].state == PF_DONE && p->obj[j].lost;
	pthread_mutex_unlock(&p->mu);
	return lost;
}

void
prefetch_done(struct prefetch *p, size_t j)
{
	struct pf_obj *o = &p->obj[j];

	pthread_mutex_lock(&p->mu);
	/* A download still running (the reader gave up) keeps its file. */
	if (o->state == PF_DONE) {
		if (o->fd >= 0)
			close(o->fd);
		o->fd = -1;
		o->state = PF_GONE;
		p->stored -= p->sizes[j];
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void
prefetch_cancel(struct prefetch *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->cancel = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
prefetch_free(struct prefetch *p)
{
	if (p == NULL)
		return;
	prefetch_cancel(p);
	for (int i = 0; i < p->nthreads; i++) {
		if (p->t[i].started)
			pthread_join(p->t[i].th, NULL);
		replica_free(p->t[i].r);
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->obj[i].fd >= 0)
			close(p->obj[i].fd);
	free(p->t);
	free(p->obj);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
