/* SPDX-License-Identifier: MIT */
/*
 * One replicated database: the step that the daemon runs every sync
 * interval (see repl.h), generations, the final sync at shutdown, and
 * what its shippers see of it (struct repl_pub, the pin protocol).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
	r->sh.fd = -1;
	r->sh.shm_fd = -1;
	dblock_init(&r->lock);
	r->last_ckpt_ms = mono_ms();
	r->synced_ms = mono_ms();
	r->pub.captured_ms = r->synced_ms;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	/* The atomics in r->st start at zero from the memset: no other
	 * thread can see r before metrics_add publishes it under a lock. */
	pthread_mutex_init(&r->st.lock, NULL);
	if (db->nreplicas == 0)
		fatal(1, "database '%s' has no replica", db->path);
	r->nships = db->nreplicas;
	r->ships = xcalloc(r->nships, sizeof(*r->ships));
	for (size_t i = 0; i < r->nships; i++)
		shipper_init(&r->ships[i], r, db, &db->replicas[i], global_s3,
		    (int)r->nships, stop);
	metrics_add(r);
}

/* The shippers see no generation: they open no shadow file until the
 * next repl_publish.  Before a generation is pruned or the shadow closed. */
static void
unpublish(struct repl *r)
{
	pthread_mutex_lock(&r->mu);
	r->pub.gen[0] = '\0';
	r->pub.pinned = 0;
	pthread_mutex_unlock(&r->mu);
}

static void
repl_close_db(struct repl *r)
{
	unpublish(r);
	wal_db_close(r->db);
	r->db = NULL;
	shadow_release(&r->sh);
}

void
repl_release(struct repl *r)
{
	/* First, so that no scrape reads r while it is taken apart. */
	metrics_remove(r);
	pthread_mutex_destroy(&r->st.lock);
	repl_close_db(r);
	for (size_t i = 0; i < r->nships; i++)
		shipper_release(&r->ships[i]);
	free(r->ships);
	free(r->meta_dir);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	/* Last: the next daemon may take over once we are done with it all. */
	dblock_release(&r->lock);
	memset(r, 0, sizeof(*r));
}

uint64_t
repl_bytes_from(const struct repl *r, uint32_t index, uint64_t offset)
{
	uint64_t n = 0;

	if (r->pub.gen[0] == '\0' || index > r->pub.index)
		return 0;
	for (uint32_t i = index; i < r->pub.index; i++) {
		char *path = shadow_gen_path(r->meta_dir, r->pub.gen, i);
		struct stat st;

		if (stat(path, &st) == 0)
			n += (uint64_t)st.st_size;
		free(path);
	}
	n += r->pub.size;
	return n > offset ? n - offset : 0;
}

/* With mu held: the oldest shadow index of pub.gen still on disk. */
static uint32_t
oldest_held(const struct repl *r)
{
	uint32_t i = r->pub.index;

	while (i > 0) {
		char *path = shadow_gen_path(r->meta_dir, r->pub.gen, i - 1);
		int there = access(path, F_OK) == 0;

		free(path);
		if (!there)
			break;
		i--;
	}
	return i;
}

/*
 * With mu held: delete the shadow files that every replica has (below
 * the slowest one's position), and refresh each one's pending bytes.  A
 * replica whose position in this generation is not known yet (not looked
 * at, or unreachable since the start) keeps everything.
 */
/*
 * max-pending and on-pending-full, for one replica that needs `pending`
 * bytes of the shadow WAL (with mu held; called by the step and by the
 * replica's shipper when it acknowledges what it shipped).  keep: warn once at 50% and
 * once at 90% (and say when it is back under a quarter); release: past
 * the bound, let its bytes go (it no longer holds back the pruning: its
 * chain is broken, and it asks for a new generation when it is back).
 */
void
repl_bound_pending(struct repl *r, struct shipper *s, uint64_t pending)
{
	uint64_t max = r->cfg.max_pending;
	int pct;

	if (max == 0 || s->let_go)
		return;
	pct = pending >= max ? 100 : (int)(pending * 100 / max);
	s->pend_pct = pct;
	if (pct >= 50 && s->pend_warned < (pct >= 90 ? 90 : 50)) {
		s->pend_warned = pct >= 90 ? 90 : 50;
		log_db(LOG_WARN, r->path, "a replica lags: the shadow WAL holds "
		    "%d%% of max-pending for it\treplica=%s pending_bytes=%llu "
		    "max_pending=%llu on_pending_full=%s", s->pend_warned, s->name,
		    (unsigned long long)pending, (unsigned long long)max,
		    r->cfg.pending_release ? "release" : "keep");
	} else if (pct < 25 && s->pend_warned > 0) {
		s->pend_warned = 0;
		log_db(LOG_INFO, r->path, "the replica has caught up below a "
		    "quarter of max-pending\treplica=%s pending_bytes=%llu",
		    s->name, (unsigned long long)pending);
	}
	if (r->cfg.pending_release && pending > max) {
		s->let_go = 1;
		atomic_store_explicit(&s->st.let_go, 1, memory_order_relaxed);
		log_db(LOG_ERROR, r->path, "max-pending reached: letting go of the "
		    "shadow WAL a replica lacks; its chain is broken here, and a "
		    "new generation starts when it is back (on-pending-full = "
		    "release)\treplica=%s pending_bytes=%llu max_pending=%llu",
		    s->name, (unsigned long long)pending, (unsigned long long)max);
	}
}

/* With mu held: refresh each replica's pending bytes, apply the bound,
 * and prune the shadow WAL below the slowest replica still bounding it. */
static void
prune_and_count(struct repl *r)
{
	uint32_t oldest = oldest_held(r), floor = r->pub.index;
	uint64_t held = repl_bytes_from(r, oldest, 0);
	uint64_t shipped = r->pub.size;	/* of pub.index, by every replica */
	int known = 1;

	for (size_t i = 0; i < r->nships; i++) {
		struct shipper *s = &r->ships[i];
		int mine = s->acked_known && strcmp(s->acked_gen, r->pub.gen) == 0;
		uint64_t pending = mine ? repl_bytes_from(r, s->acked_index,
		    s->acked_offset) : held;

		atomic_store_explicit(&s->st.pending_bytes, pending,
		    memory_order_relaxed);
		repl_bound_pending(r, s, pending);
		if (s->let_go)
			continue;
		if (!mine)
			known = 0;
		else if (s->acked_index < floor)
			floor = s->acked_index;
		if (!mine || s->acked_index < r->pub.index)
			shipped = 0;
		else if (s->acked_index == r->pub.index && s->acked_offset < shipped)
			shipped = s->acked_offset;
	}
	if (known && floor > oldest)
		shadow_prune(&r->sh, floor);
	shadow_drop_cache(&r->sh, r->pub.index, shipped);
}

/* With mu held: copy the shadow's state for the shippers. */
static void
publish_locked(struct repl *r)
{
	struct repl_pub *p = &r->pub;

	if (r->db == NULL || !layout_gen_valid(r->sh.gen)) {
		p->gen[0] = '\0';
		p->pinned = 0;
		return;
	}
	memcpy(p->gen, r->sh.gen, sizeof(p->gen));
	p->index = r->sh.index;
	p->size = r->sh.size;
	p->cycle_index = r->sh.cycle_index;
	p->page_size = r->sh.dst.page_size;
	p->pinned = wal_db_pinned(r->db, WAL_CONN_A) ||
	    wal_db_pinned(r->db, WAL_CONN_B);
	p->captured_ms = r->step_ms;
	p->fresh = r->gen_fresh;
	if (r->meta_dir == NULL) {
		r->meta_dir = xstrdup(r->sh.meta_dir);
		r->file_mode = r->sh.file_mode;
	}
	prune_and_count(r);
}

void
repl_publish(struct repl *r)
{
	pthread_mutex_lock(&r->mu);
	publish_locked(r);
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_lock(&r->st.lock);
	memcpy(r->st.gen, r->sh.gen, sizeof(r->st.gen));
	pthread_mutex_unlock(&r->st.lock);
}

/*
 * The step may move pins (checkpoints, hand-offs, open, close, a new
 * generation) only between pins_begin() returning 1 and pins_end(): 0
 * means a shipper reads the database file for a snapshot, and the step
 * then only captures.  pins_end publishes and lets waiting snapshots go.
 */
static int
pins_begin(struct repl *r)
{
	int ok;

	pthread_mutex_lock(&r->mu);
	ok = r->snap_readers == 0;
	if (ok)
		r->pins_moving = 1;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static void
pins_end(struct repl *r)
{
	pthread_mutex_lock(&r->mu);
	publish_locked(r);
	r->pins_moving = 0;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_mutex_lock(&r->st.lock);
	memcpy(r->st.gen, r->sh.gen, sizeof(r->st.gen));
	pthread_mutex_unlock(&r->st.lock);
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
	 * in a later second than anything uploaded before it (by a process
	 * of ours that was killed; the shippers see to their own uploads:
	 * shipper.c), or Litestream, which breaks such ties by listing
	 * order, could restore the older one.  File replicas keep
	 * nanoseconds.  At most a second, and generations are rare.
	 */
	for (size_t i = 0; i < r->nships; i++) {
		if (strncmp(r->ships[i].url, "file://", 7) == 0)
			continue;
		int64_t ns = now_ns();
		struct timespec ts = { 0, 1000000000L - ns % 1000000000L };

		nanosleep(&ts, NULL);
		break;
	}
	/* The old generation's files go: no shipper may open one now. */
	unpublish(r);
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
	r->gen_fresh = 1;
	stat_add(&r->st.generations, 1);
	/* Index 0 holds at least a header the replicas lack; a replica whose
	 * bytes were let go (bound_pending) starts over with everyone. */
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < r->nships; i++) {
		r->ships[i].let_go = 0;
		r->ships[i].pend_warned = 0;
		atomic_store_explicit(&r->ships[i].st.let_go, 0,
		    memory_order_relaxed);
	}
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < r->nships; i++)
		shipper_stats_pending(&r->ships[i]);
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
		for (size_t i = 0; i < r->nships; i++)
			shipper_stats_pending(&r->ships[i]);
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

	/* Not there yet, or another process's (daemon/await.c). */
	if ((rc = repl_await(r, err)) != LSC_OK)
		return rc;
	if ((rc = wal_db_open(r->path, &r->db, err)) != LSC_OK)
		return rc;
	if ((rc = shadow_init(&r->sh, r->path, r->cfg.meta_path, err)) != LSC_OK)
		goto fail;
	if (r->nships > 1) {
		/* The record of the days of one replica (shippos.h) belongs to
		 * whichever store that was: never to be read for another. */
		char *legacy = xasprintf("%s/lsc-shipped", r->sh.meta_dir);

		unlink(legacy);
		free(legacy);
	}
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
		r->gen_fresh = 0;
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
		for (size_t i = 0; i < r->nships; i++)
			log_db(LOG_INFO, r->path, "replicating\treplica=%s url=%s "
			    "sync-interval=%lldms", r->ships[i].name,
			    r->ships[i].url, (long long)r->cfg.sync_interval_ms);
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

/*
 * Only captures while a shipper reads the database file for a snapshot
 * (`movable` 0): a checkpoint, a hand-off or a new generation waits for
 * it (checkpoint_due is noted, and the shipper wakes us when it is done).
 */
static int
step(struct repl *r, int movable, struct lsc_err *err)
{
	enum wal_ckpt_mode mode;
	int rc;

	if (!movable) {
		/* A reader means an open database under a pin. */
		if ((rc = repl_capture(r, 0, err)) != LSC_OK)
			return rc;
		if (checkpoint_due(r, &mode))
			r->ckpt_held = 1;
		return LSC_OK;
	}
	r->ckpt_held = 0;
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
	if ((rc = repl_capture(r, 0, err)) != LSC_OK)
		return rc;
	if (checkpoint_due(r, &mode) &&
	    (rc = repl_checkpoint(r, mode, err)) != LSC_OK)
		return rc;
	r->ckpt_pressure = shadow_cycle_frames(&r->sh) >=
	    (uint64_t)r->cfg.min_checkpoint_page_count;
	return LSC_OK;
}

/* A replica asked for a new generation of the current one (shipper.c). */
static int
take_newgen_request(struct repl *r, char *reason, size_t len)
{
	int asked;

	pthread_mutex_lock(&r->mu);
	asked = r->newgen_for[0] != '\0' && strcmp(r->newgen_for, r->sh.gen) == 0;
	if (asked)
		snprintf(reason, len, "%s", r->newgen_reason);
	r->newgen_for[0] = '\0';
	pthread_mutex_unlock(&r->mu);
	return asked;
}

int
repl_step(struct repl *r)
{
	struct lsc_err err = { 0 };
	char reason[LSC_ERRLEN];
	int movable, rc;

	r->step_ms = mono_ms();
	movable = pins_begin(r);
	rc = step(r, movable, &err);
	if (r->waiting != REPL_WAIT_NONE) {
		/* Nothing to sync yet, and no failure (await.c logged it). */
		if (movable)
			pins_end(r);
		r->failing = 0;
		return LSC_OK;
	}
	if (rc == CONTINUITY_LOST && r->db != NULL && movable) {
		/* Not an error: the one safe answer is a new generation. */
		snprintf(reason, sizeof(reason), "%s", err.msg);
		lsc_err_clear(&err);
		rc = new_generation(r, reason, &err);
		if (rc == LSC_OK)
			rc = step(r, movable, &err);
	} else if (rc == CONTINUITY_LOST && r->db != NULL) {
		/* Pins must stay put while a snapshot is read: next time. */
		snprintf(reason, sizeof(reason), "%s", err.msg);
		lsc_err_clear(&err);
		lsc_seterr(&err, LSC_EBUSY, 0, "a new generation (%s) waits for "
		    "a snapshot upload to end", reason);
		rc = LSC_EBUSY;
	}
	if (rc == LSC_OK && movable && r->db != NULL &&
	    take_newgen_request(r, reason, sizeof(reason)))
		rc = new_generation(r, reason, &err);
	if (movable)
		pins_end(r);
	else
		repl_publish(r);
	if (rc != LSC_OK) {
		log_db(r->failing ? LOG_DEBUG : LOG_ERROR, r->path,
		    "sync failed (will retry)\terror=\"%s\"", err.msg);
		r->failing = 1;
		/* Nothing new reaches any replica: each one's pass failed. */
		for (size_t i = 0; i < r->nships; i++)
			stat_add(&r->ships[i].st.sync_errors, 1);
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
	/* Whatever was committed before this step began is captured. */
	r->synced = 1;
	r->synced_ms = r->step_ms;
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
	/* Mirrors checkpoint_due().  One held back for a snapshot reader
	 * waits for its wake-up (shipper.c), not for a timer that is past. */
	if (r->cfg.checkpoint_interval_ms > 0 && !r->ckpt_held &&
	    (shadow_pending_frames(&r->sh) > 0 ||
	    r->sh.wal_size > CHECKPOINT_TRUNCATE_BYTES))
		due = r->last_ckpt_ms + r->cfg.checkpoint_interval_ms;
	return due;
}

uint64_t
repl_final(struct repl *r)
{
	struct lsc_err err = { 0 };
	int movable, rc;

	r->step_ms = mono_ms();
	movable = pins_begin(r);
	if (r->db == NULL && r->waiting == REPL_WAIT_FILE && movable) {
		/* It may have appeared since the last step (an --exec app that
		 * made it and exited): open it now, or it would never ship. */
		rc = repl_open(r, &err);
		if (rc != LSC_OK && r->waiting == REPL_WAIT_NONE) {
			pins_end(r);
			log_db(LOG_ERROR, r->path, "final sync impossible\t"
			    "error=\"%s\"", err.msg);
			return 1;
		}
		lsc_err_clear(&err);
	}
	if (r->db == NULL) {
		if (movable)
			pins_end(r);
		if (!r->failing)
			return 0;
		/* Not open since it failed (removed, replaced by junk): what
		 * it holds now was never shipped, and exit 0 would say so. */
		log_db(LOG_ERROR, r->path, "final sync impossible: the database "
		    "cannot be opened");
		return 1;
	}
	rc = movable ? ensure_pin(r, &err) : LSC_OK;
	if (rc == LSC_OK)
		rc = repl_capture(r, 0, &err);
	if (movable)
		pins_end(r);
	else
		repl_publish(r);
	if (rc != LSC_OK) {
		/* What was captured still ships; the rest stays in the WAL. */
		log_db(LOG_ERROR, r->path, "final capture failed\terror=\"%s\"",
		    err.msg);
		for (size_t i = 0; i < r->nships; i++)
			stat_add(&r->ships[i].st.sync_errors, 1);
		return 1;
	}
	return 0;
}

void
repl_final_end(struct repl *r)
{
	if (r->db == NULL)
		return;
	/* No shipper runs now: nothing reads the file. */
	unpublish(r);
	wal_db_unpin(r->db, WAL_CONN_B);
	wal_db_unpin(r->db, WAL_CONN_A);
}

int
repl_sync(struct repl *r)
{
	int rc = repl_step(r);

	for (size_t i = 0; i < r->nships; i++)
		if (shipper_step(&r->ships[i]) != LSC_OK)
			rc = LSC_EIO;
	return rc;
}
