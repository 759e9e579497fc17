/* SPDX-License-Identifier: MIT */
/*
 * Our checkpoint.  SQLite can never discard a frame we have not copied
 * (wal/wal_db.h: what pins guarantee), we never write to the database,
 * and the application's writers never wait for a checkpoint's fsyncs
 * except, briefly, when the WAL outgrows max-checkpoint-page-count:
 *
 *  1. B pins at the WAL's end and we copy up to there; A lets go.  B's
 *     mark now bounds every checkpoint, ours or the application's.
 *  2. A runs a PASSIVE checkpoint: no lock that writers need, and every
 *     frame up to B's mark goes into the database file (with its fsyncs).
 *  3. The pin goes back to A, copying what was committed meanwhile.  If
 *     nothing was, the WAL is fully checkpointed now: A's read takes mark
 *     0, which lets the application's next write restart the WAL (the
 *     capture follows it as the next index) while no checkpoint can copy
 *     a frame we lack into the file.
 *  4. A WAL that grows on regardless (writers that never pause for as
 *     long as a checkpoint's fsyncs) is reset at max-checkpoint-page-count
 *     with a brief write lock.  First the rounds of steps 1-3, waiting out
 *     the app's own autocheckpoint, leave only the last few milliseconds'
 *     frames; then B pins and we copy; A takes the write lock
 *     (bounded wait; busy means another time) and we copy the last frames;
 *     B lets go and checkpoints them (its fsyncs are what the lock costs
 *     the app: README, "Checkpoints and the app's latency"); B pins again
 *     (mark 0) and A lets go of the lock.
 *  5. A WAL file left large by a burst (CHECKPOINT_TRUNCATE_BYTES) is cut
 *     once it is fully checkpointed under our mark-0 pin: a TRUNCATE
 *     checkpoint that never waits, which holds the write lock only to
 *     reset the header and cut the file.
 */
#include <stdlib.h>
#include <time.h>

#include "common/crashpoint.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "daemon/repl.h"

/* A checkpoint that finds the checkpoint lock held (the app's own
 * autocheckpoint) retries every CKPT_LOCK_POLL_US (passive_polling): for
 * at most LOCKED_WAIT_MS under our write lock, and PRELOCK_WAIT_MS in the
 * lock-free rounds before it (repl_checkpoint). */
#define CKPT_LOCK_POLL_US	200
#define LOCKED_WAIT_MS		10
#define PRELOCK_WAIT_MS		250
/*
 * At most one reset under the write lock this often: we take the lock
 * with fine polling (wal_db_lock_writes), which wins it over writers that
 * back off by milliseconds, so back-to-back resets could starve them (t1100,
 * three full-speed writers and max-checkpoint-page-count = 200: one gave
 * up after its 10 s busy timeout).  The WAL may then pass
 * max-checkpoint-page-count by up to this long of writing.
 */
#define LOCKED_MIN_GAP_MS	1000

/* A reset under the write lock that readers kept from finishing is not
 * tried again for this long. */
#define LOCKED_RETRY_MS	5000

/* Lock-free rounds (steps 1-3) per checkpoint, at most, and the time after
 * which no further round starts (repl_checkpoint). */
#define CATCHUP_ROUNDS	6
#define CATCHUP_MS	50
/* A round that caught up at most this many frames is worth another even
 * if the one before caught fewer: a few commits' worth, which the next
 * round checkpoints in a millisecond or two. */
#define CATCHUP_FEW	64

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
 * Pin connection `to`, copy up to the WAL's end, then release `from`:
 * a pin is held throughout, and `to`'s covers everything we now hold.
 */
int
repl_handoff(struct repl *r, enum wal_conn from, enum wal_conn to,
    struct lsc_err *err)
{
	int rc;

	if ((rc = wal_db_pin(r->db, to, err)) != LSC_OK ||
	    (rc = repl_capture(r, 0, err)) != LSC_OK)
		return rc;
	wal_db_unpin(r->db, from);
	return LSC_OK;
}

/*
 * A PASSIVE checkpoint by connection `c`, tried again every
 * CKPT_LOCK_POLL_US for up to `wait_ms` while the checkpoint lock is held
 * (WAL_CKPT_LOCKED); with `wait_ms` 0, once.
 */
static int
passive_polling(struct repl *r, enum wal_conn c, int64_t wait_ms, int *busy,
    struct lsc_err *err)
{
	int64_t t0 = mono_ms();
	int rc;

	for (;;) {
		struct timespec ts = { 0, CKPT_LOCK_POLL_US * 1000 };

		rc = wal_db_checkpoint(r->db, c, WAL_CKPT_PASSIVE, busy, err);
		if (rc != LSC_OK || *busy != WAL_CKPT_LOCKED ||
		    mono_ms() - t0 >= wait_ms)
			return rc;
		nanosleep(&ts, NULL);
	}
}

/* Step 4: the reset under a brief write lock.  Entered with A pinned. */
static int
locked_reset(struct repl *r, int *full, struct lsc_err *err)
{
	struct wal_db *db = r->db;
	int64_t locked_ms;
	int busy = 0, rc;

	if ((rc = repl_handoff(r, WAL_CONN_A, WAL_CONN_B, err)) != LSC_OK)
		return rc;
	rc = wal_db_lock_writes(db, WAL_CONN_A, err);
	if (rc == LSC_EBUSY) {
		lsc_err_clear(err);
		log_db(LOG_DEBUG, r->path, "checkpoint postponed: the write lock is busy");
		return LSC_OK;		/* B keeps the pin; the next step hands back */
	}
	if (rc != LSC_OK)
		return rc;
	locked_ms = mono_ms();
	/* A's read under the lock (mark at the WAL's end) protects now. */
	if ((rc = repl_capture(r, 1, err)) != LSC_OK) {
		wal_db_unpin(db, WAL_CONN_A);
		return rc;
	}
	CRASHPOINT("checkpoint.locked");
	wal_db_unpin(db, WAL_CONN_B);
	/*
	 * We took the lock just as a writer committed, and its connection
	 * may be running its own autocheckpoint (which holds the checkpoint
	 * lock, and under our write lock will finish the job): wait for it,
	 * briefly.  Readers in the way (PARTIAL) are not worth waiting for.
	 */
	rc = passive_polling(r, WAL_CONN_B, LOCKED_WAIT_MS, &busy, err);
	*full = rc == LSC_OK && !busy;
	log_db(LOG_DEBUG, r->path, "reset under the write lock\tfull=%d "
	    "held_ms=%lld", *full, (long long)(mono_ms() - locked_ms));
	/* B pins before the lock goes: mark 0 when fully checkpointed. */
	if (rc == LSC_OK)
		rc = wal_db_pin(db, WAL_CONN_B, err);
	wal_db_unpin(db, WAL_CONN_A);
	CRASHPOINT("checkpoint.after-reset");
	if (rc == LSC_OK)
		rc = shadow_sync(&r->sh, err);
	return rc;
}

/* Step 5: cut a large, fully checkpointed WAL file.  B is not pinned. */
static void
truncate_wal(struct repl *r)
{
	struct lsc_err err = { 0 };
	int busy = 0;

	if (wal_db_checkpoint(r->db, WAL_CONN_B, WAL_CKPT_TRUNCATE, &busy,
	    &err) != LSC_OK)
		log_db(LOG_DEBUG, r->path, "truncate failed\terror=\"%s\"",
		    err.msg);
	else if (!busy) {
		stat_add(&r->st.checkpoints[WAL_CKPT_TRUNCATE], 1);
		log_db(LOG_DEBUG, r->path, "WAL file truncated\tbytes=%llu",
		    (unsigned long long)r->sh.wal_size);
	}
}

/*
 * Steps 1 to 3 once.  `*caught` is what the hand-back to A copied: frames
 * committed while the checkpoint ran.  None, and no reader in the way,
 * means the WAL is fully checkpointed (`*full`): A's read took mark 0.
 */
static int
lockfree_round(struct repl *r, int64_t wait_ms, int *busy, int *full,
    uint64_t *caught, struct lsc_err *err)
{
	uint64_t before, after;
	int rc;

	/* 1: B pins at the end; A lets go. */
	if ((rc = repl_handoff(r, WAL_CONN_A, WAL_CONN_B, err)) != LSC_OK)
		return rc;
	CRASHPOINT("checkpoint.handoff");
	/* 2: the bulk, bounded by B's mark, holding no lock writers need;
	 * for up to `wait_ms` while the app's autocheckpoint holds the
	 * checkpoint lock (it is copying frames for us meanwhile). */
	rc = passive_polling(r, WAL_CONN_A, wait_ms, busy, err);
	/* 3: back to A, whatever happened. */
	before = shadow_cycle_frames(&r->sh);
	if (rc == LSC_OK)
		rc = repl_handoff(r, WAL_CONN_B, WAL_CONN_A, err);
	else {
		struct lsc_err e2 = { 0 };

		(void)repl_handoff(r, WAL_CONN_B, WAL_CONN_A, &e2);
	}
	if (rc != LSC_OK)
		return rc;
	after = shadow_cycle_frames(&r->sh);
	/* Fewer frames: the app restarted the WAL meanwhile (a new cycle). */
	*caught = after >= before ? after - before : UINT64_MAX;
	*full = !*busy && after == before;
	return LSC_OK;
}

int
repl_checkpoint(struct repl *r, enum wal_ckpt_mode mode, struct lsc_err *err)
{
	uint64_t caught, last = UINT64_MAX;
	int64_t t0 = mono_ms();
	/* A reset under the write lock follows if the rounds fall short. */
	int reset_next = mode == WAL_CKPT_RESTART;
	int64_t budget_ms = reset_next ? PRELOCK_WAIT_MS : CATCHUP_MS;
	int blocked, busy = 0, full = 0, round, rc;

	/*
	 * A writer that commits every few milliseconds (a web app) nearly
	 * always commits during a checkpoint's fsyncs, so one round leaves
	 * the WAL short of fully checkpointed, and it grows until the reset
	 * under the write lock (step 4), which a deferred transaction of the
	 * app meets as SQLITE_BUSY at once (no busy handler runs for a read
	 * that upgrades to a write).  Measured (bench/app_latency.py, one
	 * thread, 400 txn/s): 14 checkpoints in 15 s, none full, one locked
	 * reset, 2 errors.  So go round again while each round leaves less
	 * behind, or little (a handful of commits): the next checkpoint has
	 * only those frames to copy, so its window for a commit to fall into
	 * is short.  Bounded in rounds and time, since a writer that never
	 * pauses never lets one be full.  With the rounds: 13 checkpoints,
	 * 6 full, no locked reset, no error.
	 *
	 * Before a reset under the write lock (step 4), the rounds also wait
	 * out the app's own autocheckpoint, which a writer that never pauses
	 * runs after every commit once the WAL is long: it fsyncs the WAL's
	 * dirty pages while holding the checkpoint lock, for longer than the
	 * reset waits under the write lock (10 ms), so every reset failed and
	 * the WAL grew to 1.27 GB in 10 s (bench: walwriter at full speed).
	 * Waiting here holds nothing the app needs, and the rounds leave the
	 * reset only the frames of the last few milliseconds: then all 8
	 * resets in 10 s succeeded and the WAL stayed under 310 MiB.  What
	 * the reset still holds the lock for is its two fsyncs, which under
	 * such a writer's load take 40 ms or more each (strace -T): held
	 * 13 to 83 ms, once a second (README, known limits).
	 */
	for (round = 1; ; round++) {
		if ((rc = lockfree_round(r, reset_next ? PRELOCK_WAIT_MS : 0,
		    &busy, &full, &caught, err)) != LSC_OK)
			return rc;
		/* Before a reset, a reader short of B's mark (PARTIAL) is
		 * most likely the never-pausing writer's own transaction in
		 * flight: go on shrinking what the reset will copy. */
		blocked = busy && !(busy == WAL_CKPT_PARTIAL && reset_next);
		if (full || blocked || caught == UINT64_MAX ||
		    (caught > CATCHUP_FEW && caught >= last) ||
		    round == CATCHUP_ROUNDS || mono_ms() - t0 >= budget_ms)
			break;
		last = caught;
	}
	/* Nothing committed since the checkpoint covered everything: A's
	 * read took mark 0, and the app's next write restarts the WAL. */
	if (!full && reset_next) {
		if ((rc = locked_reset(r, &full, err)) != LSC_OK)
			return rc;
		/* Readers in the way: each try would hold the lock for a
		 * checkpoint's fsyncs again; give them time. */
		r->locked_retry_ms = mono_ms() + (full ? LOCKED_MIN_GAP_MS :
		    LOCKED_RETRY_MS);
	}
	r->mark0 = full;
	stat_add(&r->st.checkpoints[full && mode == WAL_CKPT_RESTART ?
	    WAL_CKPT_RESTART : WAL_CKPT_PASSIVE], 1);
	r->last_ckpt_ms = mono_ms();
	if (full && r->sh.wal_size > CHECKPOINT_TRUNCATE_BYTES)
		truncate_wal(r);
	log_db(LOG_DEBUG, r->path, "checkpoint\tmode=%s full=%d rounds=%d "
	    "index=%08x", wal_ckpt_mode_name(mode), full, round, r->sh.index);
	note_progress(r, full, busy ? "readers hold the WAL" :
	    "writers never pause long enough");
	return LSC_OK;
}
