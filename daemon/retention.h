/* SPDX-License-Identifier: MIT */
/*
 * The retention planner: from one listing of a replica's generations/
 * tree, decide which objects to delete.  Pure: no I/O, no clock (the
 * caller passes "now").  daemon/retention.c lists, plans and deletes.
 *
 * Rules (Litestream v0.3.13's, format doc §7.2, plus two safety rules):
 *
 *  1. A snapshot is kept when its time is >= now - retention, when it is
 *     the newest snapshot of the replica, the newest of the current
 *     generation, or the newest of the generation a "latest" restore
 *     would choose (the one whose newest object is newest, among those
 *     with a snapshot).  Ties keep every tied snapshot.
 *  2. A generation with no kept snapshot goes whole, except the current
 *     one, which is never deleted (it may not have its first snapshot yet).
 *  3. In a generation with kept snapshots, m = the lowest kept index:
 *     snapshots and WAL segments with index < m go; index m and above
 *     stay, so the chain from every kept snapshot to the newest segment
 *     is whole.  In the current generation m is at most the index of its
 *     newest snapshot, so that snapshot and every later segment stay.
 *  4. Grace: an object goes only if the same rules, applied to the replica
 *     as it was `grace` ago (objects newer than that invisible, "now" =
 *     now - grace), would already have deleted it.  Whether an object may
 *     go only ever changes from no to yes as time passes, so this means
 *     "unneeded for at least `grace`".  A restore chooses only objects the
 *     rules keep at the moment it lists the replica, so it has at least
 *     `grace` to read its chain before any of it can be deleted.
 *  5. Chains are closed: if any snapshot stays, every segment of its
 *     generation at or above its index stays too, whatever rules 1-4 say.
 *     After every pass each remaining snapshot is restorable.
 *
 * Keys that are not ours (layout_parse fails) are never deleted.  Times
 * are the store's (file mtime, S3 LastModified); an object "from the
 * future" (clock skew) counts as newest and stays.
 */
#ifndef LSC_RETENTION_H
#define LSC_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "replica/replica.h"

struct ret_opts {
	int64_t		 now_ns;	/* wall clock */
	int64_t		 retention_ns;	/* > 0 */
	int64_t		 grace_ns;	/* >= 0 */
	const char	*current_gen;	/* NULL or "": none known */
};

struct ret_plan {
	/*
	 * Keys to delete, in the order they must go: every snapshot first
	 * (no snapshot is ever left with a broken chain), then segments at
	 * offset > 0, then offset-0 segments, so an interrupted pass leaves
	 * each index starting at offset 0 (Litestream v0.3.13 checks that
	 * even for indexes below the snapshot it restores, format doc §10.4).
	 * Owned array; the strings are borrowed from the listing.
	 */
	const char	**keys;
	size_t		 nkeys;
	size_t		 nsnap_keys;	/* keys[0 .. nsnap_keys) are snapshots */
	size_t		 nseg_tail_keys;	/* then this many offset > 0 */

	size_t		 gens_deleted;	/* generations deleted whole */
	size_t		 snapshots_deleted;
	size_t		 segments_deleted;
	size_t		 deferred;	/* would go but for the grace period */
	size_t		 snapshots_kept;
	size_t		 segments_kept;
	/* The current generation has snapshots, none within retention: take
	 * one, or its WAL can never be trimmed (Litestream does the same). */
	int		 snapshot_needed;
};

/* Plan retention for `l` (objects keyed relative to the replica root).
 * Cannot fail; *out borrows `l`'s keys (ret_plan_release). */
void	ret_plan_make(const struct replica_list *l, const struct ret_opts *o,
	    struct ret_plan *out);
void	ret_plan_release(struct ret_plan *p);

#endif
