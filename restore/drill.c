/* SPDX-License-Identifier: MIT */
/*
 * Running the drill's checks (see drill.h for what each one proves).  The
 * order of work differs from the order of the report so that work is
 * shared and disk use stays at two databases: latest (kept), replay
 * (compared with latest, removed), sql (on latest, then removed), pitr
 * (one at a time), and last the chain check, which reads only what the
 * restores did not verify.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/catalog.h"
#include "restore/drill.h"
#include "restore/drill_chain.h"
#include "restore/pagecmp.h"
#include "restore/plan.h"
#include "restore/restore.h"

/* The run's state, shared by the checks. */
struct drill {
	struct replica	*r;
	const struct drill_opts *o;
	struct drill_report *rep;
	struct catalog	 cat;
	struct drill_seen *seen;
	int64_t		 list_ns;	/* when the replica was listed */
	int64_t		 list_ms;	/* how long listing took */
	char		*latest_db;	/* workdir/latest.db */
	char		*replay_db;
	char		*pitr_db;
	struct restore_plan latest;	/* empty unless latest restored */
	uint32_t	 page_size;	/* of the latest restore */
};

void
drill_set(struct drill_check *ck, enum drill_status st, const char *object,
    const char *reason)
{
	ck->status = st;
	free(ck->object);
	free(ck->reason);
	ck->object = object != NULL ? xstrdup(object) : NULL;
	ck->reason = reason != NULL ? xstrdup(reason) : NULL;
}

static void
set_fail(struct drill *d, struct drill_check *ck, const struct lsc_err *err)
{
	drill_set(ck, DRILL_FAIL, drill_find_key(&d->cat, err->msg), err->msg);
}

/* The newest object of a plan: its time is that of the state restored. */
static const struct cat_obj *
plan_newest(const struct restore_plan *p)
{
	const struct cat_obj *o = p->snap;

	for (size_t i = 0; i < p->nseg; i++)
		if (p->segs[i]->mtime_ns > o->mtime_ns)
			o = p->segs[i];
	return o;
}

static void
note_restore(struct drill_restore *rs, const struct restore_plan *p,
    const struct restore_stats *st)
{
	memcpy(rs->gen, p->gen->id, sizeof(rs->gen));
	free(rs->snapshot);
	rs->snapshot = xstrdup(p->snap->key);
	rs->segments = p->nseg;
	rs->state_ns = plan_newest(p)->mtime_ns;
	if (st != NULL) {
		rs->commits = st->commits;
		rs->db_bytes = st->db_bytes;
	}
}

/*
 * Restore plan `p` to `path` with restore_build's `flags` and record it.
 * A restore that dropped uncommitted frames is still a good restore (it
 * did what SQLite does), but its WAL is left to the chain check, which
 * reports the tail.
 */
static int
build(struct drill *d, const struct restore_plan *p, const char *path,
    unsigned flags, struct drill_restore *rs, struct lsc_err *err)
{
	struct restore_stats st = { 0 };
	struct restore_plan q = *p;	/* the same plan, with our keys */
	int rc;

	note_restore(rs, p, NULL);
	q.age_identity_file = d->o->age_identity_file;
	rc = restore_build_flags(d->r, &q, path, flags, NULL, &st, err);
	if (rc != LSC_OK)
		return rc;
	note_restore(rs, p, &st);
	drill_seen_plan(d->seen, p, st.page_size,
	    st.dropped_frames == 0 && st.dropped_bytes == 0);
	if (p == &d->latest)
		d->page_size = st.page_size;
	return LSC_OK;
}

static void
check_latest(struct drill *d)
{
	struct drill_latest *l = &d->rep->latest;
	struct plan_opts po = { .generation = d->o->generation };
	struct lsc_err err = { 0 };
	int64_t t0 = mono_ms();
	char *why;

	l->rto_ms = l->rpo_ms = -1;
	if (plan_make(&d->cat, &po, &d->latest, &err) != LSC_OK ||
	    build(d, &d->latest, d->latest_db, 0, &l->rs, &err) != LSC_OK) {
		plan_release(&d->latest);
		set_fail(d, &l->ck, &err);
		l->ck.ms = mono_ms() - t0;
		return;
	}
	l->ck.ms = mono_ms() - t0;
	/* What a real restore would take: the listing, then this. */
	l->rto_ms = d->list_ms + l->ck.ms;
	l->rpo_ms = (d->list_ns - l->rs.state_ns) / 1000000;
	if (l->rpo_ms < 0)
		l->rpo_ms = 0;	/* the store's clock is ahead of ours */
	if (d->o->max_lag_ms >= 0 && l->rpo_ms > d->o->max_lag_ms) {
		char ts[64];

		fmt_rfc3339(l->rs.state_ns, 0, ts, sizeof(ts));
		why = xasprintf("RPO %.1fs is over --max-lag %.1fs: the newest "
		    "restorable object, '%s', is from %s; is the replica still "
		    "being updated?", l->rpo_ms / 1000.0, d->o->max_lag_ms / 1000.0,
		    plan_newest(&d->latest)->key, ts);
		drill_set(&l->ck, DRILL_FAIL, plan_newest(&d->latest)->key, why);
		free(why);
		return;
	}
	drill_set(&l->ck, DRILL_PASS, NULL, NULL);
}

static void
check_replay(struct drill *d)
{
	struct drill_replay *rp = &d->rep->replay;
	struct plan_opts po = { .oldest = 1 };
	struct restore_plan p = { 0 };
	struct pagecmp cmp = { 0 };
	struct lsc_err err = { 0 };
	int64_t t0 = mono_ms();
	char *why;

	if (d->latest.snap == NULL) {
		drill_set(&rp->ck, DRILL_SKIP, NULL, "no latest restore to "
		    "compare with");
		return;
	}
	po.generation = d->latest.gen->id;
	rp->against = xstrdup(d->latest.snap->key);
	if (plan_make(&d->cat, &po, &p, &err) != LSC_OK) {
		set_fail(d, &rp->ck, &err);
		goto out;
	}
	if (p.snap == d->latest.snap) {
		why = xasprintf("generation %s has %s snapshot", p.gen->id,
		    p.gen->nsnap == 1 ? "one" : "no older");
		drill_set(&rp->ck, DRILL_SKIP, NULL, why);
		free(why);
		goto out;
	}
	/* Compared with latest, which was checked: no check, no fsync. */
	if (build(d, &p, d->replay_db, RESTORE_NO_CHECK | RESTORE_NO_SYNC,
	    &rp->rs, &err) != LSC_OK) {
		set_fail(d, &rp->ck, &err);
		goto out;
	}
	if (pagecmp_files(d->latest_db, d->replay_db, d->page_size, &cmp,
	    &err) != LSC_OK) {
		set_fail(d, &rp->ck, &err);
		goto out;
	}
	rp->pages = cmp.pages_a;
	rp->differ = cmp.differ;
	rp->first_differ = cmp.first;
	if (cmp.differ == 0) {
		drill_set(&rp->ck, DRILL_PASS, NULL, NULL);
		goto out;
	}
	why = xasprintf("%" PRIu64 " of %" PRIu64 " pages differ, the first "
	    "at page %" PRIu64 ": snapshot '%s' + WAL since (%" PRIu64 " pages) "
	    "and snapshot '%s' + WAL since (%" PRIu64 " pages) give different "
	    "databases", cmp.differ, cmp.pages_a > cmp.pages_b ? cmp.pages_a :
	    cmp.pages_b, cmp.first, p.snap->key, cmp.pages_b,
	    d->latest.snap->key, cmp.pages_a);
	drill_set(&rp->ck, DRILL_FAIL, p.snap->key, why);
	free(why);
out:
	unlink(d->replay_db);
	plan_release(&p);
	rp->ck.ms = mono_ms() - t0;
}

/* Is the value true: a non-zero number, a non-empty text or blob. */
static int
truthy(sqlite3_stmt *st)
{
	switch (sqlite3_column_type(st, 0)) {
	case SQLITE_INTEGER:
		return sqlite3_column_int64(st, 0) != 0;
	case SQLITE_FLOAT:
		return sqlite3_column_double(st, 0) != 0.0;
	case SQLITE_NULL:
		return 0;
	default:
		return sqlite3_column_bytes(st, 0) > 0;
	}
}

static void
run_query(sqlite3 *db, struct drill_query *q)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL, *txt;
	int64_t t0 = mono_ms();
	char *why = NULL;
	int src;

	src = sqlite3_prepare_v2(db, q->sql, -1, &st, &tail);
	if (src == SQLITE_OK && st == NULL)
		why = xstrdup("the query is empty");
	else if (src == SQLITE_OK && tail != NULL &&
	    tail[strspn(tail, " \t\r\n;")] != '\0')
		why = xstrdup("give one statement per --sql");
	else if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_DONE)
		why = xstrdup("the query returned no row");
	if (why == NULL && src != SQLITE_ROW)
		why = xasprintf("SQL error: %s", sqlite3_errmsg(db));
	if (why == NULL) {
		txt = (const char *)sqlite3_column_text(st, 0);
		q->result = txt != NULL ? xasprintf("%.200s", txt) : NULL;
		if (!truthy(st))
			why = xasprintf("the first column of the first row is %s, "
			    "not true", txt != NULL ? "false" : "NULL");
	}
	sqlite3_finalize(st);
	drill_set(&q->ck, why != NULL ? DRILL_FAIL : DRILL_PASS, NULL, why);
	free(why);
	q->ck.ms = mono_ms() - t0;
}

static void
check_sql(struct drill *d)
{
	struct drill_sql *s = &d->rep->sql;
	struct lsc_err err = { 0 };
	sqlite3 *db = NULL;
	int64_t t0 = mono_ms();
	size_t failed = 0;
	char *why;

	s->n = d->o->nsql;
	s->v = xcalloc(s->n ? s->n : 1, sizeof(*s->v));
	for (size_t i = 0; i < s->n; i++) {
		s->v[i].ck.name = "sql";
		s->v[i].sql = d->o->sql[i];
	}
	if (s->n == 0) {
		drill_set(&s->ck, DRILL_SKIP, NULL, "no --sql given");
		return;
	}
	if (d->latest.snap == NULL) {
		for (size_t i = 0; i < s->n; i++)
			drill_set(&s->v[i].ck, DRILL_SKIP, NULL, "no latest restore");
		drill_set(&s->ck, DRILL_SKIP, NULL, "no latest restore to query");
		return;
	}
	if (restore_open_readonly(d->latest_db, &db, &err) != LSC_OK) {
		drill_set(&s->ck, DRILL_FAIL, NULL, err.msg);
		return;
	}
	for (size_t i = 0; i < s->n; i++) {
		run_query(db, &s->v[i]);
		if (s->v[i].ck.status == DRILL_FAIL)
			failed++;
	}
	sqlite3_close(db);
	if (failed == 0) {
		drill_set(&s->ck, DRILL_PASS, NULL, NULL);
	} else {
		why = xasprintf("%zu of %zu queries failed", failed, s->n);
		drill_set(&s->ck, DRILL_FAIL, NULL, why);
		free(why);
	}
	s->ck.ms = mono_ms() - t0;
}

/* The window: the oldest snapshot to the newest object, in scope. */
static int
pitr_window(const struct drill *d, int64_t *from, int64_t *to)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	for (size_t i = 0; i < d->cat.ngen; i++) {
		const struct cat_gen *g = &d->cat.gens[i];

		if (g->nsnap == 0 || (d->o->generation != NULL &&
		    strcmp(g->id, d->o->generation) != 0))
			continue;
		for (size_t k = 0; k < g->nsnap; k++)
			if (g->snaps[k].mtime_ns < lo)
				lo = g->snaps[k].mtime_ns;
		if (g->updated_ns > hi)
			hi = g->updated_ns;
	}
	if (lo == INT64_MAX)
		return 0;
	*from = lo;
	*to = hi;
	return 1;
}

static void
check_pitr(struct drill *d)
{
	struct drill_pitr *pt = &d->rep->pitr;
	int64_t t0 = mono_ms(), step;
	size_t failed = 0;
	char *why;

	pt->n = (size_t)d->o->targets;
	pt->v = xcalloc(pt->n ? pt->n : 1, sizeof(*pt->v));
	if (pt->n == 0) {
		drill_set(&pt->ck, DRILL_SKIP, NULL, "--targets 0");
		return;
	}
	if (!pitr_window(d, &pt->from_ns, &pt->to_ns)) {
		pt->n = 0;
		drill_set(&pt->ck, DRILL_FAIL, NULL, "no snapshot to restore from");
		return;
	}
	/* Midpoints of n equal slices (divide first: no overflow). */
	step = (pt->to_ns - pt->from_ns) / (int64_t)(2 * pt->n);
	for (size_t i = 0; i < pt->n; i++) {
		struct drill_target *tg = &pt->v[i];
		struct plan_opts po = { .generation = d->o->generation,
		    .has_ts = 1 };
		struct restore_plan p = { 0 };
		struct lsc_err err = { 0 };
		int64_t t1 = mono_ms();

		tg->ck.name = "pitr";
		tg->ts_ns = po.ts_ns = pt->from_ns + step * (int64_t)(2 * i + 1);
		if (plan_make(&d->cat, &po, &p, &err) != LSC_OK ||
		    build(d, &p, d->pitr_db, RESTORE_NO_SYNC, &tg->rs, &err) !=
		    LSC_OK) {
			set_fail(d, &tg->ck, &err);
			failed++;
		} else {
			drill_set(&tg->ck, DRILL_PASS, NULL, NULL);
		}
		unlink(d->pitr_db);
		plan_release(&p);
		tg->ck.ms = mono_ms() - t1;
	}
	if (failed == 0) {
		drill_set(&pt->ck, DRILL_PASS, NULL, NULL);
	} else {
		why = xasprintf("%zu of %zu points in time did not restore",
		    failed, pt->n);
		drill_set(&pt->ck, DRILL_FAIL, NULL, why);
		free(why);
	}
	pt->ck.ms = mono_ms() - t0;
}

static void
names(struct drill_report *rep)
{
	rep->chain.ck.name = "chain";
	rep->latest.ck.name = "latest";
	rep->replay.ck.name = "replay";
	rep->pitr.ck.name = "pitr";
	rep->sql.ck.name = "sql";
	rep->latest.rto_ms = rep->latest.rpo_ms = -1;
}

void
drill_run(struct replica *r, const struct drill_opts *o, const char *workdir,
    struct drill_report *rep)
{
	struct drill d = { .r = r, .o = o, .rep = rep };
	struct drill_check *all[5];
	struct lsc_err err = { 0 };
	int64_t t0 = mono_ms();

	memset(rep, 0, sizeof(*rep));
	names(rep);
	rep->replica = r->url;
	rep->started_ns = now_ns();
	rep->max_lag_ms = o->max_lag_ms;
	d.latest_db = fs_join(workdir, "latest.db");
	d.replay_db = fs_join(workdir, "replay.db");
	d.pitr_db = fs_join(workdir, "pitr.db");
	d.list_ns = now_ns();
	if (catalog_load(r, &d.cat, &err) != LSC_OK) {
		char *why = xasprintf("cannot list the replica: %s", err.msg);

		drill_set(&rep->chain.ck, DRILL_FAIL, NULL, why);
		drill_set(&rep->latest.ck, DRILL_FAIL, NULL, why);
		drill_set(&rep->replay.ck, DRILL_SKIP, NULL, "no listing");
		drill_set(&rep->pitr.ck, DRILL_SKIP, NULL, "no listing");
		drill_set(&rep->sql.ck, DRILL_SKIP, NULL, "no listing");
		free(why);
		goto out;
	}
	d.list_ms = mono_ms() - t0;
	d.seen = drill_seen_new(&d.cat);
	log_info("drill: listed the replica\treplica=%s generations=%zu "
	    "elapsed_ms=%" PRId64, r->url, d.cat.ngen, d.list_ms);
	check_latest(&d);
	check_replay(&d);
	check_sql(&d);
	unlink(d.latest_db);
	check_pitr(&d);
	drill_chain_run(r, &d.cat, d.seen, o->generation, o->age_identity_file,
	    &rep->chain);
out:
	all[0] = &rep->chain.ck;
	all[1] = &rep->latest.ck;
	all[2] = &rep->replay.ck;
	all[3] = &rep->pitr.ck;
	all[4] = &rep->sql.ck;
	rep->status = DRILL_PASS;
	for (size_t i = 0; i < 5; i++)
		if (all[i]->status == DRILL_FAIL)
			rep->status = DRILL_FAIL;
	rep->ms = mono_ms() - t0;
	plan_release(&d.latest);
	drill_seen_free(d.seen);
	catalog_release(&d.cat);
	free(d.latest_db);
	free(d.replay_db);
	free(d.pitr_db);
}

static void
check_release(struct drill_check *ck)
{
	free(ck->reason);
	free(ck->object);
}

void
drill_report_release(struct drill_report *rep)
{
	if (rep == NULL)
		return;
	for (size_t i = 0; i < rep->chain.nproblem; i++) {
		free(rep->chain.problems[i].key);
		free(rep->chain.problems[i].msg);
	}
	free(rep->chain.problems);
	check_release(&rep->chain.ck);
	check_release(&rep->latest.ck);
	free(rep->latest.rs.snapshot);
	check_release(&rep->replay.ck);
	free(rep->replay.rs.snapshot);
	free(rep->replay.against);
	for (size_t i = 0; i < rep->pitr.n; i++) {
		check_release(&rep->pitr.v[i].ck);
		free(rep->pitr.v[i].rs.snapshot);
	}
	free(rep->pitr.v);
	check_release(&rep->pitr.ck);
	for (size_t i = 0; i < rep->sql.n; i++) {
		check_release(&rep->sql.v[i].ck);
		free(rep->sql.v[i].result);
	}
	free(rep->sql.v);
	check_release(&rep->sql.ck);
	memset(rep, 0, sizeof(*rep));
}
