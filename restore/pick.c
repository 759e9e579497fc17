/* SPDX-License-Identifier: MIT */
/* Choosing among a database's replicas (see pick.h). */
#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "restore/pick.h"

/* The newest object a plan reads. */
static int64_t
plan_time(const struct restore_plan *p)
{
	int64_t t = p->snap->mtime_ns;

	for (size_t i = 0; i < p->nseg; i++)
		if (p->segs[i]->mtime_ns > t)
			t = p->segs[i]->mtime_ns;
	return t;
}

/* Does plan `a` hold newer data than `b`? */
static int
newer(const struct restore_plan *a, const struct restore_plan *b)
{
	int c = strcmp(a->gen->id, b->gen->id);

	if (c == 0) {
		const struct cat_obj *la = a->nseg ? a->segs[a->nseg - 1] : a->snap;
		const struct cat_obj *lb = b->nseg ? b->segs[b->nseg - 1] : b->snap;

		if (la->index != lb->index)
			return la->index > lb->index;
		return la->offset > lb->offset;
	}
	if (plan_time(a) != plan_time(b))
		return plan_time(a) > plan_time(b);
	return c > 0;
}

static void
clear(struct pick *p)
{
	plan_release(&p->plan);
	catalog_release(&p->cat);
	replica_free(p->replica);
	memset(p, 0, sizeof(*p));
}

void
pick_release(struct pick *p)
{
	if (p != NULL)
		clear(p);
}

/* List and plan replica `i` into `p`. */
static int
try_one(const struct target *t, size_t i, const struct plan_opts *o,
    volatile sig_atomic_t *stop, struct pick *p, struct lsc_err *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->index = i;
	if ((rc = target_open(t, i, &p->replica, err)) != LSC_OK)
		return rc;
	p->replica->stop = stop;
	if ((rc = catalog_load(p->replica, &p->cat, err)) != LSC_OK)
		return rc;
	p->planned = 1;
	return plan_make(&p->cat, o, &p->plan, err);
}

int
pick_replica(const struct target *t, const struct plan_opts *o,
    volatile sig_atomic_t *stop, struct pick *out, struct lsc_err *err)
{
	struct pick best = { 0 }, cur;
	struct lsc_err first = { 0 };
	int have = 0, failed = 0, rc;

	memset(out, 0, sizeof(*out));

	if (t->nreps == 1) {
		if ((rc = try_one(t, 0, o, stop, out, err)) != LSC_OK) {
			int planned = out->planned;

			clear(out);
			out->planned = planned;
		}
		return rc;
	}
	for (size_t i = 0; i < t->nreps; i++) {
		struct lsc_err e = { 0 };

		rc = try_one(t, i, o, stop, &cur, &e);
		if (rc != LSC_OK) {
			if (rc != LSC_ENOTFOUND) {
				failed = 1;
				log_warn("cannot read a replica\treplica=%s url=%s "
				    "error=\"%s\"", t->reps[i].name, t->reps[i].url,
				    e.msg);
			}
			/* The first failure, a listing's before "no backup". */
			if (first.code == 0 || (first.code == LSC_ENOTFOUND &&
			    rc != LSC_ENOTFOUND))
				first = e;
			clear(&cur);
			continue;
		}
		if (!have || newer(&cur.plan, &best.plan)) {
			clear(&best);
			best = cur;
			have = 1;
		} else {
			clear(&cur);
		}
	}
	if (!have) {	/* a listing's failure wins over "no backup" */
		out->planned = !failed;
		return lsc_seterr(err, first.code, first.sys, "%s%s", first.msg,
		    failed ? "" : " (on every replica)");
	}
	{
		const struct cat_obj *last = best.plan.nseg ?
		    best.plan.segs[best.plan.nseg - 1] : best.plan.snap;

		log_info("restoring from the replica with the newest data\t"
		    "replica=%s url=%s generation=%s index=%08" PRIx32
		    " offset=%" PRIu64, t->reps[best.index].name,
		    t->reps[best.index].url, best.plan.gen->id, last->index,
		    last->offset);
	}
	*out = best;
	return LSC_OK;
}
