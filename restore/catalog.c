/* SPDX-License-Identifier: MIT */
/*
 * Building the catalog from a flat listing.  A store may list in any order
 * (Litestream issue #535), and offsets may have 8 to 16 digits, so key
 * order is not (index, offset) order: everything is sorted here by value.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/catalog.h"

static struct cat_gen *
gen_get(struct catalog *c, size_t *cap, const char *id)
{
	struct cat_gen *g;

	/* Listings are usually key-sorted, so the last one is the likely hit. */
	if (c->ngen > 0 && strcmp(c->gens[c->ngen - 1].id, id) == 0)
		return &c->gens[c->ngen - 1];
	for (size_t i = 0; i < c->ngen; i++)
		if (strcmp(c->gens[i].id, id) == 0)
			return &c->gens[i];
	if (c->ngen == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		c->gens = xreallocarray(c->gens, *cap, sizeof(*c->gens));
	}
	g = &c->gens[c->ngen++];
	memset(g, 0, sizeof(*g));
	memcpy(g->id, id, GEN_ID_LEN + 1);
	return g;
}

static void
obj_add(struct cat_obj **v, size_t *n, const struct replica_obj *o,
    const struct layout_key *k)
{
	struct cat_obj *x;

	/* Grow by powers of two: the count itself says when to. */
	if ((*n & (*n - 1)) == 0)
		*v = xreallocarray(*v, *n ? *n * 2 : 1, sizeof(**v));
	x = &(*v)[(*n)++];
	x->key = xstrdup(o->key);
	x->index = k->index;
	x->offset = k->kind == LAYOUT_WAL ? k->offset : 0;
	x->size = o->size;
	x->mtime_ns = o->mtime_ns;
}

static int
cmp_obj(const void *a, const void *b)
{
	const struct cat_obj *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	/* Same position under two spellings: keep a stable, total order. */
	return strcmp(x->key, y->key);
}

static int
cmp_gen(const void *a, const void *b)
{
	return strcmp(((const struct cat_gen *)a)->id,
	    ((const struct cat_gen *)b)->id);
}

void
catalog_build(const struct replica_list *l, struct catalog *out)
{
	struct catalog c = { 0 };
	size_t cap = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct layout_key k;
		struct cat_gen *g;

		if (layout_parse(l->v[i].key, &k) != 0) {
			/* Enough of it to recognise (a key may be 2 KB). */
			if (c.nforeign++ == 0)
				c.foreign = xstrndup(l->v[i].key, 200);
			continue;
		}
		g = gen_get(&c, &cap, k.gen);
		if (k.kind == LAYOUT_SNAPSHOT)
			obj_add(&g->snaps, &g->nsnap, &l->v[i], &k);
		else
			obj_add(&g->segs, &g->nseg, &l->v[i], &k);
		if (g->nsnap + g->nseg == 1 || l->v[i].mtime_ns < g->created_ns)
			g->created_ns = l->v[i].mtime_ns;
		if (g->nsnap + g->nseg == 1 || l->v[i].mtime_ns > g->updated_ns)
			g->updated_ns = l->v[i].mtime_ns;
	}
	for (size_t i = 0; i < c.ngen; i++) {
		struct cat_gen *g = &c.gens[i];

		if (g->nsnap > 1)
			qsort(g->snaps, g->nsnap, sizeof(*g->snaps), cmp_obj);
		if (g->nseg > 1)
			qsort(g->segs, g->nseg, sizeof(*g->segs), cmp_obj);
		/*
		 * A segment is never empty, but a store that writes objects in
		 * place (s3rver) lists the newest one before its bytes are
		 * there.  The generation's last one, listed empty, is still
		 * being written: leave it to the next listing.  (An empty one
		 * anywhere else is kept, and refused when read.)
		 */
		if (g->nseg > 0 && g->segs[g->nseg - 1].size == 0) {
			free(g->segs[g->nseg - 1].key);
			g->nseg--;
		}
	}
	if (c.ngen > 1)
		qsort(c.gens, c.ngen, sizeof(*c.gens), cmp_gen);
	*out = c;
}

int
catalog_load(struct replica *r, struct catalog *out, struct lsc_err *err)
{
	struct replica_list l;
	int rc;

	if ((rc = replica_list(r, "generations/", &l, err)) != LSC_OK)
		return rc;
	catalog_build(&l, out);
	replica_list_free(&l);
	/* The key is quoted by the logger, whatever bytes it holds. */
	if (out->nforeign > 0)
		log_warn("skipping objects that are not Litestream v0.3 "
		    "snapshots or WAL segments\treplica=%s count=%zu first=%s",
		    r->url, out->nforeign, out->foreign);
	return LSC_OK;
}

static void
objs_free(struct cat_obj *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
}

void
catalog_release(struct catalog *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ngen; i++) {
		objs_free(c->gens[i].snaps, c->gens[i].nsnap);
		objs_free(c->gens[i].segs, c->gens[i].nseg);
	}
	free(c->gens);
	free(c->foreign);
	memset(c, 0, sizeof(*c));
}

const struct cat_gen *
catalog_find(const struct catalog *c, const char *id)
{
	for (size_t i = 0; i < c->ngen; i++)
		if (strcmp(c->gens[i].id, id) == 0)
			return &c->gens[i];
	return NULL;
}
