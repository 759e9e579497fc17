/* SPDX-License-Identifier: MIT */
/*
 * The restore planner: from a catalog and the user's bounds (a point in
 * time, a WAL index, a generation), choose the generation, the snapshot
 * and the ordered WAL segments to replay.  Pure: no I/O.
 *
 *  - Generation: only --generation if given.  Usable = it has a snapshot
 *    within the bounds.  Among usable ones, the one whose newest object
 *    within the bounds is newest wins (ties: the later-created, then the
 *    greater id, so the choice is deterministic).
 *  - Snapshot: the newest (by time; ties by index) with time <= T and
 *    index <= N; with `oldest`, the oldest one (by time; ties by index)
 *    instead, whose chain replays the most WAL (the drill's replay).
 *  - Segments: the generation's segments in (index, offset) order, from
 *    the snapshot's index up (lower indexes are ignored: they are not
 *    needed and may be half-deleted by retention), stopping at the first
 *    one newer than T or above N.  Checked: the first index is the
 *    snapshot's, indexes are consecutive, each starts at offset 0, and no
 *    (index, offset) appears twice.  Byte contiguity needs the decompressed
 *    lengths, so the apply step checks it.
 *
 * Errors: LSC_ENOTFOUND when nothing matches the bounds (empty replica,
 * unknown generation, T before the first snapshot, no snapshot at or
 * below N), LSC_ECORRUPT when the chosen objects cannot form a database.
 */
#ifndef LSC_PLAN_H
#define LSC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "restore/catalog.h"

struct plan_opts {
	const char	*generation;	/* NULL: any */
	int		 has_ts;
	int64_t		 ts_ns;		/* bound: object time <= ts_ns */
	int		 has_index;
	uint32_t	 index;		/* bound: index <= index */
	int		 oldest;	/* from the oldest snapshot in bounds */
};

struct restore_plan {
	const struct cat_gen *gen;	/* borrowed from the catalog */
	const struct cat_obj *snap;
	const struct cat_obj **segs;	/* owned array of borrowed objects */
	size_t		 nseg;
	/* Set by the caller, not the planner: the age identity file that
	 * encrypted objects are read with (borrowed; NULL: none). */
	const char	*age_identity_file;
};

/* Plan; on success *out is filled (plan_release).  Borrows `c`. */
int	plan_make(const struct catalog *c, const struct plan_opts *o,
	    struct restore_plan *out, struct lsc_err *err);
void	plan_release(struct restore_plan *p);

#endif
