/* SPDX-License-Identifier: MIT */
/*
 * One replicated database: the step that the daemon runs every sync
 * interval (see repl.h), generations, and the final sync at shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/metrics.h"
#include "daemon/repl.h"

void
repl_init(struct repl *r, const struct cfg_db *db,
    const struct cfg_s3 *global_s3, volatile sig_atomic_t *stop)
{
	memset(r, 0, sizeof(*r));
	r->cfg = *db;
	r->path = db->path;
	r->stop = stop;
	cfg_s3_init(&r->s3);
	cfg_s3_merge(&db->s3, global_s3, &r->s3);
	r->sh.fd = -1;
	r->sh.shm_fd = -1;
	dblock_init(&r->lock);
	r->last_ckpt_ms = mono_ms();
	r->synced_ms = mono_ms();
	r->next_retention_ms = mono_ms() + repl_retention_interval_ms(db);
	/* The atomics in r->st start at zero from the memset: no other
	 * thread can see r before metrics_add publishes it under a lock. */
	pthread_mutex_init(&r->st.lock, NULL);
	metrics_add(r);
}

static void
repl_close_db(struct repl *r)
{
	wal_db_close(r->db);
	r->db = NULL;
	shadow_release(&r->sh);
	r->pos_known = 0;
}

void
repl_release(struct repl *r)
{
	/* First, so that no scrape reads r while it is taken apart. */
	metrics_remove(r);
	pthread_mutex_destroy(&r->st.lock);
	repl_close_db(r);
	replica_free(r->replica);
	cfg_s3_release(&r->s3);
	/* Last: the next daemon may take over once we are done with it all. */
	dblock_release(&r->lock);
	memset(r, 0, sizeof(*r));
}

/* Restarts racing a new generation's first copy, before we give up. */
#define NEWGEN_TRIES	5

static int ensure_pin(struct repl *r, struct lsc_err *err);

/* Continuity lost: a new generation, with index 0 = the WAL as it is now. */
static int
new_generation(struct repl *r, const char *reason, struct lsc_err *err)
{
	int rc;

	/*
	 * S3 keeps LastModified to the second, and a restore picks the
	 * generation updated last: objects of the new generation must fall
	 * in a later second than anything uploaded before it (by us, or by a
	 * process of ours that was killed), or Litestream, which breaks such
	 * ties by listing order, could restore the older one.  File replicas
	 * keep nanoseconds.  At most a second, and generations are rare.
	 */
	if (strcmp(r->replica->ops->type, "file") != 0) {
		int64_t ns = now_ns();
		struct timespec ts = { 0, 1000000000L - ns % 1000000000L };

		nanosleep(&ts, NULL);
	}
	/* Under a pin (any will do: wal/wal_db.h), and never a write of
	 * ours.  A restart that races the copy is retried from its cycle. */
	for (int tries = 0; ; tries++) {
		if ((rc = ensure_pin(r, err)) != LSC_OK)
			return rc;
		rc = shadow_new_generation(&r->sh, wal_db_page_size(r->db), err);
		if (rc != LSC_EBUSY || tries == NEWGEN_TRIES)
			break;
		lsc_err_clear(err);
	}
	if (rc != LSC_OK)
		return rc;
	r->proven = 1;
	r->proof_gaps = wal_db_gaps(r->db);
	r->pos_known = 1;
	r->pos_index = 0;
	r->pos_offset = 0;
	r->have_snapshot = 0;
	stat_add(&r->st.generations, 1);
	/* Index 0 holds at least a header the replica lacks. */
	repl_stats_pending(r);
	repl_stats_publish(r);
	log_db(LOG_INFO, r->path, "new generation\tgeneration=%s reason=\"%s\"",
	    r->sh.gen, reason);
	return LSC_OK;
}

/* A database that cannot be opened, or a failing step, is retried after
 * this long (the replica's own retries happen inside the step). */
#define RETRY_MS	1000
#define FINAL_SYNC_RETRIES	5	/* per request, in repl_final */

/* The `reason` of a failed continuity check travels in this error code. */
#define CONTINUITY_LOST LSC_ECORRUPT

int
repl_capture(struct repl *r, int defer_sync, struct lsc_err *err)
{
	struct shadow_capture res;
	uint64_t gaps = wal_db_gaps(r->db);
	int pinned_now = wal_db_pinned(r->db, WAL_CONN_A) ||
	    wal_db_pinned(r->db, WAL_CONN_B);
	int rc = shadow_capture(&r->sh, r->proven && gaps == r->proof_gaps &&
	    pinned_now, defer_sync, &res, err);

	if (rc != LSC_OK)
		return rc;
	if (res.reason != NULL)
		return lsc_seterr(err, CONTINUITY_LOST, 0, "%s", res.reason);
	/* This capture ran under a pin and reached the WAL's end. */
	if (pinned_now) {
		r->proven = 1;
		r->proof_gaps = gaps;
	}
	if (res.bytes > 0)
		repl_stats_pending(r);
	if (res.new_index)
		log_db(LOG_DEBUG, r->path, "new wal index\tindex=%08x", r->sh.index);
	return LSC_OK;
}

/* Open the database and resume (or start) its generation. */
static int
repl_open(struct repl *r, struct lsc_err *err)
{
	const char *reason = NULL;
	int rc;

	/* max-retries from the config, else (-1) retry until shutdown. */
	if (r->replica == NULL && (rc = replica_open(r->cfg.replica, &r->s3,
	    r->s3.max_retries, &r->replica, err)) != LSC_OK)
		return rc;
	r->replica->stop = r->stop;
	/* Not there yet, or another process's (daemon/await.c). */
	if ((rc = repl_await(r, err)) != LSC_OK)
		return rc;
	if ((rc = wal_db_open(r->path, &r->db, err)) != LSC_OK)
		return rc;
	if ((rc = shadow_init(&r->sh, r->path, r->cfg.meta_path, err)) != LSC_OK)
		goto fail;
	/* A file replica's copies are as private as the database. */
	r->replica->file_mode = r->sh.file_mode;
	/*
	 * Pin first, then check continuity against the WAL as we find it: a
	 * restart after the pin shows up as a changed header (or in the
	 * strict capture below), never unseen.
	 */
	r->proven = 0;
	if ((rc = wal_db_pin(r->db, WAL_CONN_A, err)) != LSC_OK ||
	    (rc = shadow_resume(&r->sh, &reason, err)) != LSC_OK)
		goto fail;
	/* A different file now: whatever the WAL on disk says, nothing proves
	 * that this database continues the generation we were shipping. */
	if (reason == NULL && r->replaced)
		reason = "the database file was replaced";
	if (reason != NULL) {
		if (strcmp(reason, "no generation exists") != 0)
			log_db(LOG_WARN, r->path, "cannot continue the previous "
			    "generation\treason=\"%s\"", reason);
		rc = new_generation(r, reason, err);
	} else {
		log_db(LOG_INFO, r->path, "resumed generation\tgeneration=%s "
		    "index=%08x", r->sh.gen, r->sh.index);
		/* Not proven yet: any restart since we stopped breaks it. */
		rc = repl_capture(r, 0, err);
		if (rc == CONTINUITY_LOST) {
			reason = err->msg[0] ? xstrdup(err->msg) : NULL;
			lsc_err_clear(err);
			rc = new_generation(r, reason ? reason : "continuity lost", err);
			free((char *)reason);
		}
	}
	if (rc == LSC_OK) {
		r->replaced = 0;
		log_db(LOG_INFO, r->path, "replicating\treplica=%s sync-interval=%lldms",
		    r->replica->url, (long long)r->cfg.sync_interval_ms);
		return LSC_OK;
	}
fail:
	repl_close_db(r);
	return rc;
}

static int
checkpoint_due(struct repl *r, enum wal_ckpt_mode *mode)
{
	/* Frames of the whole real WAL cycle not checkpointed yet (by us or
	 * the app), not just the current index's: an index may have rolled
	 * while the WAL kept growing. */
	uint64_t frames = shadow_pending_frames(&r->sh);
	int interval = r->cfg.checkpoint_interval_ms > 0 &&
	    mono_ms() - r->last_ckpt_ms >= r->cfg.checkpoint_interval_ms;

	/* The hard bound is on the WAL's length: lock-free checkpoints keep
	 * the pending frames low while writers that never pause keep the
	 * WAL from restarting (checkpoint.c, step 4). */
	if (r->cfg.max_checkpoint_page_count > 0 && frames > 0 &&
	    shadow_cycle_frames(&r->sh) >=
	    (uint64_t)r->cfg.max_checkpoint_page_count &&
	    mono_ms() >= r->locked_retry_ms) {
		*mode = WAL_CKPT_RESTART;
		return 1;
	}
	if (frames >= (uint64_t)r->cfg.min_checkpoint_page_count) {
		*mode = WAL_CKPT_PASSIVE;
		return 1;
	}
	/* An idle database still gets its WAL folded in now and then, and a
	 * WAL file left large by a burst is cut once it is all in. */
	if (interval && (frames > 0 || r->sh.wal_size > CHECKPOINT_TRUNCATE_BYTES)) {
		*mode = frames > 0 ? WAL_CKPT_PASSIVE : WAL_CKPT_TRUNCATE;
		return 1;
	}
	return 0;
}

static int
snapshot_due(struct repl *r)
{
	if (!r->have_snapshot)
		return 1;
	return r->cfg.snapshot_interval_ms > 0 &&
	    now_ns() - r->last_snapshot_ns >= r->cfg.snapshot_interval_ms * 1000000;
}

/* The database file was replaced (mv new.db app.db) or deleted. */
static int
db_replaced(struct repl *r)
{
	struct stat st;

	return stat(r->path, &st) != 0 || st.st_ino != wal_db_inode(r->db);
}

/*
 * Neither connection holds a pin (a failed hand-off after a failed re-pin,
 * e.g. while the app held the write lock): take a plain read on A.  Its
 * mark may be 0 if the WAL is fully checkpointed, which still blocks every
 * backfill; the capture that follows proves continuity either way.
 */
static int
ensure_pin(struct repl *r, struct lsc_err *err)
{
	if (wal_db_pinned(r->db, WAL_CONN_A) || wal_db_pinned(r->db, WAL_CONN_B))
		return LSC_OK;
	return wal_db_pin(r->db, WAL_CONN_A, err);
}

static int
step(struct repl *r, struct lsc_err *err)
{
	enum wal_ckpt_mode mode;
	int ship, rc;

	r->step_shipped = 0;
	if (r->db != NULL && db_replaced(r)) {
		log_db(LOG_WARN, r->path, "the database file was replaced or removed");
		r->replaced = 1;
		repl_close_db(r);
	}
	if (r->db == NULL && (rc = repl_open(r, err)) != LSC_OK)
		return rc;
	if (!wal_db_pinned(r->db, WAL_CONN_A)) {
		/* A checkpoint left B holding the pin (or none): hand it back. */
		rc = repl_handoff(r, WAL_CONN_B, WAL_CONN_A, err);
		if (rc == LSC_EBUSY)
			lsc_err_clear(err);
		else if (rc != LSC_OK)
			return rc;
	}
	if ((rc = ensure_pin(r, err)) != LSC_OK)
		return rc;
	/* Move off read mark 0 (repl.h), to wherever the WAL is now. */
	if (r->mark0) {
		r->mark0 = 0;
		rc = wal_db_pinned(r->db, WAL_CONN_A) ?
		    repl_handoff(r, WAL_CONN_A, WAL_CONN_B, err) :
		    repl_handoff(r, WAL_CONN_B, WAL_CONN_A, err);
		if (rc != LSC_OK)
			return rc;
	}
	/* Shipping is batched by the sync interval; a step run sooner for a
	 * checkpoint (repl.h) only captures and checkpoints. */
	ship = r->cfg.sync_interval_ms == 0 || !r->synced ||
	    mono_ms() - r->last_ship_ms >= r->cfg.sync_interval_ms ||
	    snapshot_due(r);
	if ((rc = repl_capture(r, 0, err)) != LSC_OK)
		return rc;
	if (ship && (rc = repl_ship(r, err)) != LSC_OK)
		return rc;
	if (checkpoint_due(r, &mode)) {
		if ((rc = repl_checkpoint(r, mode, err)) != LSC_OK)
			return rc;
		if (ship && (rc = repl_ship(r, err)) != LSC_OK)
			return rc;
	}
	if (snapshot_due(r) && (rc = repl_snapshot(r, err)) != LSC_OK)
		return rc;
	r->step_shipped = ship;
	r->ckpt_pressure = shadow_cycle_frames(&r->sh) >=
	    (uint64_t)r->cfg.min_checkpoint_page_count;
	if (r->cfg.retention_ms > 0 && mono_ms() >= r->next_retention_ms) {
		/* Due first: a failing pass waits an interval too (no LIST storm). */
		struct lsc_err rerr = { 0 };

		r->next_retention_ms = mono_ms() + repl_retention_interval_ms(&r->cfg);
		if (repl_retention(r, &rerr) != LSC_OK)
			log_db(LOG_WARN, r->path, "retention failed (will retry)\t"
			    "error=\"%s\"", rerr.msg);
	}
	return LSC_OK;
}

int
repl_step(struct repl *r)
{
	struct lsc_err err = { 0 };
	int64_t start_ms = mono_ms();
	int rc = step(r, &err);

	if (r->waiting != REPL_WAIT_NONE) {
		/* Nothing to sync yet, and no failure (await.c logged it). */
		r->failing = 0;
		return LSC_OK;
	}
	if (rc == CONTINUITY_LOST && r->db != NULL) {
		/* Not an error: the one safe answer is a new generation. */
		char reason[LSC_ERRLEN];

		snprintf(reason, sizeof(reason), "%s", err.msg);
		lsc_err_clear(&err);
		rc = new_generation(r, reason, &err);
		if (rc == LSC_OK)
			rc = step(r, &err);
	}
	if (rc != LSC_OK) {
		log_db(r->failing ? LOG_DEBUG : LOG_ERROR, r->path,
		    "sync failed (will retry)\terror=\"%s\"", err.msg);
		r->failing = 1;
		stat_add(&r->st.sync_errors, 1);
		return rc;
	}
	if (r->failing)
		log_db(LOG_INFO, r->path, "sync recovered");
	/* Idle from here on, maybe for hours: keep no cache, nor the second
	 * connection (opened again by the next checkpoint). */
	wal_db_release_memory(r->db);
	wal_db_trim(r->db);
	shadow_trim(&r->sh);
	r->failing = 0;
	if (!r->step_shipped)
		return LSC_OK;
	/* Whatever was committed before this step began is in the replica. */
	r->synced = 1;
	r->synced_ms = start_ms;
	r->last_ship_ms = start_ms;
	atomic_store_explicit(&r->st.last_sync_ns, now_ns(),
	    memory_order_relaxed);
	return LSC_OK;
}

int64_t
repl_next_timer_ms(const struct repl *r)
{
	int64_t now = mono_ms(), due = INT64_MAX;

	if (r->waiting != REPL_WAIT_NONE)
		return repl_await_next_ms(r);
	if (r->db == NULL || r->failing)
		return now + RETRY_MS;
	/* Captured by a checkpoint step and not shipped yet. */
	if (r->pos_known && (r->pos_index != r->sh.index ||
	    r->pos_offset != r->sh.size) && r->last_ship_ms +
	    r->cfg.sync_interval_ms < due)
		due = r->last_ship_ms + r->cfg.sync_interval_ms;
	/* Mirrors checkpoint_due(). */
	if (r->cfg.checkpoint_interval_ms > 0 &&
	    (shadow_pending_frames(&r->sh) > 0 ||
	    r->sh.wal_size > CHECKPOINT_TRUNCATE_BYTES))
		due = r->last_ckpt_ms + r->cfg.checkpoint_interval_ms;
	if (r->cfg.snapshot_interval_ms > 0) {
		/* last_snapshot_ns is wall-clock: convert what is left. */
		int64_t left = r->cfg.snapshot_interval_ms -
		    (now_ns() - r->last_snapshot_ns) / 1000000;

		if (now + left < due)
			due = now + (left > 0 ? left : 0);
	}
	if (r->cfg.retention_ms > 0 && r->next_retention_ms < due)
		due = r->next_retention_ms;
	return due;
}

uint64_t
repl_final(struct repl *r)
{
	struct lsc_err err = { 0 };
	uint64_t left = 0;
	int rc;

	if (r->db == NULL && r->waiting == REPL_WAIT_FILE && r->replica != NULL) {
		/* It may have appeared since the last step (an --exec app that
		 * made it and exited): open it now, or it would never ship.
		 * The open must not trade the final sync's stop flag for the
		 * steps' (see below). */
		volatile sig_atomic_t *stop = r->replica->stop;

		rc = repl_open(r, &err);
		r->replica->stop = stop;
		if (rc != LSC_OK && r->waiting == REPL_WAIT_NONE) {
			log_db(LOG_ERROR, r->path, "final sync impossible\t"
			    "error=\"%s\"", err.msg);
			return 1;
		}
		lsc_err_clear(&err);
	}
	if (r->db == NULL) {
		if (!r->failing)
			return 0;
		/* Not open since it failed (removed, replaced by junk): what
		 * it holds now was never shipped, and exit 0 would say so. */
		log_db(LOG_ERROR, r->path, "final sync impossible: the database "
		    "cannot be opened");
		return 1;
	}
	/*
	 * The stop flag that brought us here must not cut the final sync's
	 * S3 retries short (s3_call gives up at its first back-off once
	 * *stop is set), or one 503 would fail it: the caller (daemon/loop.c)
	 * points `stop` at a flag only a second signal sets.  Retries stay
	 * bounded here, never unlimited.
	 */
	if (r->replica->max_retries < 0)
		r->replica->max_retries = FINAL_SYNC_RETRIES;
	rc = ensure_pin(r, &err);
	if (rc == LSC_OK)
		rc = repl_capture(r, 0, &err);
	if (rc == LSC_OK)
		rc = repl_ship(r, &err);
	if (rc == LSC_OK && !r->have_snapshot)
		rc = repl_snapshot(r, &err);
	if (rc != LSC_OK) {
		/* What the replica lacks stays safe in the shadow WAL. */
		for (uint32_t i = r->pos_index; i <= r->sh.index; i++) {
			int64_t n = i == r->sh.index ? (int64_t)r->sh.size :
			    shadow_file_size(&r->sh, i);

			if (n > 0)
				left += (uint64_t)n - (i == r->pos_index ?
				    r->pos_offset : 0);
		}
		if (left == 0)
			left = 1;
		log_db(LOG_ERROR, r->path, "final sync failed\terror=\"%s\" "
		    "unshipped_bytes=%llu", err.msg, (unsigned long long)left);
		stat_add(&r->st.sync_errors, 1);
	} else {
		atomic_store_explicit(&r->st.last_sync_ns, now_ns(),
		    memory_order_relaxed);
	}
	wal_db_unpin(r->db, WAL_CONN_B);
	wal_db_unpin(r->db, WAL_CONN_A);
	return left;
}

void
repl_stats_pending(struct repl *r)
{
	int64_t zero = 0;

	/* Only the first sighting counts: the oldest unshipped commit. */
	atomic_compare_exchange_strong_explicit(&r->st.pending_since_ns, &zero,
	    now_ns(), memory_order_relaxed, memory_order_relaxed);
}

void
repl_stats_publish(struct repl *r)
{
	pthread_mutex_lock(&r->st.lock);
	memcpy(r->st.gen, r->sh.gen, sizeof(r->st.gen));
	r->st.index = r->pos_index;
	r->st.offset = r->pos_offset;
	pthread_mutex_unlock(&r->st.lock);
	if (!r->pos_known)
		return;
	if (r->pos_index == r->sh.index && r->pos_offset == r->sh.size)
		atomic_store_explicit(&r->st.pending_since_ns, 0,
		    memory_order_relaxed);
	else
		repl_stats_pending(r);	/* e.g. left unshipped by a past run */
}
