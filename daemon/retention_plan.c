/* SPDX-License-Identifier: MIT */
/*
 * The retention planner (rules in daemon/retention.h).  The listing is
 * parsed and sorted by (generation, snapshots before segments, index,
 * offset) so each generation is one run of items; the rules are applied
 * twice, once to the replica as it is and once to the replica as it was
 * `grace` ago, and only what both delete goes.
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "daemon/retention.h"
#include "wal/wal_layout.h"

struct item {
	const char	*key;		/* borrowed from the listing */
	char		 gen[GEN_ID_LEN + 1];
	int		 is_snap;
	uint32_t	 index;
	uint64_t	 offset;	/* segments only */
	int64_t		 mtime_ns;
};

struct run {
	size_t		 first, n;	/* items[first .. first + n) */
	int		 current;
};

struct ctx {
	const struct ret_opts *o;
	struct item	*items;
	size_t		 nitems;
	struct run	*gens;
	size_t		 ngens;
};

static int
cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->gen, y->gen);

	if (c != 0)
		return c;
	if (x->is_snap != y->is_snap)
		return x->is_snap ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	/* The same position under two spellings (8 or more offset digits). */
	return strcmp(x->key, y->key);
}

/* a - b, clamped to INT64_MIN: a huge retention must not wrap around. */
static int64_t
sub_sat(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_sub_overflow(a, b, &r))
		return b > 0 ? INT64_MIN : INT64_MAX;
	return r;
}

/*
 * Apply rules 1-3 to the objects with time <= vis_ns, with "now" = now_ns;
 * set del[i] for each item they would delete.  *snap_needed (may be NULL)
 * says whether the current generation has snapshots but none recent.
 */
static void
mark(const struct ctx *c, int64_t vis_ns, int64_t now_ns, unsigned char *del,
    int *snap_needed)
{
	int64_t cutoff = sub_sat(now_ns, c->o->retention_ns);
	int64_t newest_all = INT64_MIN, latest_updated = INT64_MIN;
	int64_t *newest = xcalloc(c->ngens ? c->ngens : 1, sizeof(int64_t));
	int64_t *updated = xcalloc(c->ngens ? c->ngens : 1, sizeof(int64_t));

	for (size_t g = 0; g < c->ngens; g++) {
		const struct run *r = &c->gens[g];

		newest[g] = updated[g] = INT64_MIN;
		for (size_t i = r->first; i < r->first + r->n; i++) {
			const struct item *it = &c->items[i];

			if (it->mtime_ns > vis_ns)
				continue;
			if (it->mtime_ns > updated[g])
				updated[g] = it->mtime_ns;
			if (it->is_snap && it->mtime_ns > newest[g])
				newest[g] = it->mtime_ns;
		}
		if (newest[g] == INT64_MIN)
			continue;	/* no snapshot: a restore never picks it */
		if (newest[g] > newest_all)
			newest_all = newest[g];
		if (updated[g] > latest_updated)
			latest_updated = updated[g];
	}

	for (size_t g = 0; g < c->ngens; g++) {
		const struct run *r = &c->gens[g];
		int protect = r->current || updated[g] == latest_updated;
		uint32_t m = 0;
		int any_kept = 0;

		if (newest[g] == INT64_MIN && r->current)
			continue;	/* its first snapshot may be on its way */
		for (size_t i = r->first; i < r->first + r->n; i++) {
			const struct item *it = &c->items[i];

			if (!it->is_snap || it->mtime_ns > vis_ns)
				continue;
			if (it->mtime_ns >= cutoff || it->mtime_ns == newest_all ||
			    (protect && it->mtime_ns == newest[g])) {
				if (!any_kept || it->index < m)
					m = it->index;
				any_kept = 1;
			}
		}
		for (size_t i = r->first; i < r->first + r->n; i++) {
			const struct item *it = &c->items[i];

			if (it->mtime_ns <= vis_ns && (!any_kept || it->index < m))
				del[i] = 1;
		}
		if (r->current && snap_needed != NULL)
			*snap_needed = newest[g] != INT64_MIN && newest[g] < cutoff;
	}
	free(newest);
	free(updated);
}

/* Rule 5: a snapshot that stays keeps every segment at or above it. */
static void
close_chains(const struct ctx *c, unsigned char *del)
{
	for (size_t g = 0; g < c->ngens; g++) {
		const struct run *r = &c->gens[g];
		uint32_t low = 0;
		int any = 0;

		for (size_t i = r->first; i < r->first + r->n; i++) {
			const struct item *it = &c->items[i];

			if (it->is_snap && !del[i] && (!any || it->index < low)) {
				low = it->index;
				any = 1;
			}
		}
		for (size_t i = r->first; any && i < r->first + r->n; i++)
			if (!c->items[i].is_snap && c->items[i].index >= low)
				del[i] = 0;
	}
}

static void
load(const struct replica_list *l, const struct ret_opts *o, struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->items = xcalloc(l->n ? l->n : 1, sizeof(*c->items));
	for (size_t i = 0; i < l->n; i++) {
		struct layout_key k;
		struct item *it;

		if (layout_parse(l->v[i].key, &k) != 0)
			continue;	/* not ours: never deleted */
		it = &c->items[c->nitems++];
		it->key = l->v[i].key;
		memcpy(it->gen, k.gen, sizeof(it->gen));
		it->is_snap = k.kind == LAYOUT_SNAPSHOT;
		it->index = k.index;
		it->offset = it->is_snap ? 0 : k.offset;
		it->mtime_ns = l->v[i].mtime_ns;
	}
	qsort(c->items, c->nitems, sizeof(*c->items), cmp_item);
	c->gens = xcalloc(c->nitems ? c->nitems : 1, sizeof(*c->gens));
	for (size_t i = 0; i < c->nitems; i++) {
		struct run *r;

		if (i == 0 || strcmp(c->items[i].gen, c->items[i - 1].gen) != 0) {
			r = &c->gens[c->ngens++];
			r->first = i;
			r->current = o->current_gen != NULL &&
			    strcmp(o->current_gen, c->items[i].gen) == 0;
		}
		c->gens[c->ngens - 1].n++;
	}
}

void
ret_plan_make(const struct replica_list *l, const struct ret_opts *o,
    struct ret_plan *out)
{
	struct ctx c;
	unsigned char *now_del, *then_del;
	size_t n;

	memset(out, 0, sizeof(*out));
	load(l, o, &c);
	n = c.nitems ? c.nitems : 1;
	now_del = xcalloc(n, 1);
	then_del = xcalloc(n, 1);
	/* As it is (objects "from the future" included, and kept). */
	mark(&c, INT64_MAX, o->now_ns, now_del, &out->snapshot_needed);
	/* As it was `grace` ago. */
	{
		int64_t then = sub_sat(o->now_ns, o->grace_ns < 0 ? 0 : o->grace_ns);

		mark(&c, then, then, then_del, NULL);
	}
	for (size_t i = 0; i < c.nitems; i++)
		then_del[i] = then_del[i] && now_del[i];
	close_chains(&c, then_del);

	out->keys = xcalloc(n, sizeof(*out->keys));
	for (int phase = 0; phase < 3; phase++) {
		for (size_t i = 0; i < c.nitems; i++) {
			const struct item *it = &c.items[i];
			int p = it->is_snap ? 0 : it->offset > 0 ? 1 : 2;

			if (p == phase && then_del[i])
				out->keys[out->nkeys++] = it->key;
		}
		if (phase == 0)
			out->nsnap_keys = out->nkeys;
		else if (phase == 1)
			out->nseg_tail_keys = out->nkeys - out->nsnap_keys;
	}
	for (size_t i = 0; i < c.nitems; i++) {
		const struct item *it = &c.items[i];

		if (then_del[i]) {
			if (it->is_snap)
				out->snapshots_deleted++;
			else
				out->segments_deleted++;
		} else {
			if (it->is_snap)
				out->snapshots_kept++;
			else
				out->segments_kept++;
			if (now_del[i])
				out->deferred++;
		}
	}
	for (size_t g = 0; g < c.ngens; g++) {
		size_t gone = 0;

		for (size_t i = c.gens[g].first; i < c.gens[g].first + c.gens[g].n; i++)
			gone += then_del[i];
		if (gone == c.gens[g].n)
			out->gens_deleted++;
	}
	free(now_del);
	free(then_del);
	free(c.items);
	free(c.gens);
}

void
ret_plan_release(struct ret_plan *p)
{
	free(p->keys);
	memset(p, 0, sizeof(*p));
}
