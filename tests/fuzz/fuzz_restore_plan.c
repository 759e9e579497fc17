/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the restore planner over a synthetic listing (restore/catalog.c,
 * restore/plan.c), against a reference written from the rules in plan.h.
 *
 * Input: 4 bytes of options (which bounds, the time bound, the index
 * bound, the generation), then one object per 4 bytes: generation and
 * kind, index, offset, time.  Kinds: snapshot, WAL segment (its offset
 * written with 8, 9 or 16 digits: the same position under several
 * spellings), or a hostile key that is not ours ("../../x", "/abs",
 * "%2e%2e/", a 9-digit or non-hex index, index ffffffff, a control
 * character, a 2 KB key).  Keys may repeat, as a broken listing's pages
 * can.
 *
 * Properties: plan_make succeeds exactly when the reference does, with
 * the same error class (nothing found / corrupt); a plan never crosses
 * generations (the snapshot and every segment are of the chosen one,
 * which is the reference's); its snapshot is the reference's; its
 * segments are the reference's, in order; gaps, duplicate positions and
 * segments that do not start their index at offset 0 are refused; and a
 * hostile key is never in the catalog, but counted as foreign.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/catalog.h"
#include "restore/plan.h"

#define NGEN	4
#define MAXOBJ	512

static const char *const gens[NGEN] = {
	"0000000000000001", "00000000000000a2", "7fffffffffffffff",
	"fedcba9876543210",
};

struct obj {
	int		 gen;		/* index into gens, -1: not ours */
	int		 snap;
	uint32_t	 index;
	uint64_t	 offset;
	int64_t		 mtime;
	char		*key;
};

static char *
xfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
xfmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static char *
hostile_key(int g, uint8_t which)
{
	const char *id = gens[g];
	char *big;

	switch (which % 10) {
	case 0: return xfmt("../../x");
	case 1: return xfmt("/abs/generations/%s/snapshots/00000000.snapshot.lz4", id);
	case 2: return xfmt("generations/%s/%%2e%%2e/00000000.snapshot.lz4", id);
	case 3: return xfmt("generations/%s/snapshots/000000000.snapshot.lz4", id);
	case 4: return xfmt("generations/%s/wal/0000000g_00000000.wal.lz4", id);
	case 5: return xfmt("generations/%s/snapshots/ffffffff.snapshot.lz4", id);
	case 6: return xfmt("generations/%s/wal/000000000_00000000.wal.lz4", id);
	case 7: return xfmt("generations/%s/snapshots/00000000.snapshot.lz4\n", id);
	case 8: return xfmt("generations/%s/wal/00000000_00000000.wal.lz4.tmp", id);
	default:
		big = malloc(2049);
		memset(big, 'a', 2048);
		memcpy(big, "generations/", 12);
		big[2048] = '\0';
		return big;
	}
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct obj *)a)->key, ((const struct obj *)b)->key);
}

static int
within(const struct plan_opts *o, int64_t t, uint32_t index)
{
	return !(o->has_ts && t > o->ts_ns) && !(o->has_index && index > o->index);
}

static int
cmp_pos(const void *a, const void *b)
{
	const struct obj *x = *(const struct obj *const *)a;
	const struct obj *y = *(const struct obj *const *)b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return strcmp(x->key, y->key);
}

/*
 * The reference planner.  Returns LSC_OK with *gen_out, *snap_out and
 * the segments in seq[0..*nseq), or LSC_ENOTFOUND / LSC_ECORRUPT.
 */
static int
reference(struct obj *o, size_t n, const struct plan_opts *po, int *gen_out,
    struct obj **snap_out, struct obj **seq, size_t *nseq)
{
	int best = -1;
	int64_t best_upd = 0, best_created = 0;
	struct obj *best_snap = NULL, **segs;
	size_t ns = 0;

	for (int g = 0; g < NGEN; g++) {
		struct obj *snap = NULL;
		int64_t upd = INT64_MIN, created = INT64_MAX;
		int any = 0;

		if (po->generation && strcmp(po->generation, gens[g]) != 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (o[i].gen != g)
				continue;
			any = 1;
			if (o[i].mtime < created)
				created = o[i].mtime;
			if (!within(po, o[i].mtime, o[i].index))
				continue;
			if (o[i].mtime > upd)
				upd = o[i].mtime;
			if (o[i].snap && (snap == NULL || o[i].mtime > snap->mtime ||
			    (o[i].mtime == snap->mtime && o[i].index > snap->index)))
				snap = &o[i];
		}
		if (!any || snap == NULL)
			continue;
		if (best < 0 || upd > best_upd || (upd == best_upd &&
		    created > best_created) || (upd == best_upd &&
		    created == best_created && strcmp(gens[g], gens[best]) > 0)) {
			best = g;
			best_upd = upd;
			best_created = created;
			best_snap = snap;
		}
	}
	if (best < 0)
		return LSC_ENOTFOUND;
	segs = malloc((n + 1) * sizeof(*segs));
	for (size_t i = 0; i < n; i++)
		if (o[i].gen == best && !o[i].snap)
			segs[ns++] = &o[i];
	qsort(segs, ns, sizeof(*segs), cmp_pos);
	*nseq = 0;
	for (size_t i = 0; i < ns; i++) {
		struct obj *s = segs[i], *prev = *nseq ? seq[*nseq - 1] : NULL;

		if (s->index < best_snap->index)
			continue;
		if (!within(po, s->mtime, s->index))
			break;
		if ((prev == NULL && s->index != best_snap->index) ||
		    (prev != NULL && s->index == prev->index &&
		    s->offset == prev->offset) ||
		    (prev != NULL && s->index > prev->index + 1) ||
		    ((prev == NULL || s->index != prev->index) && s->offset != 0)) {
			free(segs);
			return LSC_ECORRUPT;
		}
		seq[(*nseq)++] = s;
	}
	free(segs);
	*gen_out = best;
	*snap_out = best_snap;
	return LSC_OK;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct obj objs[MAXOBJ], *snap = NULL, *seq[MAXOBJ];
	struct replica_list l = { 0 };
	struct catalog cat;
	struct restore_plan p;
	struct plan_opts po = { 0 };
	struct lsc_err e = { 0 };
	size_t n = 0, nseq = 0;
	int rc, want, g = -1;

	if (size < 4 || size > 4 + 4 * MAXOBJ)
		return 0;
	po.has_ts = data[0] & 1;
	po.has_index = (data[0] & 6) == 2;
	po.ts_ns = data[1];
	po.index = data[2] % 8;
	if (data[0] & 8)
		po.generation = gens[data[3] % NGEN];
	for (size_t off = 4; off + 4 <= size; off += 4) {
		const uint8_t *b = data + off;
		struct obj *o = &objs[n];
		int kind = b[0] >> 2 & 3;

		o->gen = b[0] % NGEN;
		o->snap = kind == 0;
		o->index = b[1] % 8;
		o->offset = (uint64_t)(b[2] % 8) * 4152;
		o->mtime = b[3];
		if (kind == 3 && (b[0] & 0x80)) {
			/* A key that repeats an earlier one, as a page may. */
			if (n == 0)
				continue;
			*o = objs[b[1] % n];
			o->key = strdup(o->key);
		} else if (kind == 3) {
			o->key = hostile_key(o->gen, b[1]);
			o->gen = -1;
		} else if (o->snap) {
			o->key = xfmt("generations/%s/snapshots/%08" PRIx32
			    ".snapshot.lz4", gens[o->gen], o->index);
		} else {
			int w = (b[0] >> 4 & 3) == 1 ? 9 : (b[0] >> 4 & 3) == 2 ?
			    16 : 8;

			o->key = xfmt("generations/%s/wal/%08" PRIx32 "_%0*" PRIx64
			    ".wal.lz4", gens[o->gen], o->index, w, o->offset);
		}
		replica_list_add(&l, o->key, 100, o->mtime);
		n++;
	}
	/* As replica_list hands it over: sorted, each key once (and the
	 * reference's objects likewise, sorted by key too). */
	replica_list_sort(&l);
	replica_list_dedup(&l);
	qsort(objs, n, sizeof(*objs), cmp_key);
	{
		size_t keep = 0;

		for (size_t i = 0; i < n; i++) {
			if (keep > 0 && strcmp(objs[keep - 1].key, objs[i].key) == 0) {
				free(objs[i].key);
				continue;
			}
			objs[keep++] = objs[i];
		}
		n = keep;
	}
	if (l.n != n)
		abort();

	catalog_build(&l, &cat);
	{
		/* Every object of ours is in the catalog under its generation,
		 * and nothing else is: hostile keys never reach it. */
		size_t ours = 0, in_cat = 0, foreign = 0;

		for (size_t i = 0; i < n; i++) {
			if (objs[i].gen >= 0)
				ours++;
			else
				foreign++;
		}
		for (size_t i = 0; i < cat.ngen; i++) {
			const struct cat_gen *cg = &cat.gens[i];
			char prefix[64];

			snprintf(prefix, sizeof(prefix), "generations/%s/", cg->id);
			for (size_t k = 0; k < cg->nsnap + cg->nseg; k++) {
				const struct cat_obj *co = k < cg->nsnap ?
				    &cg->snaps[k] : &cg->segs[k - cg->nsnap];
				struct layout_key lk;

				if (strncmp(co->key, prefix, strlen(prefix)) != 0 ||
				    layout_parse(co->key, &lk) != 0 ||
				    lk.index != co->index)
					abort();
				in_cat++;
			}
		}
		if (in_cat != ours || cat.nforeign != foreign ||
		    (foreign > 0) != (cat.foreign != NULL))
			abort();
	}

	want = reference(objs, n, &po, &g, &snap, seq, &nseq);
	rc = plan_make(&cat, &po, &p, &e);
	if (rc != want) {
		fprintf(stderr, "plan_make %d, reference %d: %s\n", rc, want, e.msg);
		abort();
	}
	if (rc == LSC_OK) {
		if (strcmp(p.gen->id, gens[g]) != 0 ||
		    strcmp(p.snap->key, snap->key) != 0 || p.nseg != nseq)
			abort();
		for (size_t i = 0; i < nseq; i++)
			if (strcmp(p.segs[i]->key, seq[i]->key) != 0 ||
			    p.segs[i]->index != seq[i]->index ||
			    p.segs[i]->offset != seq[i]->offset)
				abort();
		plan_release(&p);
	} else {
		for (const char *c = e.msg; *c; c++)
			if ((unsigned char)*c < 0x20)
				abort();
	}
	catalog_release(&cat);
	replica_list_free(&l);
	for (size_t i = 0; i < n; i++)
		free(objs[i].key);
	return 0;
}
