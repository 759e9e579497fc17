/* SPDX-License-Identifier: MIT */
/*
 * The worker pool (see pool.h): one mutex, one condition variable for the
 * workers, and an eventfd that wakes the event loop when work is done.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "daemon/pool.h"

struct pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct pool_item *todo, *todo_tail;
	struct pool_item *done, *done_tail;
	int		 quit;
	int		 efd;
	int		 n;
	pthread_t	*threads;
};

static void
append(struct pool_item **head, struct pool_item **tail, struct pool_item *it)
{
	it->next = NULL;
	if (*tail != NULL)
		(*tail)->next = it;
	else
		*head = it;
	*tail = it;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct pool_item *it;

		while (p->todo == NULL && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->quit)
			break;
		it = p->todo;
		p->todo = it->next;
		if (p->todo == NULL)
			p->todo_tail = NULL;
		pthread_mutex_unlock(&p->mu);

		it->run(it);

		pthread_mutex_lock(&p->mu);
		append(&p->done, &p->done_tail, it);
		/* Cannot fail short of a counter overflow (2^64 - 1). */
		if (write(p->efd, &one, sizeof(one)) < 0)
			abort();
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pool *
pool_new(int nworkers)
{
	struct pool *p = xcalloc(1, sizeof(*p));
	sigset_t all, old;
	int rc = 0;

	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		free(p);
		return NULL;
	}
	p->threads = xcalloc((size_t)nworkers, sizeof(*p->threads));
	/* Workers never take signals: the loop reads them from a signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (p->n = 0; p->n < nworkers; p->n++)
		if ((rc = pthread_create(&p->threads[p->n], NULL, worker, p)) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pool_free(p);
		errno = rc;
		return NULL;
	}
	return p;
}

void
pool_submit(struct pool *p, struct pool_item *it)
{
	pthread_mutex_lock(&p->mu);
	append(&p->todo, &p->todo_tail, it);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int
pool_fd(const struct pool *p)
{
	return p->efd;
}

struct pool_item *
pool_take_done(struct pool *p)
{
	struct pool_item *list;
	uint64_t n;

	/* Clear the eventfd first: an item finishing after this read sets
	 * it again, so none is left waiting unseen. */
	if (read(p->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		abort();
	pthread_mutex_lock(&p->mu);
	list = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	return list;
}

struct pool_item *
pool_free(struct pool *p)
{
	struct pool_item *left;

	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	left = p->todo;
	close(p->efd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
	return left;
}
