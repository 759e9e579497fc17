/* SPDX-License-Identifier: MIT */
/*
 * One replicated database (struct repl): capture (real WAL -> shadow WAL),
 * ship (shadow WAL -> replica segments), snapshots, checkpoints.  The
 * daemon calls repl_step() on its schedule and repl_final() at shutdown;
 * a repl never exits the process and logs its own events.
 */
#ifndef LSC_REPL_H
#define LSC_REPL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/config.h"
#include "daemon/shippos.h"
#include "replica/replica.h"
#include "wal/dblock.h"
#include "wal/shadow.h"
#include "wal/wal_db.h"

/*
 * What the metrics thread (daemon/metrics.c) reads while the daemon
 * thread runs.  Counters and gauges are C11 atomics, added to with
 * relaxed fetch-adds and read with relaxed loads: each value is right on
 * its own, and a scrape need not be a consistent cut across them.  The
 * replica position (generation, index, offset) must agree as a whole, so
 * it is copied under `lock` (repl_stats_publish).  Bytes are uncompressed.
 */
struct repl_stats {
	_Atomic uint64_t wal_bytes;		/* WAL bytes shipped */
	_Atomic uint64_t wal_frames;		/* WAL frames shipped */
	_Atomic uint64_t segments;		/* segment objects written */
	_Atomic uint64_t snapshots;
	_Atomic uint64_t snapshot_bytes;
	_Atomic uint64_t checkpoints[4];	/* by enum wal_ckpt_mode */
	_Atomic uint64_t generations;		/* started by this process */
	_Atomic uint64_t sync_errors;		/* failed steps */
	_Atomic int64_t	 last_sync_ns;		/* wall clock; 0: never */
	/* Wall clock when capture first saw data the replica lacks; 0 when
	 * the replica holds everything.  now - this is the replication lag. */
	_Atomic int64_t	 pending_since_ns;
	_Atomic int	 waiting;		/* enum repl_wait */
	pthread_mutex_t	 lock;			/* guards the three below */
	char		 gen[GEN_ID_LEN + 1];	/* "" until known */
	uint32_t	 index;
	uint64_t	 offset;
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

struct repl {
	struct cfg_db	 cfg;		/* borrowed strings: the config outlives us */
	struct cfg_s3	 s3;		/* merged [s3] + [db] settings (owned) */
	const char	*path;
	struct wal_db	*db;		/* NULL until the database can be opened */
	struct shadow	 sh;
	struct replica	*replica;
	volatile sig_atomic_t *stop;

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
	 * min-checkpoint-page-count frames, a WAL change runs a step after
	 * CHECKPOINT_STEP_MS, which ships only once sync-interval has passed
	 * since the last shipping step (`last_ship_ms`, mono).  A long WAL
	 * costs the app: past its wal_autocheckpoint it tries a checkpoint
	 * after every commit, which our pin keeps from finishing. */
	int		 ckpt_pressure;
	int		 step_shipped;		/* the last step shipped */
	int64_t		 last_ship_ms;

	/* What the replica holds of generation sh.gen. */
	int		 pos_known;	/* else recompute from a listing */
	uint32_t	 pos_index;
	uint64_t	 pos_offset;
	int		 have_snapshot;
	struct ship_state ship;		/* its local record (shippos.c) */

	int64_t		 last_ckpt_ms;		/* monotonic */
	/* A due checkpoint that could not reset the WAL, since (mono_ms; 0:
	 * the last one did), and whether that was warned about. */
	int64_t		 ckpt_stuck_since_ms;
	int		 ckpt_stuck_warned;
	/* No reset under the write lock before this (mono_ms): one that
	 * readers defeated is not tried again at once (checkpoint.c). */
	int64_t		 locked_retry_ms;
	int64_t		 last_snapshot_ns;	/* wall clock */
	int64_t		 next_retention_ms;	/* monotonic */
	int		 replaced;	/* the file changed under us: next open
					 * starts a new generation */
	int		 failing;	/* last step failed: log recovery once */

	/* Readiness and lag (daemon/notify.c), written by repl_step(). */
	int		 synced;	/* a step has succeeded: the replica has
					 * this generation's snapshot */
	int64_t		 synced_ms;	/* monotonic: start of the last step that
					 * succeeded (repl_init's time before) */

	struct repl_stats st;	/* for metrics; see above */

	/* One daemon per database, and databases not there yet (await.c). */
	struct dblock	 lock;		/* held from the first open to release */
	enum repl_wait	 waiting;
	int64_t		 wait_since_ms;	/* monotonic: when the wait began */
	int		 no_lock_wait;	/* --no-lock-wait: say so, do not wait */
};

/* Prepare a repl for `db` (nothing is opened yet).  It registers itself
 * for metrics: r must not move until repl_release. */
void	repl_init(struct repl *r, const struct cfg_db *db,
	    const struct cfg_s3 *global_s3, volatile sig_atomic_t *stop);
void	repl_release(struct repl *r);

/* One pass: open if needed, capture, ship, checkpoint and snapshot when due.
 * Errors are logged here; the return value says whether the pass worked. */
int	repl_step(struct repl *r);

/* When (mono_ms) the next timer-driven step is due, with no new commits:
 * a checkpoint or snapshot interval, a retention check, or a retry of a
 * database that could not be opened.  INT64_MAX when nothing is due. */
int64_t	repl_next_timer_ms(const struct repl *r);

/* Shutdown: capture and ship everything, release the pins.  Returns the
 * bytes of WAL left unshipped (0 on success; at least 1 on any failure,
 * including a database that could not be opened). */
uint64_t repl_final(struct repl *r);

#endif

/* Between the files of daemon/ only. */
/* A step under checkpoint pressure (struct repl) runs this soon after a
 * WAL change, whatever the sync interval. */
#define CHECKPOINT_STEP_MS	100
/* A fully checkpointed WAL file larger than this is truncated (checkpoint.c). */
#define CHECKPOINT_TRUNCATE_BYTES	((uint64_t)64 << 20)
int	repl_ship(struct repl *r, struct lsc_err *err);	/* ship.c */
int	repl_snapshot(struct repl *r, struct lsc_err *err);	/* ship.c */
int	repl_find_position(struct repl *r, struct lsc_err *err);	/* ship.c */
/* The local record of what the replica holds (shippos.h): before an
 * object's commit; after a segment's commit failed or worked. */
void	shippos_object(struct repl *r);
void	shippos_tried(struct repl *r, uint32_t index, uint64_t offset,
	    uint64_t stored, uint64_t end);
void	shippos_shipped(struct repl *r, uint32_t index, uint64_t offset,
	    uint64_t stored, uint64_t end);
/* LSC_ECORRUPT (with the reason) when generation sh.gen was begun with
 * other encryption settings, or is encrypted and unrecorded; `shipped`:
 * the replica holds objects of it. */
int	shippos_check_gen(struct repl *r, int shipped, struct lsc_err *err);
/* The end of the replica's last segment (index, offset, stored size),
 * from the local record, else by reading it decompressing at most `cap`
 * bytes. */
int	shippos_segment_end(struct repl *r, const char *key, uint32_t index,
	    uint64_t offset, uint64_t stored, uint64_t cap, uint64_t *end,
	    struct lsc_err *err);
int	repl_checkpoint(struct repl *r, enum wal_ckpt_mode mode,
	    struct lsc_err *err);				/* checkpoint.c */
int	repl_handoff(struct repl *r, enum wal_conn from, enum wal_conn to,
	    struct lsc_err *err);				/* checkpoint.c */
/* Capture under the pins we hold; a restart breaks continuity unless a
 * pin has been held throughout since a complete capture (r->proven). */
int	repl_capture(struct repl *r, int defer_sync, struct lsc_err *err);
							/* repl.c */
/* Copy the replica position into r->st for readers on other threads;
 * when the position is known, stop the lag clock if the replica holds all
 * of the shadow WAL, else start it if it is not running. */
void	repl_stats_publish(struct repl *r);			/* repl.c */
/* Data the replica lacks was just seen: start the lag clock if stopped. */
void	repl_stats_pending(struct repl *r);			/* repl.c */
int	repl_retention(struct repl *r, struct lsc_err *err);	/* retention.c */
/* Before the first thing that touches the database or its local state:
 * LSC_OK when its file is there and its lock is ours; else r->waiting says
 * what it waits for (logged once) and the code is not an error. */
int	repl_await(struct repl *r, struct lsc_err *err);	/* await.c */
/* While waiting: when (mono_ms) to look again without an event. */
int64_t	repl_await_next_ms(const struct repl *r);		/* await.c */
int64_t	repl_retention_interval_ms(const struct cfg_db *cfg);	/* retention.c */
