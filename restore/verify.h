/* SPDX-License-Identifier: MIT */
/*
 * Verifying replica objects without building a database: the checks a
 * restore makes on what it reads, for objects no restore needed (the
 * drill's chain check).  There is one implementation of those checks:
 * these functions run the apply engine with no file (apply.h, "verify
 * only") behind the object reader (objread.h: age and LZ4), so a snapshot or an index
 * that passes here is one a restore accepts, byte for byte.
 *
 *  - A snapshot: one LZ4 frame with its content checksum, a SQLite header,
 *    a valid page size, a whole number of pages.
 *  - A WAL index: its segments contiguous from offset 0 (no gap, no
 *    overlap), a valid WAL header of the snapshot's page size, every
 *    frame's salts and the checksum chain, and, stricter than a restore,
 *    nothing after the last commit frame: neither Litestream nor
 *    litestream-c ships uncommitted frames (format doc §3), so such a tail
 *    is a transaction that lost its commit frame.
 *
 * Memory: one LZ4 block and one WAL frame, whatever the object sizes.
 */
#ifndef LSC_VERIFY_H
#define LSC_VERIFY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "replica/replica.h"
#include "restore/catalog.h"
#include "restore/objread.h"

struct verify_stats {
	uint64_t	 bytes;		/* decompressed bytes checked */
	uint64_t	 frames;	/* committed frames */
	uint64_t	 commits;
};

/*
 * Verify snapshot `snap` of generation `gen`; on success *page_size is its
 * page size.  `stop` (may be NULL) aborts with LSC_ESTOP when set.
 * Errors name the snapshot's key.
 */
int	verify_snapshot(struct replica *r, struct objread *rd, const char *gen,
	    const struct cat_obj *snap, volatile sig_atomic_t *stop,
	    uint32_t *page_size, struct verify_stats *st, struct lsc_err *err);

/*
 * Verify one WAL index of generation `gen`: `segs[0..n)` are all of its
 * segments in offset order (a run of a cat_gen's segs), the first one
 * listed at offset 0, checked against `page_size`.  `st` may be NULL.
 * On failure *culprit (may be NULL) is set to the key of the segment at
 * fault (borrowed from segs) and `err` names it too.
 */
int	verify_index(struct replica *r, struct objread *rd, const char *gen,
	    const struct cat_obj *segs, size_t n, uint32_t page_size,
	    volatile sig_atomic_t *stop, struct verify_stats *st,
	    const char **culprit, struct lsc_err *err);

#endif
