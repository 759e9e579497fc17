/* SPDX-License-Identifier: MIT */
/*
 * The chain check and the record of what the restores verified (see
 * drill_chain.h).  Per generation: the planner's chain from the oldest
 * snapshot (the indexes follow each other, each starts at offset 0, no
 * segment twice), then every snapshot and every WAL index from the oldest
 * snapshot's on, each verified on its own so that one bad object does not
 * hide the next.  A problem is recorded per object at fault.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/drill_chain.h"
#include "restore/verify.h"

struct drill_seen {
	const struct catalog *cat;
	uint8_t		**snap;		/* [gen][snapshot]: verified */
	uint8_t		**seg;		/* [gen][segment]: its index verified */
	uint32_t	*page_size;	/* [gen]: 0 until a snapshot is read */
};

struct drill_seen *
drill_seen_new(const struct catalog *c)
{
	struct drill_seen *s = xcalloc(1, sizeof(*s));
	size_t n = c->ngen ? c->ngen : 1;

	s->cat = c;
	s->snap = xcalloc(n, sizeof(*s->snap));
	s->seg = xcalloc(n, sizeof(*s->seg));
	s->page_size = xcalloc(n, sizeof(*s->page_size));
	for (size_t i = 0; i < c->ngen; i++) {
		s->snap[i] = xcalloc(c->gens[i].nsnap + 1, 1);
		s->seg[i] = xcalloc(c->gens[i].nseg + 1, 1);
	}
	return s;
}

void
drill_seen_free(struct drill_seen *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->cat->ngen; i++) {
		free(s->snap[i]);
		free(s->seg[i]);
	}
	free(s->snap);
	free(s->seg);
	free(s->page_size);
	free(s);
}

void
drill_seen_plan(struct drill_seen *s, const struct restore_plan *p,
    uint32_t page_size, int wal_ok)
{
	const struct cat_gen *g = p->gen;
	size_t gi = (size_t)(g - s->cat->gens), last;
	int last_whole;

	/* The plan points into the catalog: positions are array offsets. */
	s->snap[gi][p->snap - g->snaps] = 1;
	s->page_size[gi] = page_size;
	if (!wal_ok || p->nseg == 0)
		return;
	/* Only the plan's last index can be cut short (by its bound). */
	last = (size_t)(p->segs[p->nseg - 1] - g->segs);
	last_whole = last + 1 == g->nseg ||
	    g->segs[last + 1].index != g->segs[last].index;
	for (size_t i = 0; i < p->nseg; i++)
		if (last_whole || p->segs[i]->index != g->segs[last].index)
			s->seg[gi][p->segs[i] - g->segs] = 1;
}

const char *
drill_find_key(const struct catalog *c, const char *msg)
{
	const char *best = NULL, *at, *best_at = NULL;

	for (size_t i = 0; i < c->ngen; i++) {
		const struct cat_gen *g = &c->gens[i];

		for (size_t k = 0; k < g->nsnap + g->nseg; k++) {
			const char *key = k < g->nsnap ? g->snaps[k].key :
			    g->segs[k - g->nsnap].key;

			at = strstr(msg, key);
			if (at != NULL && (best_at == NULL || at < best_at)) {
				best = key;
				best_at = at;
			}
		}
	}
	return best;
}

static void
problem(struct drill_chain *out, const char *key, const char *msg)
{
	struct drill_problem *p;

	if (out->nproblem == DRILL_MAX_PROBLEMS) {
		out->more++;
		return;
	}
	if (out->problems == NULL)
		out->problems = xcalloc(DRILL_MAX_PROBLEMS, sizeof(*p));
	p = &out->problems[out->nproblem++];
	p->key = key != NULL ? xstrdup(key) : NULL;
	p->msg = xstrdup(msg);
	log_error("drill: chain: %s", msg);
}

/* Every snapshot of `g`; returns the generation's page size, or 0. */
static uint32_t
check_snapshots(struct replica *r, struct objread *rd, const struct cat_gen *g,
    const uint8_t *seen, uint32_t ps, struct drill_chain *out)
{
	for (size_t k = 0; k < g->nsnap; k++) {
		const struct cat_obj *o = &g->snaps[k];
		struct lsc_err err = { 0 };
		uint32_t got;
		char *msg;

		out->snapshots++;
		out->bytes += o->size;
		if (seen[k])
			continue;
		out->bytes_read += o->size;
		if (verify_snapshot(r, rd, g->id, o, NULL, &got, NULL, &err) !=
		    LSC_OK) {
			problem(out, o->key, err.msg);
		} else if (ps == 0) {
			ps = got;
		} else if (got != ps) {
			/* WAL mode cannot change the page size (not even VACUUM). */
			msg = xasprintf("snapshot '%s' has page size %" PRIu32 ", "
			    "the generation's others %" PRIu32, o->key, got, ps);
			problem(out, o->key, msg);
			free(msg);
		}
	}
	return ps;
}

/* One WAL index of `g`, segments [i, j), unless a restore read it all. */
static void
check_index(struct replica *r, struct objread *rd, const struct cat_gen *g,
    const uint8_t *seen,
    size_t i, size_t j, uint32_t ps, struct drill_chain *out)
{
	struct lsc_err err = { 0 };
	const char *culprit = NULL;
	uint64_t size = 0;
	int all_seen = 1;
	char *msg;

	for (size_t k = i; k < j; k++) {
		size += g->segs[k].size;
		all_seen = all_seen && seen[k];
	}
	out->segments += j - i;
	out->bytes += size;
	if (all_seen)
		return;
	if (ps == 0) {
		msg = xasprintf("WAL index %08" PRIx32 " of generation %s not "
		    "checked: no snapshot of it could be read for the page size",
		    g->segs[i].index, g->id);
		problem(out, g->segs[i].key, msg);
		free(msg);
		return;
	}
	out->bytes_read += size;
	if (verify_index(r, rd, g->id, &g->segs[i], j - i, ps, NULL, NULL, &culprit,
	    &err) != LSC_OK)
		problem(out, culprit, err.msg);
}

/*
 * Every WAL index of `g` from index `base` (its oldest snapshot's) on.
 * Lower ones no restore reads, and retention may be removing them.
 */
static void
check_indexes(struct replica *r, struct objread *rd, const struct cat_gen *g,
    const uint8_t *seen,
    uint32_t base, uint32_t ps, struct drill_chain *out)
{
	for (size_t i = 0, j; i < g->nseg; i = j) {
		for (j = i; j < g->nseg && g->segs[j].index == g->segs[i].index;
		    j++)
			;
		if (g->segs[i].index < base)
			out->unreachable += j - i;
		else
			check_index(r, rd, g, seen, i, j, ps, out);
	}
}

void
drill_chain_run(struct replica *r, const struct catalog *c,
    const struct drill_seen *s, const char *generation,
    const char *age_identity_file, struct drill_chain *out)
{
	int64_t t0 = mono_ms();
	char *why;

	for (size_t gi = 0; gi < c->ngen; gi++) {
		const struct cat_gen *g = &c->gens[gi];
		struct plan_opts po = { .generation = g->id, .oldest = 1 };
		struct restore_plan p = { 0 };
		struct lsc_err err = { 0 };
		uint32_t ps;

		if (generation != NULL && strcmp(g->id, generation) != 0)
			continue;
		out->generations++;
		if (g->nsnap == 0) {
			/* Nothing in it can be restored; the restores pick others. */
			out->no_snapshot++;
			out->unreachable += g->nseg;
			continue;
		}
		if (plan_make(c, &po, &p, &err) != LSC_OK)
			problem(out, drill_find_key(c, err.msg), err.msg);
		plan_release(&p);
		/* One reader per generation: it never mixes encrypted and
		 * plain objects (objread.h). */
		{
			struct objread rd;

			objread_init(&rd, age_identity_file);
			ps = check_snapshots(r, &rd, g, s->snap[gi],
			    s->page_size[gi], out);
			/* Snapshots are sorted by index: [0] is the lowest. */
			check_indexes(r, &rd, g, s->seg[gi], g->snaps[0].index, ps,
			    out);
			objread_release(&rd);
		}
	}
	out->ck.ms = mono_ms() - t0;
	if (out->generations == 0) {
		drill_set(&out->ck, DRILL_FAIL, NULL, generation != NULL ?
		    "the generation is not in the replica" : "no backups found");
	} else if (out->nproblem > 0) {
		why = xasprintf("%" PRIu64 " problem%s, the first: %s",
		    out->nproblem + out->more, out->nproblem + out->more == 1 ? "" :
		    "s", out->problems[0].msg);
		drill_set(&out->ck, DRILL_FAIL, out->problems[0].key, why);
		free(why);
	} else {
		drill_set(&out->ck, DRILL_PASS, NULL, NULL);
	}
}
