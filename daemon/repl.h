/* SPDX-License-Identifier: MIT */
/*
 * One replicated database (struct repl): capture (real WAL -> shadow WAL),
 * checkpoints and generations, and its replicas, one struct shipper each
 * (daemon/shipper.h: shadow WAL -> segments, snapshots, retention).  The
 * daemon calls repl_step() and each shipper_step() on their schedules,
 * as separate jobs, and repl_final(), the shipper_final()s, then
 * repl_final_end() at shutdown; a repl never exits the process and logs
 * its own events.
 */
#ifndef LSC_REPL_H
#define LSC_REPL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/config.h"
#include "daemon/shipper.h"
#include "replica/replica.h"
#include "wal/dblock.h"
#include "wal/shadow.h"
#include "wal/wal_db.h"

/*
 * What the metrics thread (daemon/metrics.c) reads of the database while
 * the daemon thread runs (each replica has its own numbers, in struct
 * shipper_stats).  Counters and gauges are C11 atomics, added to with
 * relaxed fetch-adds and read with relaxed loads: each value is right on
 * its own, and a scrape need not be a consistent cut across them.  The
 * generation is copied under `lock`.
 */
struct repl_stats {
	_Atomic uint64_t checkpoints[4];	/* by enum wal_ckpt_mode */
	_Atomic uint64_t generations;		/* started by this process */
	_Atomic int	 waiting;		/* enum repl_wait */
	pthread_mutex_t	 lock;			/* guards gen */
	char		 gen[GEN_ID_LEN + 1];	/* "" until known */
	size_t		 slot;			/* metrics.c's registry index */
};

/* Add to a counter (relaxed: ordering with other memory is not needed). */
static inline void
stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* What a database that cannot be opened yet waits for (daemon/await.c);
 * neither is a failure. */
enum repl_wait {
	REPL_WAIT_NONE = 0,
	REPL_WAIT_FILE,		/* no database file yet (or still empty) */
	REPL_WAIT_LOCK,		/* another process replicates it (dblock) */
};

/*
 * What the shippers (daemon/shipper.h) see of the shadow WAL: written by
 * the database's step under repl.mu after each capture, read by them
 * under it.  Bytes [0, size) of shadow index `index`, and every earlier
 * index of `gen` still on disk, are final: capture only appends.
 */
struct repl_pub {
	char		 gen[GEN_ID_LEN + 1];	/* "": the database is not open */
	uint32_t	 index;
	uint64_t	 size;
	uint32_t	 cycle_index;	/* what a snapshot now is named by */
	uint32_t	 page_size;
	int		 pinned;	/* a read pin is held: a snapshot may
					 * read the file */
	int		 fresh;		/* `gen` was begun by this process: no
					 * store can hold any of it yet */
	int64_t		 captured_ms;	/* mono_ms at the start of the step
					 * whose capture this is */
};

struct repl {
	struct cfg_db	 cfg;		/* borrowed strings: the config outlives us */
	const char	*path;
	struct wal_db	*db;		/* NULL until the database can be opened */
	struct shadow	 sh;
	volatile sig_atomic_t *stop;

	/* Its replicas, in config order; fixed from repl_init on. */
	struct shipper	*ships;
	size_t		 nships;

	/*
	 * Shared with the shippers (shipper.h has the protocol):
	 * `pub`, each shipper's `acked`, and the two counts below.  The step
	 * moves a pin (checkpoint, hand-off, open, close, new generation)
	 * only while `pins_moving` is set, which it sets only when no
	 * shipper reads the database file (`snap_readers`); a shipper starts
	 * reading only when no pin moves (it waits on `cv`).
	 */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct repl_pub	 pub;
	int		 snap_readers;
	int		 pins_moving;
	char		*meta_dir;	/* the shadow's, kept from the first open */
	mode_t		 file_mode;	/* the database's copies' mode */
	int		 ckpt_held;	/* a due checkpoint waits for a reader */
	int		 gen_fresh;	/* sh.gen was begun by this process */
	/* A shipper found that generation `newgen_for` cannot go on in its
	 * store (shipper.c): the next step starts a new one, for all. */
	char		 newgen_for[GEN_ID_LEN + 1];
	char		 newgen_reason[LSC_ERRLEN];

	/* A capture under a pin reached the end of the WAL, and wal_db_gaps
	 * was `proof_gaps` then: while it still is, a pin has been held
	 * throughout, and any WAL restart may be followed (wal/wal_db.h). */
	int		 proven;
	uint64_t	 proof_gaps;
	/* The last checkpoint left a pin on a fully checkpointed WAL (read
	 * mark 0).  It lets the app's next write restart the WAL, but while
	 * it lasts every autocheckpoint of the app sorts the whole WAL only
	 * to find it cannot proceed: the next step (run at the WAL's next
	 * change, not a sync interval on) takes a pin at a real mark. */
	int		 mark0;
	/* Checkpoints have their own cadence: while the WAL holds at least
	 * min-checkpoint-page-count frames, a WAL change runs a step (which
	 * captures and checkpoints; shippers ship on their own schedule)
	 * after CHECKPOINT_STEP_MS.  A long WAL costs the app: past its
	 * wal_autocheckpoint it tries a checkpoint after every commit, which
	 * our pin keeps from finishing. */
	int		 ckpt_pressure;

	int64_t		 last_ckpt_ms;		/* monotonic */
	/* A due checkpoint that could not reset the WAL, since (mono_ms; 0:
	 * the last one did), and whether that was warned about. */
	int64_t		 ckpt_stuck_since_ms;
	int		 ckpt_stuck_warned;
	/* No reset under the write lock before this (mono_ms): one that
	 * readers defeated is not tried again at once (checkpoint.c). */
	int64_t		 locked_retry_ms;
	int		 replaced;	/* the file changed under us: next open
					 * starts a new generation */
	int		 failing;	/* last step failed: log recovery once */
	int64_t		 step_ms;	/* mono_ms at the start of this step */

	/* Readiness and lag (daemon/notify.c), written by repl_step(). */
	int		 synced;	/* a step has succeeded */
	int64_t		 synced_ms;	/* monotonic: start of the last step that
					 * succeeded (repl_init's time before) */

	struct repl_stats st;	/* for metrics; see above */

	/* One daemon per database, and databases not there yet (await.c). */
	struct dblock	 lock;		/* held from the first open to release */
	enum repl_wait	 waiting;
	int64_t		 wait_since_ms;	/* monotonic: when the wait began */
	int		 no_lock_wait;	/* --no-lock-wait: say so, do not wait */
};

/* Prepare a repl for `db`, with one shipper per replica (nothing is
 * opened yet).  It registers itself for metrics: r must not move until
 * repl_release. */
void	repl_init(struct repl *r, const struct cfg_db *db,
	    const struct cfg_s3 *global_s3, volatile sig_atomic_t *stop);
/* Only when no step and no shipper of it runs. */
void	repl_release(struct repl *r);

/* One pass of the database's own work: open if needed, capture,
 * checkpoint when due; shipping is the shippers' (shipper_step).
 * Errors are logged here; the return value says whether the pass worked. */
int	repl_step(struct repl *r);

/* When (mono_ms) the next timer-driven step is due, with no new commits:
 * a checkpoint interval or a retry of a database that could not be
 * opened.  INT64_MAX when nothing is due. */
int64_t	repl_next_timer_ms(const struct repl *r);

/*
 * Shutdown, first part: open a database that just appeared, capture what
 * is left, keep the pins for the shippers' finals (shipper_final).
 * Returns 0, or at least 1 when something could not be captured.
 */
uint64_t repl_final(struct repl *r);
/* Shutdown, last part, once every shipper's final is over: release the
 * pins. */
void	repl_final_end(struct repl *r);

/* For callers without a loop (tests): a step, then each shipper's pass;
 * LSC_OK when all worked. */
int	repl_sync(struct repl *r);

#endif

/* Between the files of daemon/ only. */
/* A step under checkpoint pressure (struct repl) runs this soon after a
 * WAL change, whatever the sync interval. */
#define CHECKPOINT_STEP_MS	100
/* A fully checkpointed WAL file larger than this is truncated (checkpoint.c). */
#define CHECKPOINT_TRUNCATE_BYTES	((uint64_t)64 << 20)
int	repl_checkpoint(struct repl *r, enum wal_ckpt_mode mode,
	    struct lsc_err *err);				/* checkpoint.c */
int	repl_handoff(struct repl *r, enum wal_conn from, enum wal_conn to,
	    struct lsc_err *err);				/* checkpoint.c */
/* Capture under the pins we hold; a restart breaks continuity unless a
 * pin has been held throughout since a complete capture (r->proven). */
/* max-pending and on-pending-full for replica `s` that needs `pending`
 * bytes of the shadow WAL; with r->mu held (repl.c). */
struct shipper;
void	repl_bound_pending(struct repl *r, struct shipper *s, uint64_t pending);
int	repl_capture(struct repl *r, int defer_sync, struct lsc_err *err);
							/* repl.c */
/* Publish the shadow's state to the shippers (takes mu). */
void	repl_publish(struct repl *r);				/* repl.c */
/* With mu held: the shadow WAL bytes of generation pub.gen from (index,
 * offset) to the published end. */
uint64_t repl_bytes_from(const struct repl *r, uint32_t index, uint64_t offset);
							/* repl.c */
/* Before the first thing that touches the database or its local state:
 * LSC_OK when its file is there and its lock is ours; else r->waiting says
 * what it waits for (logged once) and the code is not an error. */
int	repl_await(struct repl *r, struct lsc_err *err);	/* await.c */
/* While waiting: when (mono_ms) to look again without an event. */
int64_t	repl_await_next_ms(const struct repl *r);		/* await.c */
int64_t	repl_retention_interval_ms(const struct cfg_db *cfg);	/* retention.c */
