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

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
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
	r->last_ckpt_ms = mono_ms();
	r->next_retention_ms = mono_ms() + db->retention_check_interval_ms;
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
	repl_close_db(r);
	replica_free(r->replica);
	cfg_s3_release(&r->s3);
	memset(r, 0, sizeof(*r));
}

/* Continuity lost: a new generation, with index 0 = the WAL as it is now. */
static int
new_generation(struct repl *r, const char *reason, struct lsc_err *err)
{
	int rc;

	wal_db_unpin(r->db, WAL_CONN_B);
	wal_db_unpin(r->db, WAL_CONN_A);
	/* Our row gives the WAL a valid header and an un-checkpointed frame,
	 * so the pin that follows takes a real read mark. */
	if ((rc = wal_db_bump(r->db, WAL_CONN_A, err)) != LSC_OK ||
	    (rc = wal_db_pin(r->db, WAL_CONN_A, err)) != LSC_OK ||
	    (rc = shadow_new_generation(&r->sh, err)) != LSC_OK)
		return rc;
	r->pos_known = 1;
	r->pos_index = 0;
	r->pos_offset = 0;
	r->have_snapshot = 0;
	r->generations++;
	log_db(LOG_INFO, r->path, "new generation\tgeneration=%s reason=\"%s\"",
	    r->sh.gen, reason);
	return LSC_OK;
}

#define FINAL_SYNC_RETRIES	5	/* per request, in repl_final */

/* The `reason` of a failed continuity check travels in this error code. */
#define CONTINUITY_LOST LSC_ECORRUPT

int
repl_capture(struct repl *r, int restart_expected, int defer_sync,
    struct lsc_err *err)
{
	struct shadow_capture res;
	int rc = shadow_capture(&r->sh, restart_expected, defer_sync, &res, err);

	if (rc != LSC_OK)
		return rc;
	if (res.reason != NULL)
		return lsc_seterr(err, CONTINUITY_LOST, 0, "%s", res.reason);
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

	if (r->replica == NULL && (rc = replica_open(r->cfg.replica, &r->s3, -1,
	    &r->replica, err)) != LSC_OK)
		return rc;
	r->replica->stop = r->stop;
	if ((rc = wal_db_open(r->path, &r->db, err)) != LSC_OK)
		return rc;
	if ((rc = shadow_init(&r->sh, r->path, r->cfg.meta_path, err)) != LSC_OK)
		goto fail;
	/*
	 * Check continuity against the WAL as we find it, before our own
	 * first write: that write (which gives the pin a real read mark) may
	 * restart a fully checkpointed WAL, and the capture that follows
	 * proves that restart like any other.
	 */
	if ((rc = shadow_resume(&r->sh, &reason, err)) != LSC_OK)
		goto fail;
	if (reason != NULL) {
		if (strcmp(reason, "no generation exists") != 0)
			log_db(LOG_WARN, r->path, "cannot continue the previous "
			    "generation\treason=\"%s\"", reason);
		rc = new_generation(r, reason, err);
	} else {
		log_db(LOG_INFO, r->path, "resumed generation\tgeneration=%s "
		    "index=%08x", r->sh.gen, r->sh.index);
		if ((rc = wal_db_bump(r->db, WAL_CONN_A, err)) == LSC_OK &&
		    (rc = wal_db_pin(r->db, WAL_CONN_A, err)) == LSC_OK)
			rc = repl_capture(r, 1, 0, err);
		if (rc == CONTINUITY_LOST) {
			reason = err->msg[0] ? xstrdup(err->msg) : NULL;
			lsc_err_clear(err);
			rc = new_generation(r, reason ? reason : "continuity lost", err);
			free((char *)reason);
		}
	}
	if (rc == LSC_OK) {
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
	uint32_t page = r->sh.dst.page_size;
	uint64_t frames = shadow_frames(&r->sh);

	(void)page;
	if (r->cfg.max_checkpoint_page_count > 0 &&
	    frames >= (uint64_t)r->cfg.max_checkpoint_page_count) {
		*mode = WAL_CKPT_RESTART;
		return 1;
	}
	if (frames >= (uint64_t)r->cfg.min_checkpoint_page_count) {
		*mode = WAL_CKPT_PASSIVE;
		return 1;
	}
	/* An idle database still gets its WAL folded in now and then; the
	 * one frame is our own row from the last checkpoint. */
	if (r->cfg.checkpoint_interval_ms > 0 && frames > 1 &&
	    mono_ms() - r->last_ckpt_ms >= r->cfg.checkpoint_interval_ms) {
		*mode = WAL_CKPT_PASSIVE;
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

static int
step(struct repl *r, struct lsc_err *err)
{
	enum wal_ckpt_mode mode;
	int rc;

	if (r->db != NULL && db_replaced(r)) {
		log_db(LOG_WARN, r->path, "the database file was replaced or removed");
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
	if ((rc = repl_capture(r, 0, 0, err)) != LSC_OK)
		return rc;
	if ((rc = repl_ship(r, err)) != LSC_OK)
		return rc;
	if (wal_db_pinned(r->db, WAL_CONN_A) && checkpoint_due(r, &mode)) {
		if ((rc = repl_checkpoint(r, mode, err)) != LSC_OK)
			return rc;
		if ((rc = repl_ship(r, err)) != LSC_OK)
			return rc;
	}
	if (snapshot_due(r) && (rc = repl_snapshot(r, err)) != LSC_OK)
		return rc;
	return LSC_OK;
}

int
repl_step(struct repl *r)
{
	struct lsc_err err = { 0 };
	int rc = step(r, &err);

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
		return rc;
	}
	if (r->failing)
		log_db(LOG_INFO, r->path, "sync recovered");
	r->failing = 0;
	return LSC_OK;
}

uint64_t
repl_final(struct repl *r)
{
	struct lsc_err err = { 0 };
	uint64_t left = 0;
	int rc;

	if (r->db == NULL)
		return 0;
	/*
	 * The stop flag that brought us here would cut every S3 retry short
	 * (s3_call gives up at its first back-off once *stop is set), so one
	 * 503 would fail the final sync.  It runs under a bounded retry
	 * policy instead (daemon.c sets 5; never unlimited here).
	 */
	r->replica->stop = NULL;
	if (r->replica->max_retries < 0)
		r->replica->max_retries = FINAL_SYNC_RETRIES;
	rc = repl_capture(r, 0, 0, &err);
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
	}
	wal_db_unpin(r->db, WAL_CONN_B);
	wal_db_unpin(r->db, WAL_CONN_A);
	return left;
}
