/* SPDX-License-Identifier: MIT */
/*
 * A small fixed pool of worker threads that run database jobs for the
 * event loop (daemon/loop.c), so that a slow upload to one replica never
 * holds up the loop, the capture of other databases, or timers.
 *
 * Why threads and not curl's multi interface: a step is a sequence of
 * blocking SQLite calls, local file I/O and replica requests (file or
 * S3) whose order matters (WAL before snapshot, checkpoint after capture).
 * Written as straight-line code on a worker it stays the same code that
 * the tests prove; turned inside out into callbacks for curl_multi it
 * would not, and the file replica's fsyncs would still block.
 *
 * A job is a pointer owned by the caller; the pool only queues it.  Each
 * job runs on one worker at a time (the loop never submits a busy job),
 * so a database's SQLite connections and replica handle are only ever
 * used by one thread at a time.  Finished jobs come back through
 * pool_take_done(), and pool_fd() becomes readable when there are some.
 */
#ifndef LSC_POOL_H
#define LSC_POOL_H

#include <stddef.h>

struct pool_item {
	struct pool_item *next;		/* owned by the pool while queued */
	void		(*run)(struct pool_item *);
};

struct pool;

/* Start `nworkers` threads.  NULL (with errno) if a thread or the
 * eventfd cannot be made. */
struct pool *pool_new(int nworkers);
/* Queue an item; it runs as soon as a worker is free (FIFO). */
void	pool_submit(struct pool *p, struct pool_item *it);
/* Readable (an eventfd) when finished items wait to be taken. */
int	pool_fd(const struct pool *p);
/* Take every finished item (a list linked by ->next, oldest first). */
struct pool_item *pool_take_done(struct pool *p);
/* Let the running items finish, then join the workers.  Items still
 * queued are not run; they are returned for the caller to dispose of. */
struct pool_item *pool_free(struct pool *p);

#endif
