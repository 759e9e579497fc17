/* SPDX-License-Identifier: MIT */
/*
 * Fetching a restore's next objects ahead of its reader (rstream.h), for
 * replicas where each object costs a round trip (S3): up to `nthreads`
 * downloads at once, each thread with its own replica handle
 * (replica_dup), each object's stored bytes (still compressed, maybe
 * encrypted: nothing is decoded or trusted here) written as they arrive
 * to an unnamed temp file in `spool_dir`, where the reader finds them
 * when it gets there, even while the download still runs.  A download
 * resumes with Range after a cut as replica_get always does.
 *
 * Objects are taken in order, only after the one the reader is on, and
 * only while the stored sizes of the objects on disk and not yet read stay
 * within `budget` bytes; an object that does not fit waits, and if the
 * reader gets to it first the reader fetches it itself (prefetch_take
 * says so).  Memory: one buffer per thread; disk: about `budget`.
 */
#ifndef LSC_PREFETCH_H
#define LSC_PREFETCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "replica/replica.h"

struct prefetch;

/*
 * Start the downloads of `keys[1..n)` (object 0 is the reader's first),
 * whose stored sizes are `sizes` (all borrowed until prefetch_free, as are
 * `r` and `spool_dir`).  NULL, with `err`, when a replica handle or a
 * thread cannot be had.
 */
struct prefetch *prefetch_start(struct replica *r, const char *const *keys,
	    const uint64_t *sizes, size_t n, int nthreads, uint64_t budget,
	    const char *spool_dir, struct lsc_err *err);
/*
 * The reader is now on object `j` (in increasing order): 1 if a download
 * has it (read it with prefetch_read, then prefetch_done), 0 if the reader
 * must fetch it itself, and no download will.
 */
int	prefetch_take(struct prefetch *p, size_t j);
/*
 * The next stored bytes of object `j` (taken above), waiting for them:
 * the count put in `buf` (at most `cap`), or 0 at the object's end with
 * *rc the download's outcome (and `err` its error), or -1 when the temp
 * file cannot be read (`err` says why).
 */
ssize_t	prefetch_read(struct prefetch *p, size_t j, void *buf, size_t cap,
	    int *rc, struct lsc_err *err);
/*
 * 1 if object `j`'s download ended because its bytes could not be stored
 * (no temp file, a full disk), not because of the replica: the reader
 * then fetches the rest itself rather than fail the restore.
 */
int	prefetch_lost(struct prefetch *p, size_t j);
/* Object `j` is read (or given up): its temp file goes. */
void	prefetch_done(struct prefetch *p, size_t j);
/*
 * Ask the downloads to stop (each notices at its next bytes) and wake a
 * reader waiting in prefetch_read (its outcome: LSC_ESTOP).  Returns at
 * once; any thread may call it.
 */
void	prefetch_cancel(struct prefetch *p);
/* Stop the downloads, wait for the threads, free everything. */
void	prefetch_free(struct prefetch *p);

#endif
