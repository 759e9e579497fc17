/* SPDX-License-Identifier: MIT */
/* Choosing generation, snapshot and segments (see plan.h for the rules). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "restore/plan.h"

static int
within(const struct plan_opts *o, const struct cat_obj *x)
{
	if (o->has_ts && x->mtime_ns > o->ts_ns)
		return 0;
	if (o->has_index && x->index > o->index)
		return 0;
	return 1;
}

/* The newest (or with o->oldest, the oldest) snapshot in bounds, or NULL. */
static const struct cat_obj *
pick_snapshot(const struct cat_gen *g, const struct plan_opts *o)
{
	const struct cat_obj *best = NULL;

	for (size_t i = 0; i < g->nsnap; i++) {
		const struct cat_obj *s = &g->snaps[i];

		if (!within(o, s))
			continue;
		if (best == NULL)
			best = s;
		else if (!o->oldest && (s->mtime_ns > best->mtime_ns ||
		    (s->mtime_ns == best->mtime_ns && s->index > best->index)))
			best = s;
		else if (o->oldest && (s->mtime_ns < best->mtime_ns ||
		    (s->mtime_ns == best->mtime_ns && s->index < best->index)))
			best = s;
	}
	return best;
}

/* The newest object time within the bounds (the generation has one). */
static int64_t
updated_within(const struct cat_gen *g, const struct plan_opts *o)
{
	int64_t t = INT64_MIN;

	for (size_t i = 0; i < g->nsnap; i++)
		if (within(o, &g->snaps[i]) && g->snaps[i].mtime_ns > t)
			t = g->snaps[i].mtime_ns;
	for (size_t i = 0; i < g->nseg; i++)
		if (within(o, &g->segs[i]) && g->segs[i].mtime_ns > t)
			t = g->segs[i].mtime_ns;
	return t;
}

static int
no_match(const struct catalog *c, const struct plan_opts *o,
    struct lsc_err *err)
{
	char ts[64];

	if (o->has_ts) {
		fmt_rfc3339(o->ts_ns, o->ts_ns % 1000000000 != 0, ts, sizeof(ts));
		if (o->generation != NULL)
			return lsc_seterr(err, LSC_ENOTFOUND, 0,
			    "no snapshot at or before %s in generation %s", ts,
			    o->generation);
		return lsc_seterr(err, LSC_ENOTFOUND, 0,
		    "no snapshot at or before %s", ts);
	}
	if (o->has_index)
		return lsc_seterr(err, LSC_ENOTFOUND, 0,
		    "no snapshot at or below index %" PRIx32 " (hex)%s%s",
		    o->index, o->generation ? " in generation " : "",
		    o->generation ? o->generation : "");
	if (o->generation != NULL)
		return lsc_seterr(err, LSC_ENOTFOUND, 0,
		    "generation %s has no snapshot", o->generation);
	if (c->ngen == 0)
		return lsc_seterr(err, LSC_ENOTFOUND, 0, "no backups found");
	return lsc_seterr(err, LSC_ENOTFOUND, 0, "no generation has a snapshot");
}

/* Select and check the segments to replay on top of `snap`. */
static int
pick_segments(const struct cat_gen *g, const struct cat_obj *snap,
    const struct plan_opts *o, struct restore_plan *p, struct lsc_err *err)
{
	const struct cat_obj *prev = NULL;

	p->segs = xcalloc(g->nseg ? g->nseg : 1, sizeof(*p->segs));
	p->nseg = 0;
	for (size_t i = 0; i < g->nseg; i++) {
		const struct cat_obj *s = &g->segs[i];

		if (s->index < snap->index)
			continue;	/* not needed; maybe half-pruned */
		if (!within(o, s))
			break;		/* everything after is after the bound */
		if (prev == NULL && s->index != snap->index)
			return lsc_seterr(err, LSC_ECORRUPT, 0,
			    "missing WAL index %08" PRIx32 " in generation %s: the "
			    "snapshot is at index %08" PRIx32 ", the next segment is "
			    "'%s'", snap->index, g->id, snap->index, s->key);
		if (prev != NULL && s->index == prev->index &&
		    s->offset == prev->offset)
			return lsc_seterr(err, LSC_ECORRUPT, 0,
			    "duplicate WAL segment in generation %s index %08" PRIx32
			    " offset %" PRIu64 ": '%s' and '%s'", g->id, s->index,
			    s->offset, prev->key, s->key);
		if (prev != NULL && s->index > prev->index + 1)
			return lsc_seterr(err, LSC_ECORRUPT, 0,
			    "missing WAL index %08" PRIx32 " in generation %s "
			    "(between '%s' and '%s')", prev->index + 1, g->id,
			    prev->key, s->key);
		if ((prev == NULL || s->index != prev->index) && s->offset != 0)
			return lsc_seterr(err, LSC_ECORRUPT, 0,
			    "missing initial WAL segment in generation %s index "
			    "%08" PRIx32 ": the first one is '%s'", g->id, s->index,
			    s->key);
		p->segs[p->nseg++] = s;
		prev = s;
	}
	return LSC_OK;
}

int
plan_make(const struct catalog *c, const struct plan_opts *o,
    struct restore_plan *out, struct lsc_err *err)
{
	const struct cat_gen *best = NULL;
	const struct cat_obj *best_snap = NULL;
	int64_t best_upd = 0;
	struct restore_plan p = { 0 };
	int rc;

	if (o->generation != NULL && catalog_find(c, o->generation) == NULL)
		return lsc_seterr(err, LSC_ENOTFOUND, 0,
		    "generation %s not found", o->generation);
	for (size_t i = 0; i < c->ngen; i++) {
		const struct cat_gen *g = &c->gens[i];
		const struct cat_obj *snap;
		int64_t upd;

		if (o->generation != NULL && strcmp(g->id, o->generation) != 0)
			continue;
		if ((snap = pick_snapshot(g, o)) == NULL)
			continue;
		upd = updated_within(g, o);
		if (best == NULL || upd > best_upd ||
		    (upd == best_upd && g->created_ns > best->created_ns) ||
		    (upd == best_upd && g->created_ns == best->created_ns &&
		    strcmp(g->id, best->id) > 0)) {
			best = g;
			best_snap = snap;
			best_upd = upd;
		}
	}
	if (best == NULL)
		return no_match(c, o, err);
	p.gen = best;
	p.snap = best_snap;
	if ((rc = pick_segments(best, best_snap, o, &p, err)) != LSC_OK) {
		plan_release(&p);
		return rc;
	}
	*out = p;
	return LSC_OK;
}

void
plan_release(struct restore_plan *p)
{
	if (p == NULL)
		return;
	free(p->segs);
	memset(p, 0, sizeof(*p));
}
