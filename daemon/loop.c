/* SPDX-License-Identifier: MIT */
/*
 * The event loop (see loop.h).
 *
 * Each database is a job with a due time.  A write to its -wal (inotify)
 * makes it due at `last step start + sync-interval`, so uploads are
 * batched by the interval and, with sync-interval = 0, each commit ships
 * as soon as it lands.  Timers (checkpoint and snapshot intervals,
 * retention checks, retries) come from repl_next_timer_ms().  An idle
 * database has no due time at all and costs nothing.
 *
 * A due job goes to the worker pool; the loop itself never blocks on
 * SQLite or a replica.  Each database has a job for its own step
 * (capture, checkpoints) and one per replica (struct shipper: shipping,
 * snapshots, retention), so a slow or unreachable bucket delays neither
 * the capture nor the other replicas.  A database step that ends makes
 * its replicas' jobs due (those not backing off after a failure).  A job
 * is never on two workers at once; events that arrive while it runs mark
 * it dirty, and it runs again when it is done.
 *
 * Shutdown (SIGTERM/SIGINT, or the --exec child's end): steps in flight
 * see the stop flag and cut their retries short; then each database gets
 * a final sync with a bounded number of retries, in the pool: its final
 * capture, then each replica's final shipping, side by side, then its
 * pins go; a second signal cuts even those short.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/exec.h"
#include "daemon/loop.h"
#include "daemon/notify.h"
#include "daemon/pool.h"
#include "daemon/repl.h"
#include "daemon/watch.h"

/* Retries for a final sync: enough to ride out a short S3 hiccup (with
 * back-off, a few seconds), bounded so that shutdown ends. */
#define FINAL_RETRIES	5
/*
 * After reading inotify, wait this long before reading it again.  A busy
 * writer makes an event per write(); while unread, the kernel folds each
 * into the identical one before it, so the pause turns tens of thousands
 * of events a second into about one per database per pause, for the app
 * (whose write() queues them) as much as for us.  Measured with
 * bench/writer_pace.sh: reading every event cut a full-speed writer from
 * 0.76x to 0.52x of its pace alone.  It adds at most this to a commit's
 * time to the replica at sync-interval = 0.
 */
#define WATCH_PAUSE_MS	1
/* A database we could not watch is polled at least this often. */
#define UNWATCHED_POLL_MS	1000
/*
 * Waiting for another process's lock (daemon/await.c): its close of the
 * lock file wakes us, but the kernel raises that event a moment before it
 * drops a dead holder's lock, so a try that follows the event and fails is
 * repeated this soon, a few times, before the slow poll takes over.
 */
#define LOCK_KICK_MS	10
#define LOCK_KICKS	5

enum job_kind { JOB_STEP, JOB_FINAL };

struct dbjob;

/* A replica's job (daemon/shipper.h); the loop's copies of its state
 * are read only when it is not on a worker. */
struct shipjob {
	struct pool_item item;		/* first: the pool hands it back */
	struct dbjob	*owner;
	struct shipper	*s;
	enum job_kind	 kind;
	int		 busy;		/* on a worker */
	int		 dirty;		/* the database captured meanwhile */
	int		 final_done;
	int		 synced;	/* caught up once, with a snapshot */
	int		 failing;
	int64_t		 synced_ms;
	uint64_t	 left;		/* its final sync's unshipped bytes */
	int64_t		 due_ms;	/* INT64_MAX: nothing to do */
};

struct dbjob {
	struct pool_item item;		/* first: the pool hands it back */
	struct repl	 r;
	enum job_kind	 kind;
	int		 busy;		/* on a worker */
	int		 dirty;		/* the WAL changed since the last start */
	int		 synced;	/* one step has succeeded */
	int		 watched;	/* inotify covers it */
	int		 lock_watch;	/* its lock file: 1 watched, -1 cannot be */
	int		 lock_kicks;	/* quick retries left after a lock event */
	int		 removing;	/* reload dropped it: final sync, free */
	int		 captured_final;	/* its final capture is over */
	int		 final_done;	/* and every replica's final */
	int		 rc;		/* the last step's result */
	uint64_t	 left;		/* a final sync's unshipped bytes */
	int64_t		 due_ms;	/* INT64_MAX: nothing to do */
	int64_t		 started_ms;	/* the last step's start */
	struct notify_db nd;		/* the loop's copy for systemd status */
	/* The loop's copies of the step's own state, taken when it is not
	 * on a worker (update_nd may run while it is). */
	int		 step_synced, step_failing;
	int64_t		 step_synced_ms;
	const struct cfg_db *readd;	/* reload changed it: add this after */
	const struct cfg_s3 *readd_s3;
	struct shipjob	*ships;		/* one per replica, as r.ships */
};

struct loop {
	const struct loop_opts *o;
	struct dbjob	**jobs;
	size_t		 n, cap;
	struct lsc_config **cfgs;	/* every config loaded: jobs borrow */
	size_t		 ncfg;
	struct pool	*pool;
	struct watcher	*watch;
	int		 epfd, sigfd;
	int64_t		 watch_rearm_ms;	/* 0: inotify is armed; else not
						 * before this (watch_matters_ms) */
	int		 stopping;	/* shutdown begun */
	int		 ready;		/* every database synced once */
	int64_t		 next_notify_ms;	/* next STATUS= scan (mono_ms) */
	int		 lock_refused;	/* --no-lock-wait met a held lock: exit 1 */
	pid_t		 child;		/* --exec; 0: none, -1: ended */
	int		 child_status;
	uint64_t	 left;		/* unshipped bytes after final syncs */
	size_t		 incomplete;	/* databases whose final sync failed */
};

/* How long after its last start a WAL change runs a database: the sync
 * interval, which batches a busy writer's commits; sooner while the WAL
 * is long (a checkpoint step, repl.h), and at once while it holds read
 * mark 0 (repl.h: the app pays for every commit until it moves). */
static int64_t
event_delay_ms(const struct dbjob *j)
{
	if (j->r.mark0)
		return 0;
	/* A long WAL wants a checkpoint sooner than a sync (repl.h). */
	if (j->r.ckpt_pressure && j->r.cfg.sync_interval_ms > CHECKPOINT_STEP_MS)
		return CHECKPOINT_STEP_MS;
	return j->r.cfg.sync_interval_ms;
}

/*
 * When an inotify event could next change what the loop does: an event
 * only makes a database dirty, due one sync interval after its last start
 * (mark_dirty).  For a database already dirty, more events change nothing
 * until it runs; for one not dirty, an event read at any time up to that
 * due time schedules it the same.  So inotify stays unread until the
 * earliest such time: under a busy writer, one read per sync interval
 * instead of one per millisecond (strace -c on a full-speed writer at
 * sync-interval 1s counted ~4,000 reads and ~1,000 epoll_waits a second),
 * while the unread events fold together in the kernel.  A waiting
 * database (not created yet, or locked by another process) wants its
 * events at once, and so does shutdown's final sync.
 */
static int64_t
watch_matters_ms(const struct loop *L)
{
	int64_t at = INT64_MAX, now = mono_ms();

	if (L->stopping)
		return now;
	for (size_t i = 0; i < L->n; i++) {
		const struct dbjob *j = L->jobs[i];
		int64_t t;

		if (j->nd.waiting != 0 || j->removing)
			return now;
		if (j->dirty)
			continue;
		t = j->started_ms + event_delay_ms(j);
		if (t < at)
			at = t;
	}
	return at < now ? now : at;
}

/* Read by the workers' replica retries: set to cut them short. */
static volatile sig_atomic_t stop_steps;
static volatile sig_atomic_t stop_finals;

void
loop_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* A peer closing a socket must be an error return, not death. */
	signal(SIGPIPE, SIG_IGN);
}

static void
job_run(struct pool_item *it)
{
	struct dbjob *j = (struct dbjob *)it;

	if (j->kind == JOB_FINAL)
		j->left = repl_final(&j->r);
	else
		j->rc = repl_step(&j->r);
}

static void
ship_run(struct pool_item *it)
{
	struct shipjob *k = (struct shipjob *)it;

	if (k->kind == JOB_FINAL) {
		/* The final sync must end: bounded retries, and only a
		 * second signal cuts them short. */
		k->s->max_retries = FINAL_RETRIES;
		k->s->stop = &stop_finals;
		k->left = shipper_final(k->s);
	} else {
		shipper_step(k->s);
	}
}

static void
add_job(struct loop *L, const struct cfg_db *db, const struct cfg_s3 *s3)
{
	struct dbjob *j = xcalloc(1, sizeof(*j));
	struct lsc_err err = { 0 };

	j->item.run = job_run;
	repl_init(&j->r, db, s3, &stop_steps);
	j->r.no_lock_wait = L->o->no_lock_wait;
	if (watch_add(L->watch, db->path, j, &err) == LSC_OK) {
		j->watched = 1;
	} else {
		log_db(LOG_WARN, db->path, "not watched: polled every %dms "
		    "instead\terror=\"%s\"", UNWATCHED_POLL_MS, err.msg);
	}
	j->due_ms = mono_ms();		/* the first sync: at once */
	j->nd.path = j->r.path;
	j->nd.synced_ms = j->due_ms;
	j->step_synced_ms = j->due_ms;
	j->ships = xcalloc(j->r.nships, sizeof(*j->ships));
	for (size_t i = 0; i < j->r.nships; i++) {
		j->ships[i].item.run = ship_run;
		j->ships[i].owner = j;
		j->ships[i].s = &j->r.ships[i];
		j->ships[i].synced_ms = j->due_ms;
		/* After the database's first step publishes. */
		j->ships[i].due_ms = INT64_MAX;
	}
	if (L->n == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 16;
		L->jobs = xreallocarray(L->jobs, L->cap, sizeof(*L->jobs));
	}
	L->jobs[L->n++] = j;
}

static void
free_job(struct loop *L, size_t i)
{
	struct dbjob *j = L->jobs[i];

	if (j->watched)
		watch_remove(L->watch, j->r.path, j);
	if (j->lock_watch == 1)
		watch_remove_file(L->watch, j);
	repl_release(&j->r);
	free(j->ships);
	free(j);
	L->jobs[i] = L->jobs[--L->n];
}

static void
dispatch(struct loop *L, struct dbjob *j, enum job_kind kind)
{
	j->kind = kind;
	j->busy = 1;
	j->dirty = 0;
	j->started_ms = mono_ms();
	pool_submit(L->pool, &j->item);
}

static void
dispatch_ship(struct loop *L, struct shipjob *k, enum job_kind kind)
{
	k->kind = kind;
	k->busy = 1;
	k->dirty = 0;
	pool_submit(L->pool, &k->item);
}

/* The database's step may have captured: its replicas ship it now,
 * except those backing off after a failure (their timer stands). */
static void
kick_ships(struct dbjob *j)
{
	int64_t now = mono_ms();

	for (size_t i = 0; i < j->r.nships; i++) {
		struct shipjob *k = &j->ships[i];

		if (k->busy)
			k->dirty = 1;
		else if (!k->failing && now < k->due_ms)
			k->due_ms = now;
	}
}

/* Readiness and lag for systemd: the database's and its replicas'. */
static void
update_nd(struct dbjob *j)
{
	j->nd.synced = j->step_synced;
	j->nd.failing = j->step_failing;
	j->nd.synced_ms = j->step_synced_ms;
	j->nd.pending_pct = 0;
	for (size_t i = 0; i < j->r.nships; i++) {
		const struct shipjob *k = &j->ships[i];
		/* An atomic the step writes: safe to read here. */
		uint64_t pend = atomic_load_explicit(&k->s->st.pending_bytes,
		    memory_order_relaxed), max = j->r.cfg.max_pending;
		int pct = max == 0 ? 0 : pend >= max ? 100 : (int)(pend * 100 / max);

		if (pct > j->nd.pending_pct)
			j->nd.pending_pct = pct;
		j->nd.synced = j->nd.synced && k->synced;
		j->nd.failing = j->nd.failing || k->failing;
		if (k->synced_ms < j->nd.synced_ms)
			j->nd.synced_ms = k->synced_ms;
	}
}

/* The WAL changed: run no sooner than one sync interval after the last
 * start, which is what batches a busy writer's commits. */
static void
mark_dirty(struct dbjob *j)
{
	int64_t at = j->started_ms + event_delay_ms(j), now = mono_ms();

	j->dirty = 1;
	if (at < now)
		at = now;
	if (!j->busy && at < j->due_ms)
		j->due_ms = at;
}

static void
on_watch(void *ctx, void *owner, int what)
{
	struct loop *L = ctx;
	struct dbjob *j = owner;

	/* The step itself tells a commit from a replacement. */
	if (j != NULL && j->nd.waiting != 0) {
		/* A waiting database is tried at once, not a sync interval on:
		 * it may just have appeared, or its lock come free. */
		if (what & WATCH_LOCK)
			j->lock_kicks = LOCK_KICKS;
		j->dirty = 1;
		if (!j->busy)
			j->due_ms = mono_ms();
		return;
	}
	if (what & (WATCH_DBWRITE | WATCH_LOCK))
		return;		/* a checkpoint; a lock we already hold */
	if (j != NULL) {
		mark_dirty(j);
		return;
	}
	for (size_t i = 0; i < L->n; i++)
		mark_dirty(L->jobs[i]);
}

/* Shutdown with exit status 1; an --exec app is asked to stop first (its
 * exit then starts ours, as for SIGTERM). */
static void begin_stop(struct loop *L);

static void
refuse_lock(struct loop *L)
{
	L->lock_refused = 1;
	if (L->child > 0)
		kill(L->child, SIGTERM);
	else
		begin_stop(L);
}

/*
 * After a step of a database that waits for another process's lock (or
 * has just stopped waiting): watch the lock file for the holder's close,
 * and say when to try again.  Returns the due time to use.
 */
static int64_t
lock_wait(struct loop *L, struct dbjob *j, int64_t next)
{
	struct lsc_err err = { 0 };
	const char *path = dblock_path(&j->r.lock);

	if (j->nd.waiting != REPL_WAIT_LOCK) {
		/* Ours now (or no longer wanted): stop watching. */
		if (j->lock_watch == 1)
			watch_remove_file(L->watch, j);
		j->lock_watch = 0;
		j->lock_kicks = 0;
		return next;
	}
	if (j->r.no_lock_wait) {
		if (!L->lock_refused && !L->stopping)
			refuse_lock(L);		/* await.c logged why */
		return INT64_MAX;
	}
	if (j->lock_watch == 0 && path != NULL) {
		if (watch_add_file(L->watch, path, j, &err) == LSC_OK) {
			j->lock_watch = 1;
			/* The holder may have gone before the watch was set:
			 * one more try, now that its close cannot be missed. */
			return mono_ms();
		}
		j->lock_watch = -1;
		log_db(LOG_WARN, j->r.path, "lock file not watched: tried "
		    "every second instead\terror=\"%s\"", err.msg);
	}
	if (j->lock_kicks > 0) {
		j->lock_kicks--;
		return mono_ms() + LOCK_KICK_MS;
	}
	return next;
}

/* The last part of a database's final sync: every replica's is over. */
static void
finish_final(struct loop *L, struct dbjob *j)
{
	uint64_t left = j->left;

	if (j->final_done || j->busy || !j->captured_final)
		return;
	for (size_t i = 0; i < j->r.nships; i++) {
		if (j->ships[i].busy || !j->ships[i].final_done)
			return;
		left += j->ships[i].left;
	}
	repl_final_end(&j->r);
	j->final_done = 1;
	L->left += left;
	L->incomplete += left > 0;
}

/* Has every replica of the database synced once (and the step)? */
static void
note_first_sync(struct dbjob *j)
{
	update_nd(j);
	if (!j->synced && j->nd.synced && !j->nd.waiting) {
		j->synced = 1;
		log_db(LOG_DEBUG, j->r.path, "first sync done");
	}
}

/* A replica's pass or final sync came back from the pool. */
static void
on_ship_done(struct loop *L, struct shipjob *k)
{
	struct dbjob *j = k->owner;
	int64_t next;

	k->busy = 0;
	if (k->kind == JOB_FINAL) {
		k->final_done = 1;
		finish_final(L, j);
		return;
	}
	/* Read after the worker is done with it (the pool's lock orders it). */
	k->synced = k->s->synced;
	k->failing = k->s->failing;
	k->synced_ms = k->s->synced_ms;
	note_first_sync(j);
	if (k->s->asked_newgen || (k->s->released && (j->busy ||
	    j->r.ckpt_held))) {
		/* A new generation asked for, or a checkpoint that waited for
		 * the snapshot read: the database's step runs again. */
		if (j->busy)
			j->dirty = 1;
		else
			j->due_ms = mono_ms();
	}
	k->s->asked_newgen = 0;
	k->s->released = 0;
	next = shipper_next_timer_ms(k->s);
	if (k->dirty && !k->failing)
		next = mono_ms();
	k->due_ms = next;
}

/* A step or final sync came back from the pool. */
static void
on_done(struct loop *L, struct dbjob *j)
{
	int64_t next;

	j->busy = 0;
	if (j->kind == JOB_FINAL) {
		j->captured_final = 1;
		finish_final(L, j);
		return;
	}
	/* Read after the worker is done with it (the pool's lock orders it). */
	j->nd.waiting = (int)j->r.waiting;
	j->step_synced = j->r.synced;
	j->step_failing = j->r.failing;
	j->step_synced_ms = j->r.synced_ms;
	note_first_sync(j);
	kick_ships(j);
	next = repl_next_timer_ms(&j->r);
	if (j->dirty) {
		int64_t at = j->nd.waiting ? mono_ms() :
		    j->started_ms + event_delay_ms(j);

		if (at < next)
			next = at;
	}
	if (!j->watched) {
		int64_t iv = j->r.cfg.sync_interval_ms > UNWATCHED_POLL_MS ?
		    j->r.cfg.sync_interval_ms : UNWATCHED_POLL_MS;

		if (j->started_ms + iv < next)
			next = j->started_ms + iv;
	}
	if (j->nd.waiting == REPL_WAIT_LOCK || j->lock_watch == 1)
		next = lock_wait(L, j, next);
	j->due_ms = next;
}

/* Free the removed databases whose final sync is over, and start the
 * replacements of those whose settings changed. */
static void
reap_removed(struct loop *L)
{
	for (size_t i = 0; i < L->n;) {
		struct dbjob *j = L->jobs[i];

		if (!j->removing || !j->final_done) {
			i++;
			continue;
		}
		const struct cfg_db *readd = j->readd;
		const struct cfg_s3 *readd_s3 = j->readd_s3;

		log_db(LOG_INFO, j->r.path, "%s", readd ? "restarting with the "
		    "new settings" : "no longer replicated");
		free_job(L, i);
		if (readd != NULL)
			add_job(L, readd, readd_s3);
	}
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same_s3(const struct cfg_s3 *a, const struct cfg_s3 *b)
{
	return same_str(a->endpoint, b->endpoint) &&
	    same_str(a->region, b->region) &&
	    same_str(a->access_key_id, b->access_key_id) &&
	    same_str(a->secret_access_key, b->secret_access_key) &&
	    same_str(a->session_token, b->session_token) &&
	    same_str(a->ca_file, b->ca_file) &&
	    a->path_style == b->path_style && a->skip_verify == b->skip_verify &&
	    a->part_size == b->part_size &&
	    a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->request_timeout_ms == b->request_timeout_ms &&
	    a->max_retries == b->max_retries;
}

/* The same replicas, in the same order, with the same settings. */
static int
same_replicas(const struct repl *a, const struct cfg_db *b,
    const struct cfg_s3 *b3)
{
	if (a->nships != b->nreplicas)
		return 0;
	for (size_t i = 0; i < a->nships; i++) {
		const struct shipper *s = &a->ships[i];
		struct cfg_s3 merged;
		int same;

		cfg_s3_init(&merged);
		cfg_replica_s3(b, &b->replicas[i], b3, &merged);
		same = same_str(s->name, b->replicas[i].name) &&
		    same_str(s->url, b->replicas[i].url) &&
		    same_s3(&s->s3, &merged);
		cfg_s3_release(&merged);
		if (!same)
			return 0;
	}
	return 1;
}

/* Would a database configured as `b` (under [s3] `b3`) run exactly as
 * the running `a` does?  Then a reload leaves it alone. */
static int
same_db(const struct repl *a, const struct cfg_db *b, const struct cfg_s3 *b3)
{
	return same_replicas(a, b, b3) &&
	    same_str(a->cfg.meta_path, b->meta_path) &&
	    a->cfg.sync_interval_ms == b->sync_interval_ms &&
	    a->cfg.snapshot_interval_ms == b->snapshot_interval_ms &&
	    a->cfg.retention_ms == b->retention_ms &&
	    a->cfg.retention_check_interval_ms == b->retention_check_interval_ms &&
	    a->cfg.retention_grace_ms == b->retention_grace_ms &&
	    a->cfg.checkpoint_interval_ms == b->checkpoint_interval_ms &&
	    a->cfg.min_checkpoint_page_count == b->min_checkpoint_page_count &&
	    a->cfg.max_checkpoint_page_count == b->max_checkpoint_page_count &&
	    a->cfg.nage_recipients == b->nage_recipients &&
	    (b->nage_recipients == 0 || memcmp(a->cfg.age_recipients,
	    b->age_recipients, b->nage_recipients * AGE_KEY_LEN) == 0) &&
	    same_str(a->cfg.age_identity_file, b->age_identity_file);
}

/* SIGHUP: databases added start, removed ones get a final sync and go,
 * changed ones do both; the others are not touched.  A config that does
 * not load, or names a database that cannot start, changes nothing. */
static void
reload(struct loop *L)
{
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	size_t added = 0, removed = 0, changed = 0, n = L->n;

	if (L->o->config_path == NULL) {
		log_warn("SIGHUP: no config file to reload (started without -c)");
		return;
	}
	if (cfg_load(L->o->config_path, &cfg, &err) != LSC_OK) {
		log_error("reload failed; keeping the running configuration\t"
		    "error=\"%s\"", err.msg);
		return;
	}
	if (daemon_preflight(cfg, &err) != 0) {
		log_error("reload refused; keeping the running configuration\t"
		    "error=\"%s\"", err.msg);
		cfg_free(cfg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct dbjob *j = L->jobs[i];
		const struct cfg_db *db = cfg_find_db(cfg, j->r.path);

		if (j->removing)
			continue;
		if (db == NULL) {
			j->removing = 1;
			removed++;
		} else if (!same_db(&j->r, db, &cfg->s3)) {
			j->removing = 1;
			j->readd = db;
			j->readd_s3 = &cfg->s3;
			changed++;
		}
	}
	for (size_t k = 0; k < cfg->ndb; k++) {
		int found = 0;

		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(L->jobs[i]->r.path, cfg->dbs[k].path) == 0;
		if (!found) {
			add_job(L, &cfg->dbs[k], &cfg->s3);
			added++;
		}
	}
	if (cfg->log_level != NULL)
		log_set_level_name(cfg->log_level);
	/* Running jobs borrow strings from every config loaded so far. */
	L->cfgs = xreallocarray(L->cfgs, L->ncfg + 1, sizeof(*L->cfgs));
	L->cfgs[L->ncfg++] = cfg;
	log_info("configuration reloaded\tadded=%zu removed=%zu changed=%zu "
	    "unchanged=%zu", added, removed, changed, n - removed - changed);
}

/* Shutdown begins: steps in flight cut their retries short, then the
 * final syncs run (schedule()). */
static void
begin_stop(struct loop *L)
{
	if (L->stopping)
		return;
	L->stopping = 1;
	stop_steps = 1;
	notify_stopping();	/* systemd: STOPPING=1 */
}

/* SIGCHLD: reap; the --exec child's end starts our shutdown. */
static void
on_child(struct loop *L)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != L->child)
			continue;
		L->child = -1;
		L->child_status = exec_exit_status(st);
		log_info("the application exited; final sync\tstatus=%d",
		    L->child_status);
		begin_stop(L);
	}
}

static void
on_signal(struct loop *L, int sig)
{
	if (sig == SIGHUP) {
		if (!L->stopping) {
			notify_reloading();	/* systemd: RELOADING=1 */
			reload(L);
			notify_reloaded();
		}
		return;
	}
	if (sig == SIGCHLD) {
		on_child(L);
		return;
	}
	/* SIGTERM or SIGINT. */
	if (L->child > 0) {
		/* The app goes first; its exit starts our shutdown. */
		log_info("passing the signal to the application\tsignal=%d pid=%d",
		    sig, (int)L->child);
		kill(L->child, sig);
		return;
	}
	if (L->stopping) {
		log_warn("second signal: cutting the final sync short");
		stop_finals = 1;
		return;
	}
	log_info("shutting down: final sync");
	begin_stop(L);
}

static void
read_signals(struct loop *L)
{
	struct signalfd_siginfo si;

	while (read(L->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		on_signal(L, (int)si.ssi_signo);
}

/* Once every database has synced: the --exec child may start. */
static void
check_ready(struct loop *L)
{
	size_t waiting = 0;

	if (L->ready)
		return;
	for (size_t i = 0; i < L->n; i++) {
		/* A database not there yet, or another process's, does not
		 * hold the app back (await.c), nor READY (notify.c). */
		if (L->jobs[i]->nd.waiting)
			waiting++;
		else if (!L->jobs[i]->synced)
			return;
	}
	L->ready = 1;
	/* READY=1 goes out on the loop's next pass, not after notify_tick's
	 * once-a-second pause: an idle loop may not wake again for long. */
	L->next_notify_ms = 0;
	if (waiting > 0)
		log_info("every database has synced once, except those "
		    "waited for\tdatabases=%zu waiting=%zu", L->n, waiting);
	else
		log_info("every database has synced once\tdatabases=%zu", L->n);
	if (L->o->exec_cmd != NULL && L->child == 0 && !L->stopping) {
		L->child = exec_start(L->o->exec_cmd);
		if (L->child < 0) {
			log_error("cannot start the application: %s",
			    strerror(errno));
			L->child_status = 127;
			begin_stop(L);
		} else {
			log_info("application started\tpid=%d", (int)L->child);
		}
	}
}

/* systemd: WATCHDOG=1 from this loop (so a stuck loop is noticed), and
 * READY=1 / STATUS= from the loop's copies of each database's state. */
static void
notify_tick(struct loop *L, int64_t now)
{
	struct notify_db *v;

	if (notify_watchdog_due(now))
		notify_watchdog(now);
	if (!notify_enabled() || L->stopping)
		return;
	/* The loop wakes per inotify read (up to 1000 a second): copy the
	 * databases' state at most once a second, as notify_update() would
	 * look at it no more often than that once READY is sent. */
	if (L->ready && now < L->next_notify_ms)
		return;
	L->next_notify_ms = now + 1000;
	v = xreallocarray(NULL, L->n ? L->n : 1, sizeof(*v));
	for (size_t i = 0; i < L->n; i++)
		v[i] = L->jobs[i]->nd;
	notify_update(v, L->n, now);
	free(v);
}

/* Submit what is due; returns when the loop must wake next. */
static int64_t
schedule(struct loop *L)
{
	int64_t now = mono_ms(), wake = INT64_MAX;

	for (size_t i = 0; i < L->n; i++) {
		struct dbjob *j = L->jobs[i];
		int final = L->stopping || j->removing;

		for (size_t k = 0; k < j->r.nships; k++) {
			struct shipjob *sk = &j->ships[k];

			if (sk->busy)
				continue;
			if (final) {
				/* After the database's final capture. */
				if (j->captured_final && !sk->final_done)
					dispatch_ship(L, sk, JOB_FINAL);
				continue;
			}
			if (sk->due_ms <= now) {
				sk->due_ms = INT64_MAX;
				dispatch_ship(L, sk, JOB_STEP);
			} else if (sk->due_ms < wake) {
				wake = sk->due_ms;
			}
		}
		if (j->busy)
			continue;
		if (final) {
			if (!j->captured_final)
				dispatch(L, j, JOB_FINAL);
			continue;
		}
		if (j->due_ms <= now) {
			j->due_ms = INT64_MAX;
			dispatch(L, j, JOB_STEP);
		} else if (j->due_ms < wake) {
			wake = j->due_ms;
		}
	}
	return wake;
}

static int
all_final(const struct loop *L)
{
	for (size_t i = 0; i < L->n; i++) {
		if (L->jobs[i]->busy || !L->jobs[i]->final_done)
			return 0;
		for (size_t k = 0; k < L->jobs[i]->r.nships; k++)
			if (L->jobs[i]->ships[k].busy)
				return 0;
	}
	return 1;
}

static int
setup(struct loop *L)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct lsc_err err = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	L->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	L->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L->sigfd < 0 || L->epfd < 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		return -1;
	}
	if ((L->watch = watch_new(&err)) == NULL) {
		log_error("%s", err.msg);
		return -1;
	}
	if ((L->pool = pool_new(L->o->workers)) == NULL) {
		log_error("cannot start worker threads: %s", strerror(errno));
		return -1;
	}
	ev.data.fd = L->sigfd;
	epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->sigfd, &ev);
	ev.data.fd = watch_fd(L->watch);
	ev.events = EPOLLIN | EPOLLONESHOT;	/* re-armed after WATCH_PAUSE_MS */
	epoll_ctl(L->epfd, EPOLL_CTL_ADD, watch_fd(L->watch), &ev);
	ev.events = EPOLLIN;
	ev.data.fd = pool_fd(L->pool);
	epoll_ctl(L->epfd, EPOLL_CTL_ADD, pool_fd(L->pool), &ev);
	return 0;
}

static void
teardown(struct loop *L)
{
	if (L->pool != NULL)
		pool_free(L->pool);
	while (L->n > 0)
		free_job(L, L->n - 1);
	free(L->jobs);
	watch_free(L->watch);
	for (size_t i = 0; i < L->ncfg; i++)
		cfg_free(L->cfgs[i]);
	free(L->cfgs);
	if (L->sigfd >= 0)
		close(L->sigfd);
	if (L->epfd >= 0)
		close(L->epfd);
}

int
loop_run(struct lsc_config *cfg, const struct loop_opts *o)
{
	struct loop L = { .o = o, .sigfd = -1, .epfd = -1 };
	int status;

	L.cfgs = xmalloc(sizeof(*L.cfgs));
	L.cfgs[L.ncfg++] = cfg;
	if (setup(&L) != 0) {
		teardown(&L);
		return 1;
	}
	for (size_t i = 0; i < cfg->ndb; i++)
		add_job(&L, &cfg->dbs[i], &cfg->s3);
	log_info("litestream-c starting\tdatabases=%zu workers=%d", L.n,
	    o->workers);
	for (;;) {
		struct epoll_event evs[8];
		int64_t wake, now;
		int timeout, nev;

		wake = schedule(&L);
		if (L.stopping && all_final(&L))
			break;
		now = mono_ms();
		notify_tick(&L, now);
		if (notify_wake_ms() < wake)
			wake = notify_wake_ms();
		if (L.watch_rearm_ms != 0) {
			int64_t at = watch_matters_ms(&L);

			if (at < L.watch_rearm_ms)
				at = L.watch_rearm_ms;	/* the pause, at least */
			if (now >= at) {
				struct epoll_event ev = {
					.events = EPOLLIN | EPOLLONESHOT,
					.data.fd = watch_fd(L.watch),
				};

				epoll_ctl(L.epfd, EPOLL_CTL_MOD, ev.data.fd, &ev);
				L.watch_rearm_ms = 0;
			} else if (at < wake) {
				wake = at;
			}
		}
		timeout = wake == INT64_MAX ? -1 :
		    wake - now > 3600000 ? 3600000 : wake - now < 0 ? 0 :
		    (int)(wake - now);
		nev = epoll_wait(L.epfd, evs, 8, timeout);
		for (int k = 0; k < nev; k++) {
			int fd = evs[k].data.fd;

			if (fd == L.sigfd) {
				read_signals(&L);
			} else if (fd == watch_fd(L.watch)) {
				watch_read(L.watch, on_watch, &L);
				L.watch_rearm_ms = mono_ms() + WATCH_PAUSE_MS;
			} else if (fd == pool_fd(L.pool)) {
				struct pool_item *it = pool_take_done(L.pool);

				while (it != NULL) {
					struct pool_item *next = it->next;

					if (it->run == ship_run)
						on_ship_done(&L, (struct shipjob *)it);
					else
						on_done(&L, (struct dbjob *)it);
					it = next;
				}
				reap_removed(&L);
				check_ready(&L);
			}
		}
	}
	if (L.left > 0)
		log_error("final sync incomplete; exiting with bytes not shipped "
		    "(kept in the shadow WAL for the next start)\tdatabases=%zu "
		    "bytes=%llu", L.incomplete, (unsigned long long)L.left);
	else
		log_info("litestream-c shut down");
	status = L.lock_refused ? 1 :
	    o->exec_cmd != NULL && L.child == -1 ? L.child_status :
	    L.left > 0 ? 1 : 0;
	teardown(&L);
	return status;
}
