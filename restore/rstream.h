/* SPDX-License-Identifier: MIT */
/*
 * The reading side of a restore, in a thread of its own: objects are
 * read from the replica, decrypted and decompressed (objread.h) one after
 * the other, and their bytes handed over in order through a small ring
 * of buffers, so that reading and decoding (liblz4 with its content
 * checksum, age) run on one core while the caller verifies and applies
 * the bytes on another.  Memory is the ring (RSTREAM_SLOTS buffers of
 * RSTREAM_SLOT_BYTES) whatever the objects' sizes: the reader waits when
 * the ring is full.
 *
 * Every check stays where it was: objread verifies what it decodes, and
 * an object's end piece carries its verdict (as with objread_fetch, bytes
 * of an object may arrive before its verdict does).  The reader stops at
 * the first failure, after handing over that failure.
 */
#ifndef LSC_RSTREAM_H
#define LSC_RSTREAM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "replica/replica.h"
#include "restore/objread.h"

#define RSTREAM_SLOTS		8
#define RSTREAM_SLOT_BYTES	(256 * 1024)	/* liblz4's output chunk */

struct rstream;

/* How the reader fetches (NULL: each object in turn, by itself, no cap). */
struct rstream_opts {
	const uint64_t	*caps;		/* the most each may inflate to (or NULL) */
	const char *const *whys;	/* and why, for the message (objread.h) */
	const uint64_t	*sizes;		/* stored size of each object */
	int		 fetchers;	/* downloads ahead (prefetch.h); 0: none */
	uint64_t	 spool_budget;	/* bytes on disk for those */
	const char	*spool_dir;	/* where they are kept */
};

struct rstream_piece {
	size_t		 obj;		/* index in the keys given */
	const uint8_t	*data;		/* decoded bytes of that object */
	size_t		 len;		/* 0 in an end piece */
	int		 end;		/* the object is done: rc says how */
	int		 rc;
	struct lsc_err	 err;		/* names the object when rc != LSC_OK */
};

/*
 * Start reading `keys[0..n)` of `r` through `o` (both borrowed, used only
 * by the reader thread until rstream_free, as are `keys` and `opts`).
 * `stop` (may be NULL) ends the reading with LSC_ESTOP.  Fails only if no
 * thread (or, for the downloads ahead, no second replica handle) can be
 * had.
 */
int	rstream_start(struct rstream **out, struct replica *r,
	    struct objread *o, const char *const *keys, size_t n,
	    const struct rstream_opts *opts, volatile sig_atomic_t *stop,
	    struct lsc_err *err);
/*
 * The next piece, in order: each object's bytes, then its end piece.
 * Waits for it.  The piece is valid until the next call or rstream_free;
 * no call may follow a failed end piece or the last object's end.
 */
const struct rstream_piece *rstream_next(struct rstream *s);
/* Stop the reader if it still runs, wait for it, free everything. */
void	rstream_free(struct rstream *s);

#endif
