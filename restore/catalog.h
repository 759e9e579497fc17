/* SPDX-License-Identifier: MIT */
/*
 * The catalog: one replica listing sorted into generations, each with its
 * snapshots and WAL segments, in our own order (generation id; index;
 * offset), never the store's.  Keys that are not ours (layout_parse
 * fails: *.tmp, stray files, 9+-digit indexes, "../" or control
 * characters from a hostile store) are skipped, never used, and counted
 * so that catalog_load can warn about them.  Each object
 * keeps the key it was listed under, so a segment whose offset was written
 * with more than 8 digits is fetched by its real name.
 *
 * A generation's `created` and `updated` are the oldest and newest times
 * of all its objects (format doc §6.1).
 */
#ifndef LSC_CATALOG_H
#define LSC_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "replica/replica.h"
#include "wal/wal_layout.h"

struct cat_obj {
	char		*key;		/* as listed; owned */
	uint32_t	 index;
	uint64_t	 offset;	/* segments only; 0 for snapshots */
	uint64_t	 size;		/* stored (compressed) bytes */
	int64_t		 mtime_ns;
};

struct cat_gen {
	char		 id[GEN_ID_LEN + 1];
	struct cat_obj	*snaps;		/* sorted by index */
	size_t		 nsnap;
	struct cat_obj	*segs;		/* sorted by (index, offset) */
	size_t		 nseg;
	int64_t		 created_ns;	/* oldest object */
	int64_t		 updated_ns;	/* newest object */
};

struct catalog {
	struct cat_gen	*gens;		/* sorted by id */
	size_t		 ngen;
	size_t		 nforeign;	/* keys skipped as not ours */
	char		*foreign;	/* the first 200 bytes of the first of
					 * them (owned), or NULL */
};

/* Sort a listing into `out` (caller storage; catalog_release). Cannot fail. */
void	catalog_build(const struct replica_list *l, struct catalog *out);
/* List the replica's generations/ tree and build the catalog; keys that
 * are not ours are logged in one warning (their count and the first). */
int	catalog_load(struct replica *r, struct catalog *out,
	    struct lsc_err *err);
void	catalog_release(struct catalog *c);
/* The generation with this id, or NULL. */
const struct cat_gen *catalog_find(const struct catalog *c, const char *id);

#endif
