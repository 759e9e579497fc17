/* SPDX-License-Identifier: MIT */
/*
 * One replica of a replicated database (struct shipper): it ships the
 * shadow WAL that the database's step captured (daemon/repl.h) to its
 * store as segments, takes its own snapshots, runs its own retention and
 * keeps its own position, retries and metrics.  A database has one
 * shipper per `replica` line of its [db]; each runs as a job of its own
 * on the worker pool (daemon/loop.c), so a replica that is down or slow
 * holds back neither the capture nor the other replicas: the bytes it
 * lacks wait for it in the shadow WAL, which is pruned only below the
 * slowest replica's position.
 *
 * What a shipper shares with its database's step, and how (all under
 * repl.mu; see struct repl_pub):
 *  - it reads the published shadow state (generation, current index and
 *    its final size) and opens shadow files only while that generation is
 *    current, so a new generation's clean-up never pulls a file from
 *    under it (an open descriptor stays readable);
 *  - it publishes `acked` (what its store holds at least), which bounds
 *    the pruning;
 *  - a snapshot reads the database file while no pin moves: it counts
 *    itself in `snap_readers`, and the step then only captures (no
 *    checkpoint, no new generation) until it is done.  It first ships
 *    every WAL byte captured so far, which covers the pin's mark, so the
 *    file holds no page of a frame the replica lacks (ship.c).
 *
 * `pending_bytes` (in the stats) is the shadow WAL bytes this replica
 * still needs, refreshed by the database's step and by the shipper; the
 * step bounds it by max-pending and on-pending-full (repl.c).
 */
#ifndef LSC_SHIPPER_H
#define LSC_SHIPPER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/config.h"
#include "daemon/shippos.h"
#include "replica/replica.h"
#include "wal/wal_layout.h"

struct repl;

/* For metrics (daemon/metrics.c), read from its thread: atomics added to
 * with relaxed fetch-adds, and the position copied under `lock`. */
struct shipper_stats {
	_Atomic uint64_t wal_bytes;		/* WAL bytes shipped */
	_Atomic uint64_t wal_frames;		/* WAL frames shipped */
	_Atomic uint64_t segments;		/* segment objects written */
	_Atomic uint64_t snapshots;
	_Atomic uint64_t snapshot_bytes;
	_Atomic uint64_t sync_errors;		/* failed passes */
	_Atomic uint64_t pending_bytes;		/* shadow WAL it still needs */
	_Atomic uint64_t let_go;		/* 1: its bytes were let go */
	_Atomic int64_t	 last_sync_ns;		/* wall clock; 0: never */
	/* Wall clock when data this replica lacks was first seen; 0 when it
	 * holds everything.  now - this is its replication lag. */
	_Atomic int64_t	 pending_since_ns;
	pthread_mutex_t	 lock;			/* guards the three below */
	char		 gen[GEN_ID_LEN + 1];	/* "" until known */
	uint32_t	 index;
	uint64_t	 offset;
};

struct shipper {
	struct repl	*r;		/* its database */
	const char	*name;		/* borrowed from the config */
	const char	*url;
	struct cfg_s3	 s3;		/* the settings it uses (owned) */
	const char	*record;	/* its shippos record's file name */
	struct replica	*replica;	/* NULL until opened */
	/* What its store requests get: retries per request (-1: until
	 * *stop), and the flag that cuts them short.  The loop sets both for
	 * the final sync. */
	int		 max_retries;
	volatile sig_atomic_t *stop;

	/* What the store holds of generation `gen` ("": not looked yet). */
	char		 gen[GEN_ID_LEN + 1];
	int		 pos_known;	/* else recompute from a listing */
	uint32_t	 pos_index;
	uint64_t	 pos_offset;
	int		 have_snapshot;
	int64_t		 last_snapshot_ns;	/* wall clock */
	struct ship_state ship;		/* its local record (shippos.c) */
	int64_t		 last_put_ns;	/* last object it wrote (wall clock) */

	int64_t		 next_retention_ms;	/* monotonic */
	int		 failing;	/* the last pass failed */
	int		 nfail;		/* passes failed in a row */
	int64_t		 retry_ms;	/* mono_ms of the next try after one */
	int		 synced;	/* caught up once with a snapshot */
	int64_t		 synced_ms;	/* the capture (mono_ms) it holds all of */
	/* For the loop, which wakes the database's step: a snapshot read
	 * ended (a checkpoint may have waited for it), or a new generation
	 * was asked for. */
	int		 released;
	int		 asked_newgen;
	int		 blocked;	/* waits for the new generation it
					 * asked for (nothing to do till then) */

	/* Under repl.mu, the bound on what it may hold back (max-pending,
	 * on-pending-full; repl.c prune_and_count): the share of max-pending
	 * it needs (percent), the last warning given (0, 50 or 90), and
	 * whether its bytes were let go (release): then it no longer bounds
	 * the pruning, and it starts a new generation when it is back. */
	int		 pend_pct;
	int		 pend_warned;
	int		 let_go;

	/* Under repl.mu: the least its store holds (for pruning). */
	int		 acked_known;
	char		 acked_gen[GEN_ID_LEN + 1];
	uint32_t	 acked_index;
	uint64_t	 acked_offset;

	struct shipper_stats st;
};

/* Set up (nothing opened); `rep` and `db` are borrowed for its life. */
void	shipper_init(struct shipper *s, struct repl *r, const struct cfg_db *db,
	    const struct cfg_replica *rep, const struct cfg_s3 *global_s3,
	    int nreplicas, volatile sig_atomic_t *stop);
void	shipper_release(struct shipper *s);

/*
 * One pass: ship what the database captured, then a snapshot and a
 * retention pass when due.  Logs its own events; the return value says
 * whether the pass worked (a database not open yet is no failure).
 */
int	shipper_step(struct shipper *s);

/* When (mono_ms) the next pass is due without new captures: a retry, a
 * snapshot or retention.  INT64_MAX when nothing is due. */
int64_t	shipper_next_timer_ms(const struct shipper *s);

/*
 * Shutdown, after the database's final capture (repl_final): ship it
 * all, and a snapshot if the generation has none here, with bounded
 * retries.  Returns the bytes left unshipped (0: everything; at least 1
 * on any failure).
 */
uint64_t shipper_final(struct shipper *s);

/* Capture saw data the replica lacks: start its lag clock if stopped. */
void	shipper_stats_pending(struct shipper *s);

/* Between the files of daemon/ only. */
int	ship_wal(struct shipper *s, struct lsc_err *err);	/* ship.c */
int	ship_snapshot(struct shipper *s, struct lsc_err *err);	/* ship.c */
int	ship_find_position(struct shipper *s, struct lsc_err *err); /* ship.c */
/* Copy the position into s->st, and stop or start the lag clock. */
void	shipper_publish(struct shipper *s);			/* shipper.c */
int	shipper_retention(struct shipper *s, struct lsc_err *err);
								/* retention.c */
/* The local record of what the store holds (shippos.h): before an
 * object's commit; after a segment's commit failed or worked. */
void	shippos_object(struct shipper *s);
void	shippos_tried(struct shipper *s, uint32_t index, uint64_t offset,
	    uint64_t stored, uint64_t end);
void	shippos_shipped(struct shipper *s, uint32_t index, uint64_t offset,
	    uint64_t stored, uint64_t end);
/* LSC_ECORRUPT (with the reason) when generation s->gen was begun with
 * other encryption settings, or is encrypted and unrecorded; `shipped`:
 * the store holds objects of it. */
int	shippos_check_gen(struct shipper *s, int shipped, struct lsc_err *err);
/* The store's last segment `key` cannot be ours (`why`): warn once,
 * naming it, and return LSC_ECORRUPT so that a new generation starts. */
int	shippos_not_ours(struct shipper *s, const char *key, const char *why,
	    struct lsc_err *err);
/* The end of the store's last segment (index, offset, stored size), from
 * the local record, else by reading it decompressing at most `cap`
 * bytes. */
int	shippos_segment_end(struct shipper *s, const char *key, uint32_t index,
	    uint64_t offset, uint64_t stored, uint64_t cap, uint64_t *end,
	    struct lsc_err *err);

#endif
