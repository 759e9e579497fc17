/* SPDX-License-Identifier: MIT */
/*
 * The drill's chain check (see drill.h) and the record it shares with the
 * restores: which objects a successful restore already verified.  A
 * restore verifies exactly what verify.h checks on every object it reads
 * (both run the same apply engine), so an object it read completely need
 * not be fetched again.  The unit is a snapshot, or a whole WAL index: a
 * restore bounded by a point in time may stop inside an index, and the
 * checksum chain of an index can only be checked from its offset 0.
 */
#ifndef LSC_DRILL_CHAIN_H
#define LSC_DRILL_CHAIN_H

#include <stdint.h>

#include "replica/replica.h"
#include "restore/catalog.h"
#include "restore/drill.h"
#include "restore/plan.h"

struct drill_seen;

/* An empty record for catalog `c` (borrowed; must outlive it). */
struct drill_seen *drill_seen_new(const struct catalog *c);
void	drill_seen_free(struct drill_seen *s);

/*
 * Note what a successful restore of plan `p` (made from the same catalog)
 * verified: its snapshot, which has `page_size`, and, when `wal_ok`, every
 * WAL index whose segments it read in full.  (A restore accepts frames
 * after an index's last commit and drops them; the chain check does not,
 * so a restore that dropped some passes `wal_ok` 0.)
 */
void	drill_seen_plan(struct drill_seen *s, const struct restore_plan *p,
	    uint32_t page_size, int wal_ok);

/*
 * The chain check over every generation of the catalog (only `generation`
 * when not NULL): count, then read and verify what `s` does not hold.
 * Fills `out` (zeroed by the caller) with counts, problems and status.
 */
/* `age_identity_file` (may be NULL) opens an encrypted replica. */
void	drill_chain_run(struct replica *r, const struct catalog *c,
	    const struct drill_seen *s, const char *generation,
	    const char *age_identity_file,
	    struct drill_chain *out);

/*
 * The key of a catalog object named in `msg` (the one named first), or
 * NULL: error messages quote the object they are about.
 */
const char *drill_find_key(const struct catalog *c, const char *msg);

#endif
