/* SPDX-License-Identifier: MIT */
/*
 * One replicated database (struct repl): capture (real WAL -> shadow WAL),
 * ship (shadow WAL -> replica segments), snapshots, checkpoints.  The
 * daemon calls repl_step() on its schedule and repl_final() at shutdown;
 * a repl never exits the process and logs its own events.
 */
#ifndef LSC_REPL_H
#define LSC_REPL_H

#include <signal.h>
#include <stdint.h>

#include "common/config.h"
#include "replica/replica.h"
#include "wal/shadow.h"
#include "wal/wal_db.h"

struct repl {
	struct cfg_db	 cfg;		/* borrowed strings: the config outlives us */
	struct cfg_s3	 s3;		/* merged [s3] + [db] settings (owned) */
	const char	*path;
	struct wal_db	*db;		/* NULL until the database can be opened */
	struct shadow	 sh;
	struct replica	*replica;
	volatile sig_atomic_t *stop;

	/* What the replica holds of generation sh.gen. */
	int		 pos_known;	/* else recompute from a listing */
	uint32_t	 pos_index;
	uint64_t	 pos_offset;
	int		 have_snapshot;

	int64_t		 last_ckpt_ms;		/* monotonic */
	int64_t		 last_snapshot_ns;	/* wall clock */
	int64_t		 next_retention_ms;	/* monotonic */
	int		 failing;	/* last step failed: log recovery once */

	/* Counters (for logs, metrics, tests). */
	uint64_t	 wal_bytes_shipped;
	uint64_t	 segments_shipped;
	uint64_t	 snapshots;
	uint64_t	 checkpoints;
	uint64_t	 generations;
};

/* Prepare a repl for `db` (nothing is opened yet). */
void	repl_init(struct repl *r, const struct cfg_db *db,
	    const struct cfg_s3 *global_s3, volatile sig_atomic_t *stop);
void	repl_release(struct repl *r);

/* One pass: open if needed, capture, ship, checkpoint and snapshot when due.
 * Errors are logged here; the return value says whether the pass worked. */
int	repl_step(struct repl *r);

/* Shutdown: capture and ship everything, release the pins.  Returns the
 * bytes of WAL left unshipped (0 on success). */
uint64_t repl_final(struct repl *r);

#endif

/* Between the files of daemon/ only. */
int	repl_ship(struct repl *r, struct lsc_err *err);	/* ship.c */
int	repl_snapshot(struct repl *r, struct lsc_err *err);	/* ship.c */
int	repl_find_position(struct repl *r, struct lsc_err *err);	/* ship.c */
int	repl_checkpoint(struct repl *r, enum wal_ckpt_mode mode,
	    struct lsc_err *err);				/* checkpoint.c */
int	repl_handoff(struct repl *r, enum wal_conn from, enum wal_conn to,
	    struct lsc_err *err);				/* checkpoint.c */
int	repl_capture(struct repl *r, int restart_expected, int defer_sync,
	    struct lsc_err *err);				/* repl.c */
int	repl_retention(struct repl *r, struct lsc_err *err);	/* retention.c */
int64_t	repl_retention_interval_ms(const struct cfg_db *cfg);	/* retention.c */
