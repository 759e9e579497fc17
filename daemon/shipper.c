/* SPDX-License-Identifier: MIT */
/*
 * One replica's pass (see shipper.h): follow the database's generation,
 * ship, snapshot and retention when due, retry with its own back-off.
 *
 * Retries.  Each request to the store is retried a few times (back-off
 * inside the S3 client), then the pass fails and the loop runs it again
 * after 1, 2, 4, 8, then every 15 s, for as long as the daemon runs.
 * Bounded passes keep a store that is down from holding a worker thread
 * for ever: with several databases on a provider that is down, unbounded
 * retries would take every worker and stall the capture and the other
 * replicas of every database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/repl.h"
#include "daemon/shipper.h"

/* Attempts per request within a pass when max-retries is not set: the
 * S3 client's full-jitter back-off makes that about 3 s (at most 6). */
#define SHIP_RETRIES	6
#define RETRY_BASE_MS	1000
#define RETRY_CAP_MS	15000

void
shipper_init(struct shipper *s, struct repl *r, const struct cfg_db *db,
    const struct cfg_replica *rep, const struct cfg_s3 *global_s3,
    int nreplicas, volatile sig_atomic_t *stop)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
	s->name = rep->name;
	s->url = rep->url;
	cfg_s3_init(&s->s3);
	cfg_replica_s3(db, rep, global_s3, &s->s3);
	s->max_retries = s->s3.max_retries >= 0 ? s->s3.max_retries :
	    SHIP_RETRIES;
	s->stop = stop;
	/* A lone replica keeps the record name of the days of one replica
	 * per database, so an upgrade keeps its record. */
	s->record = nreplicas == 1 ? xstrdup("lsc-shipped") :
	    xasprintf("lsc-shipped.%s", rep->name);
	s->next_retention_ms = mono_ms() + repl_retention_interval_ms(db);
	s->synced_ms = mono_ms();
	pthread_mutex_init(&s->st.lock, NULL);
}

void
shipper_release(struct shipper *s)
{
	replica_free(s->replica);
	cfg_s3_release(&s->s3);
	free((char *)s->record);
	pthread_mutex_destroy(&s->st.lock);
	memset(s, 0, sizeof(*s));
}

void
shipper_stats_pending(struct shipper *s)
{
	int64_t zero = 0;

	/* Only the first sighting counts: the oldest unshipped commit. */
	atomic_compare_exchange_strong_explicit(&s->st.pending_since_ns, &zero,
	    now_ns(), memory_order_relaxed, memory_order_relaxed);
}

void
shipper_publish(struct shipper *s)
{
	struct repl *r = s->r;
	int caught_up;

	pthread_mutex_lock(&s->st.lock);
	memcpy(s->st.gen, s->gen, sizeof(s->st.gen));
	s->st.index = s->pos_index;
	s->st.offset = s->pos_offset;
	pthread_mutex_unlock(&s->st.lock);
	if (!s->pos_known)
		return;
	pthread_mutex_lock(&r->mu);
	caught_up = strcmp(r->pub.gen, s->gen) == 0 &&
	    s->pos_index == r->pub.index && s->pos_offset == r->pub.size;
	pthread_mutex_unlock(&r->mu);
	if (caught_up)
		atomic_store_explicit(&s->st.pending_since_ns, 0,
		    memory_order_relaxed);
	else
		shipper_stats_pending(s);	/* e.g. left by a past run */
}

/*
 * Follow the database to generation `gen`.  On S3, whose times have
 * whole seconds, its first object must land in a later second than our
 * last one of the old generation (an upload may have been in flight when
 * the database began the new one): a restore picks the generation updated
 * last.  A generation this process began is in no store yet; one it
 * resumed is listed for what the store holds (a restart).
 */
static void
switch_gen(struct shipper *s, const struct repl_pub *p)
{
	struct repl *r = s->r;

	if (s->gen[0] != '\0' && s->last_put_ns > 0 &&
	    strncmp(s->url, "file://", 7) != 0) {
		int64_t ns = now_ns();

		if (ns / 1000000000 <= s->last_put_ns / 1000000000) {
			struct timespec ts = { 0, 1000000000L - ns % 1000000000L };

			nanosleep(&ts, NULL);
		}
	}
	memcpy(s->gen, p->gen, sizeof(s->gen));
	s->pos_known = p->fresh;
	s->pos_index = 0;
	s->pos_offset = 0;
	s->have_snapshot = 0;
	s->last_snapshot_ns = 0;
	pthread_mutex_lock(&r->mu);
	s->acked_known = s->pos_known;
	memcpy(s->acked_gen, s->gen, sizeof(s->acked_gen));
	s->acked_index = 0;
	s->acked_offset = 0;
	pthread_mutex_unlock(&r->mu);
}

static int
snapshot_due(const struct shipper *s)
{
	const struct cfg_db *cfg = &s->r->cfg;

	if (!s->have_snapshot)
		return 1;
	return cfg->snapshot_interval_ms > 0 &&
	    now_ns() - s->last_snapshot_ns >= cfg->snapshot_interval_ms * 1000000;
}

static int
open_replica(struct shipper *s, struct lsc_err *err)
{
	int rc;

	if (s->replica == NULL && (rc = replica_open(s->url, &s->s3,
	    s->max_retries, &s->replica, err)) != LSC_OK)
		return rc;
	s->replica->max_retries = s->max_retries;
	s->replica->stop = s->stop;
	/* A file replica's copies are as private as the database. */
	s->replica->file_mode = s->r->file_mode;
	return LSC_OK;
}

/* Ask the database's next step for a new generation (shipper.h). */
static void
request_new_generation(struct shipper *s, const char *reason)
{
	struct repl *r = s->r;

	pthread_mutex_lock(&r->mu);
	if (strcmp(r->newgen_for, s->gen) != 0) {
		memcpy(r->newgen_for, s->gen, sizeof(r->newgen_for));
		snprintf(r->newgen_reason, sizeof(r->newgen_reason), "%s", reason);
	}
	pthread_mutex_unlock(&r->mu);
	log_db(LOG_WARN, r->path, "cannot continue the generation on this "
	    "replica: asking for a new one\treplica=%s generation=%s "
	    "reason=\"%s\"", s->name, s->gen, reason);
	s->asked_newgen = 1;	/* the loop wakes the step */
}

static int
pass(struct shipper *s, const struct repl_pub *p, int final,
    struct lsc_err *err)
{
	const struct cfg_db *cfg = &s->r->cfg;
	int rc;

	if ((rc = open_replica(s, err)) != LSC_OK)
		return rc;
	if (strcmp(s->gen, p->gen) != 0)
		switch_gen(s, p);
	if ((rc = ship_wal(s, err)) != LSC_OK)
		return rc;
	if (final ? !s->have_snapshot : snapshot_due(s))
		if ((rc = ship_snapshot(s, err)) != LSC_OK)
			return rc;
	if (!final && cfg->retention_ms > 0 && mono_ms() >= s->next_retention_ms) {
		/* Due first: a failing pass waits an interval too (no LIST
		 * storm), and its failure is not the pass's. */
		struct lsc_err rerr = { 0 };

		s->next_retention_ms = mono_ms() + repl_retention_interval_ms(cfg);
		if (shipper_retention(s, &rerr) != LSC_OK)
			log_db(LOG_WARN, s->r->path, "retention failed (will "
			    "retry)\treplica=%s error=\"%s\"", s->name, rerr.msg);
	}
	return LSC_OK;
}

static void
read_pub(struct shipper *s, struct repl_pub *p)
{
	pthread_mutex_lock(&s->r->mu);
	*p = s->r->pub;
	pthread_mutex_unlock(&s->r->mu);
}

int
shipper_step(struct shipper *s)
{
	struct lsc_err err = { 0 };
	struct repl_pub p;
	int rc;

	read_pub(s, &p);
	if (p.gen[0] == '\0')
		return LSC_OK;		/* the database is not open (yet) */
	if (s->blocked && strcmp(p.gen, s->gen) == 0)
		return LSC_OK;		/* the new generation is not there yet */
	s->blocked = 0;
	rc = pass(s, &p, 0, &err);
	if (rc == LSC_ECORRUPT) {
		/* This generation cannot go on here; not a failure of ours. */
		request_new_generation(s, err.msg);
		s->blocked = 1;
		return LSC_OK;
	}
	if (rc != LSC_OK) {
		int64_t wait = RETRY_BASE_MS << (s->nfail < 4 ? s->nfail : 4);

		log_db(s->failing ? LOG_DEBUG : LOG_ERROR, s->r->path,
		    "sync failed (will retry)\treplica=%s error=\"%s\"", s->name,
		    err.msg);
		s->failing = 1;
		s->nfail++;
		s->retry_ms = mono_ms() + (wait < RETRY_CAP_MS ? wait : RETRY_CAP_MS);
		stat_add(&s->st.sync_errors, 1);
		return rc;
	}
	if (s->failing)
		log_db(LOG_INFO, s->r->path, "sync recovered\treplica=%s", s->name);
	s->failing = 0;
	s->nfail = 0;
	/* Whatever the step had captured when we began is in the store. */
	if (s->have_snapshot && s->pos_known) {
		s->synced = 1;
		s->synced_ms = p.captured_ms;
	}
	atomic_store_explicit(&s->st.last_sync_ns, now_ns(), memory_order_relaxed);
	return LSC_OK;
}

int64_t
shipper_next_timer_ms(const struct shipper *s)
{
	const struct cfg_db *cfg = &s->r->cfg;
	int64_t now = mono_ms(), due = INT64_MAX;

	if (s->failing)
		return s->retry_ms;
	if (s->gen[0] == '\0' || s->blocked)
		return due;		/* the step's publication wakes us */
	if (!s->have_snapshot)
		due = now;
	else if (cfg->snapshot_interval_ms > 0) {
		/* last_snapshot_ns is wall-clock: convert what is left. */
		int64_t left = cfg->snapshot_interval_ms -
		    (now_ns() - s->last_snapshot_ns) / 1000000;

		due = now + (left > 0 ? left : 0);
	}
	if (cfg->retention_ms > 0 && s->next_retention_ms < due)
		due = s->next_retention_ms;
	return due;
}

uint64_t
shipper_final(struct shipper *s)
{
	struct lsc_err err = { 0 };
	struct repl_pub p;
	uint64_t left = 0;
	int rc;

	read_pub(s, &p);
	if (p.gen[0] == '\0')
		return 0;	/* nothing captured: repl_final says why */
	if (s->replica != NULL) {
		s->replica->max_retries = s->max_retries;
		s->replica->stop = s->stop;
	}
	rc = pass(s, &p, 1, &err);
	if (rc == LSC_OK) {
		atomic_store_explicit(&s->st.last_sync_ns, now_ns(),
		    memory_order_relaxed);
		return 0;
	}
	/* What the store lacks stays safe in the shadow WAL. */
	pthread_mutex_lock(&s->r->mu);
	if (s->pos_known && strcmp(s->gen, s->r->pub.gen) == 0)
		left = repl_bytes_from(s->r, s->pos_index, s->pos_offset);
	else
		left = atomic_load_explicit(&s->st.pending_bytes,
		    memory_order_relaxed);
	pthread_mutex_unlock(&s->r->mu);
	if (left == 0)
		left = 1;
	log_db(LOG_ERROR, s->r->path, "final sync failed\treplica=%s "
	    "error=\"%s\" unshipped_bytes=%llu", s->name, err.msg,
	    (unsigned long long)left);
	stat_add(&s->st.sync_errors, 1);
	return left;
}
