/* SPDX-License-Identifier: MIT */
/*
 * Our checkpoint, arranged so that SQLite can never discard a frame we
 * have not copied, and so that the application's writers wait on us only
 * for a few milliseconds (see wal/wal_db.h for why pins protect frames):
 *
 *  1. B pins at the WAL's current end; we copy up to there.  A's older pin
 *     is released: B's read mark now bounds every checkpoint, ours or the
 *     application's, to frames we hold.
 *  2. A runs the bulk PASSIVE checkpoint (writers keep going).
 *  3. A takes the write lock (bounded 1 ms retries; if the app holds it,
 *     we re-pin A and try another time).  We copy the frames committed
 *     since step 1: now the shadow holds every frame in the WAL.
 *  4. B's pin is released and B checkpoints the few frames left.  Nothing
 *     can be appended meanwhile, so whatever SQLite checkpoints we hold.
 *  5. A releases the write lock, writes one row (which restarts the WAL if
 *     it is fully checkpointed: a new index) and pins again.
 *  6. A capture that expects the restart follows it to the next index.
 *
 * The write lock covers only steps 3-4: a copy of a few frames and a small
 * checkpoint.  RESTART mode (at max-checkpoint-page-count) cannot run while
 * we hold the write lock, so both modes checkpoint PASSIVE in step 4 and
 * the restart is done by our own write in step 5; the mode is kept for
 * logs and metrics.
 */
#include <stdlib.h>

#include "common/crashpoint.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "daemon/repl.h"

/* A WAL that due checkpoints have not reset for this long is worth an
 * operator's look: it grows until they can (README, known limits).
 * Tests shorten it with LITESTREAM_C_STUCK_WARN_MS. */
#define STUCK_WARN_MS	60000

static int64_t
stuck_warn_ms(void)
{
	const char *env = getenv("LITESTREAM_C_STUCK_WARN_MS");
	long long v = env != NULL ? strtoll(env, NULL, 10) : 0;

	return v > 0 ? v : STUCK_WARN_MS;
}

/*
 * Keep track of whether due checkpoints manage to reset the WAL.  Warn
 * once when they have not for STUCK_WARN_MS (debug logs alone would hide
 * a WAL that grows for ever), and say so when they do again.
 */
static void
note_progress(struct repl *r, int reset, const char *why)
{
	int64_t now = mono_ms();

	if (reset) {
		if (r->ckpt_stuck_warned)
			log_db(LOG_INFO, r->path, "checkpoints reset the WAL again");
		r->ckpt_stuck_since_ms = 0;
		r->ckpt_stuck_warned = 0;
		return;
	}
	if (r->ckpt_stuck_since_ms == 0)
		r->ckpt_stuck_since_ms = now;
	if (!r->ckpt_stuck_warned && now - r->ckpt_stuck_since_ms >=
	    stuck_warn_ms()) {
		log_db(LOG_WARN, r->path, "the WAL has not been reset for %llds: "
		    "%s; it grows until a checkpoint can\tframes=%llu",
		    (long long)(now - r->ckpt_stuck_since_ms) / 1000, why,
		    (unsigned long long)shadow_cycle_frames(&r->sh));
		r->ckpt_stuck_warned = 1;
	}
}

/*
 * Pin connection `to` with a real read mark, copy up to it, then release
 * `from`.  The row written first guarantees an un-checkpointed frame, so
 * the mark is non-zero (a read mark of 0 would protect nothing).  If that
 * write cannot get the lock, `from` keeps its pin and we report LSC_EBUSY.
 */
int
repl_handoff(struct repl *r, enum wal_conn from, enum wal_conn to,
    struct lsc_err *err)
{
	int rc;

	if ((rc = wal_db_bump(r->db, to, err)) != LSC_OK ||
	    (rc = wal_db_pin(r->db, to, err)) != LSC_OK)
		return rc;
	if ((rc = repl_capture(r, 0, 0, err)) != LSC_OK)
		return rc;
	wal_db_unpin(r->db, from);
	return LSC_OK;
}

int
repl_checkpoint(struct repl *r, enum wal_ckpt_mode mode, struct lsc_err *err)
{
	struct wal_db *db = r->db;
	int busy = 0, rc;
	uint32_t index_before = r->sh.index;

	/* 1: hand the pin from A to B, copying up to B's mark first. */
	rc = repl_handoff(r, WAL_CONN_A, WAL_CONN_B, err);
	if (rc == LSC_EBUSY) {
		lsc_err_clear(err);
		note_progress(r, 0, "the application holds the write lock");
		return LSC_OK;		/* the app is writing: another time */
	}
	if (rc != LSC_OK)
		return rc;

	CRASHPOINT("checkpoint.handoff");
	/* 2: the bulk of the work, bounded by B's mark. */
	if ((rc = wal_db_checkpoint(db, WAL_CONN_A, WAL_CKPT_PASSIVE, &busy,
	    err)) != LSC_OK)
		goto repin_a;

	/* 3: freeze writers briefly and copy the rest. */
	rc = wal_db_lock_writes(db, WAL_CONN_A, err);
	if (rc == LSC_EBUSY) {
		lsc_err_clear(err);
		log_db(LOG_DEBUG, r->path, "checkpoint postponed: the write lock is busy");
		note_progress(r, 0, "the application holds the write lock");
		rc = LSC_OK;
		goto repin_a;
	}
	if (rc != LSC_OK)
		goto repin_a;
	if ((rc = repl_capture(r, 0, 1, err)) != LSC_OK) {
		wal_db_unpin(db, WAL_CONN_A);
		goto repin_a;
	}

	CRASHPOINT("checkpoint.locked");
	/* 4: every frame is ours now; let B checkpoint them all. */
	wal_db_unpin(db, WAL_CONN_B);
	rc = wal_db_checkpoint(db, WAL_CONN_B, WAL_CKPT_PASSIVE, &busy, err);
	if (rc != LSC_OK || busy) {
		/*
		 * Not fully checkpointed (a reader, or the app's own checkpoint
		 * in the way): the WAL will not restart, so keep it pinned.  B
		 * pins before the write lock goes, while nothing un-copied
		 * exists, so there is no moment without a pin.
		 */
		struct lsc_err e2 = { 0 };

		if (wal_db_pin(db, WAL_CONN_B, &e2) != LSC_OK && rc == LSC_OK) {
			rc = e2.code;
			lsc_seterr(err, e2.code, e2.sys, "%s", e2.msg);
		}
		wal_db_unpin(db, WAL_CONN_A);
		if (rc == LSC_OK)
			rc = shadow_sync(&r->sh, err);
		/* A partial checkpoint still ran: count it. */
		if (rc == LSC_OK) {
			stat_add(&r->st.checkpoints[mode], 1);
			note_progress(r, 0, "readers or the application's own "
			    "checkpoint use it");
		}
		/* The next step hands the pin back to A. */
		return rc;
	}

	/*
	 * 5: fully checkpointed.  Release writers and at once write our row
	 * (restarting the WAL, unless an app writer did it first: either way
	 * only frames we hold are discarded) and pin again.  Nothing slow may
	 * run between the unlock and the pin: the shadow fsync waits until
	 * after.  A restart by anyone else in this window is caught by the
	 * capture's continuity proof (salt-1 would move by more than one).
	 */
	wal_db_unpin(db, WAL_CONN_A);
	if (wal_db_bump(db, WAL_CONN_A, NULL) != LSC_OK)
		log_db(LOG_DEBUG, r->path, "row write after checkpoint was busy");
	CRASHPOINT("checkpoint.after-reset");
	rc = wal_db_pin(db, WAL_CONN_A, err);
	if (rc == LSC_OK)
		rc = shadow_sync(&r->sh, err);
	/* 6: follow the restart. */
	if (rc == LSC_OK)
		rc = repl_capture(r, 1, 0, err);
	if (rc == LSC_OK) {
		stat_add(&r->st.checkpoints[mode], 1);
		r->last_ckpt_ms = mono_ms();
		log_db(LOG_DEBUG, r->path, "checkpoint\tmode=%s busy=%d index=%08x",
		    wal_ckpt_mode_name(mode), busy, r->sh.index);
		if (r->sh.index == index_before && busy)
			log_db(LOG_DEBUG, r->path, "the WAL could not be reset: "
			    "readers still use it");
		note_progress(r, r->sh.index != index_before, "readers still "
		    "use it");
	}
	return rc;

repin_a:
	/* Hand the pin back to A; if that is busy, B keeps it (still safe)
	 * and the next step hands it back. */
	{
		struct lsc_err e2 = { 0 };
		int rc2 = repl_handoff(r, WAL_CONN_B, WAL_CONN_A, &e2);

		if (rc2 != LSC_OK && rc2 != LSC_EBUSY && rc == LSC_OK) {
			rc = rc2;
			lsc_seterr(err, e2.code, e2.sys, "%s", e2.msg);
		}
	}
	return rc;
}
