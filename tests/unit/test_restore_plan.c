/* SPDX-License-Identifier: MIT */
/*
 * The catalog and the restore planner over synthetic listings: sorting by
 * value whatever the store's order and offset width, junk keys, gaps,
 * duplicates, indexes below the snapshot, timestamp, index and generation
 * selection, and the oldest snapshot's chain (the drill's replay).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "common/err.h"
#include "replica/replica.h"
#include "restore/catalog.h"
#include "restore/plan.h"

#define GA "aaaaaaaaaaaaaaaa"
#define GB "bbbbbbbbbbbbbbbb"
#define S(x) ((int64_t)(x) * 1000000000)	/* seconds to ns */

static void
snap(struct replica_list *l, const char *gen, unsigned idx, int64_t t)
{
	char k[128];

	snprintf(k, sizeof(k), "generations/%s/snapshots/%08x.snapshot.lz4", gen,
	    idx);
	replica_list_add(l, k, 100, t);
}

static void
seg(struct replica_list *l, const char *gen, unsigned idx, unsigned long long off,
    int64_t t)
{
	char k[128];

	snprintf(k, sizeof(k), "generations/%s/wal/%08x_%08llx.wal.lz4", gen, idx,
	    off);
	replica_list_add(l, k, 10, t);
}

/* Plan over `l`; returns the code, fills *p on success, msg on failure. */
static int
plan(struct replica_list *l, const struct plan_opts *o, struct catalog *c,
    struct restore_plan *p, char *msg)
{
	struct lsc_err err = { 0 };
	int rc;

	catalog_build(l, c);
	memset(p, 0, sizeof(*p));
	rc = plan_make(c, o, p, &err);
	strcpy(msg, err.msg);
	return rc;
}

static void
done(struct replica_list *l, struct catalog *c, struct restore_plan *p)
{
	plan_release(p);
	catalog_release(c);
	replica_list_free(l);
}

/* Segments of a plan as "i:off,i:off" for compact checks. */
static const char *
segs_str(const struct restore_plan *p)
{
	static char b[512];
	size_t n = 0;

	b[0] = '\0';
	for (size_t i = 0; i < p->nseg; i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%s%x:%llx", i ? "," : "",
		    p->segs[i]->index, (unsigned long long)p->segs[i]->offset);
	return b;
}

static void
test_catalog_sorting(void)
{
	struct replica_list l = { 0 };
	struct catalog c;

	/* Unsorted, with junk, a 9-digit offset (sorts after 8 digits by
	 * value though not by text) and two generations. */
	seg(&l, GA, 1, 0x100000000ULL, S(9));
	replica_list_add(&l, "generations/" GA "/wal/00000001_00001038.wal.lz4.tmp", 1, S(1));
	seg(&l, GA, 1, 0x1038, S(8));
	snap(&l, GB, 0, S(20));
	replica_list_add(&l, "generations/" GA "/wal/1_0.wal.lz4", 1, S(1));
	replica_list_add(&l, "generations/XYZ/snapshots/00000000.snapshot.lz4", 1, S(1));
	replica_list_add(&l, "generations/" GA "/snapshots/00000000.snapshot.lz4.tmp", 1, S(1));
	replica_list_add(&l, "other/file", 1, S(1));
	seg(&l, GA, 0, 0, S(5));
	seg(&l, GA, 1, 0, S(7));
	snap(&l, GA, 0, S(4));
	catalog_build(&l, &c);
	T_EQ_INT(c.ngen, 2);
	T_EQ_STR(c.gens[0].id, GA);
	T_EQ_STR(c.gens[1].id, GB);
	T_EQ_INT(c.gens[0].nsnap, 1);
	T_EQ_INT(c.gens[0].nseg, 4);
	T_EQ_INT(c.gens[0].segs[0].index, 0);
	T_EQ_INT(c.gens[0].segs[1].offset, 0);
	T_EQ_INT(c.gens[0].segs[2].offset, 0x1038);
	T_EQ_INT(c.gens[0].segs[3].offset, 0x100000000LL);
	T_EQ_STR(c.gens[0].segs[3].key,
	    "generations/" GA "/wal/00000001_100000000.wal.lz4");
	T_EQ_INT(c.gens[0].created_ns, S(4));
	T_EQ_INT(c.gens[0].updated_ns, S(9));
	T_CHECK(catalog_find(&c, GB) == &c.gens[1]);
	T_CHECK(catalog_find(&c, "cccccccccccccccc") == NULL);
	catalog_release(&c);
	replica_list_free(&l);
}

/* The newest segment listed empty is still being written (a store that
 * writes in place lists it early): left out.  An empty one before it
 * stays, to be refused when read. */
static void
test_catalog_empty_last(void)
{
	struct replica_list l = { 0 };
	struct catalog c;

	snap(&l, GA, 0, S(1));
	seg(&l, GA, 0, 0, S(2));
	replica_list_add(&l, "generations/" GA "/wal/00000000_00001038.wal.lz4", 0, S(3));
	seg(&l, GA, 0, 0x2070, S(4));
	replica_list_add(&l, "generations/" GA "/wal/00000001_00000000.wal.lz4", 0, S(5));
	catalog_build(&l, &c);
	T_EQ_INT(c.gens[0].nseg, 3);
	T_EQ_INT(c.gens[0].segs[1].size, 0);
	T_EQ_INT(c.gens[0].segs[2].offset, 0x2070);
	catalog_release(&c);
	replica_list_free(&l);
}

/* One generation: snapshots at 0 (t=10) and 2 (t=50); indexes 0..3. */
static void
build_one(struct replica_list *l)
{
	seg(l, GA, 3, 0x1038, S(71));
	seg(l, GA, 2, 0, S(45));
	seg(l, GA, 0, 0, S(10));
	seg(l, GA, 0, 0x4080, S(12));
	seg(l, GA, 1, 0, S(30));
	seg(l, GA, 0, 0x90f8, S(20));
	seg(l, GA, 1, 0x1038, S(32));
	seg(l, GA, 2, 0x1038, S(60));
	seg(l, GA, 3, 0, S(70));
	snap(l, GA, 2, S(50));
	snap(l, GA, 0, S(10));
}

static void
test_latest_and_timestamps(void)
{
	struct replica_list l = { 0 };
	struct catalog c;
	struct restore_plan p;
	struct plan_opts o = { 0 };
	char msg[LSC_ERRLEN];

	/* Latest: the newest snapshot (2), then indexes 2 and 3 only. */
	build_one(&l);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(p.gen->id, GA);
	T_EQ_INT(p.snap->index, 2);
	T_EQ_STR(segs_str(&p), "2:0,2:1038,3:0,3:1038");
	done(&l, &c, &p);

	/* T between snapshots: snapshot 0 and every segment up to T. */
	build_one(&l);
	o.has_ts = 1;
	o.ts_ns = S(31);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.snap->index, 0);
	T_EQ_STR(segs_str(&p), "0:0,0:4080,0:90f8,1:0");
	done(&l, &c, &p);

	/* T exactly on an object's time includes it. */
	build_one(&l);
	o.ts_ns = S(50);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.snap->index, 2);
	T_EQ_STR(segs_str(&p), "2:0");
	done(&l, &c, &p);

	/* T after everything: the latest. */
	build_one(&l);
	o.ts_ns = S(100000);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.snap->index, 2);
	T_EQ_STR(segs_str(&p), "2:0,2:1038,3:0,3:1038");
	done(&l, &c, &p);

	/* T before the first snapshot: a clear not-found. */
	build_one(&l);
	o.ts_ns = S(9);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ENOTFOUND);
	T_CHECK(strstr(msg, "no snapshot at or before 1970-01-01T00:00:09Z") != NULL);
	done(&l, &c, &p);
}

static void
test_index(void)
{
	struct replica_list l = { 0 };
	struct catalog c;
	struct restore_plan p;
	struct plan_opts o = { .has_index = 1, .index = 1 };
	char msg[LSC_ERRLEN];

	build_one(&l);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.snap->index, 0);
	T_EQ_STR(segs_str(&p), "0:0,0:4080,0:90f8,1:0,1:1038");
	done(&l, &c, &p);

	/* At the snapshot's own index: that snapshot and its index only. */
	build_one(&l);
	o.index = 2;
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.snap->index, 2);
	T_EQ_STR(segs_str(&p), "2:0,2:1038");
	done(&l, &c, &p);

	/* Above everything: the latest, not an error (as Litestream). */
	build_one(&l);
	o.index = 0x7ffffffe;
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(segs_str(&p), "2:0,2:1038,3:0,3:1038");
	done(&l, &c, &p);

	/* Below every snapshot. */
	seg(&l, GA, 5, 0, S(1));
	snap(&l, GA, 5, S(1));
	o.index = 4;
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ENOTFOUND);
	T_CHECK(strstr(msg, "no snapshot at or below index 4") != NULL);
	done(&l, &c, &p);
}

static void
test_structure_errors(void)
{
	struct replica_list l = { 0 };
	struct catalog c;
	struct restore_plan p;
	struct plan_opts o = { 0 };
	char msg[LSC_ERRLEN];

	/* A missing index between two present ones. */
	snap(&l, GA, 0, S(1));
	seg(&l, GA, 0, 0, S(2));
	seg(&l, GA, 2, 0, S(3));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ECORRUPT);
	T_CHECK(strstr(msg, "missing WAL index 00000001") != NULL);
	done(&l, &c, &p);

	/* The snapshot's own index missing. */
	snap(&l, GA, 1, S(1));
	seg(&l, GA, 2, 0, S(3));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ECORRUPT);
	T_CHECK(strstr(msg, "missing WAL index 00000001") != NULL);
	done(&l, &c, &p);

	/* An index without its offset-0 segment. */
	snap(&l, GA, 0, S(1));
	seg(&l, GA, 0, 0, S(2));
	seg(&l, GA, 1, 0x1038, S(3));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ECORRUPT);
	T_CHECK(strstr(msg, "missing initial WAL segment") != NULL);
	T_CHECK(strstr(msg, "00000001_00001038") != NULL);
	done(&l, &c, &p);

	/* The same position spelled with 8 and 9 digits. */
	snap(&l, GA, 0, S(1));
	seg(&l, GA, 0, 0, S(2));
	seg(&l, GA, 0, 0x1038, S(3));
	replica_list_add(&l, "generations/" GA "/wal/00000000_000001038.wal.lz4",
	    10, S(3));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ECORRUPT);
	T_CHECK(strstr(msg, "duplicate WAL segment") != NULL);
	done(&l, &c, &p);

	/* Indexes below the snapshot are ignored, even half-pruned ones. */
	seg(&l, GA, 1, 0x1038, S(2));
	seg(&l, GA, 2, 0x2000, S(3));
	snap(&l, GA, 3, S(4));
	seg(&l, GA, 3, 0, S(4));
	seg(&l, GA, 4, 0, S(5));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(segs_str(&p), "3:0,4:0");
	done(&l, &c, &p);

	/* A snapshot with no segments at all is a snapshot-only restore. */
	snap(&l, GA, 7, S(4));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.nseg, 0);
	done(&l, &c, &p);

	/* A problem after the bound does not matter. */
	snap(&l, GA, 0, S(1));
	seg(&l, GA, 0, 0, S(2));
	seg(&l, GA, 2, 0, S(9));
	o.has_ts = 1;
	o.ts_ns = S(5);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(segs_str(&p), "0:0");
	done(&l, &c, &p);

	/* Empty replica. */
	o.has_ts = 0;
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ENOTFOUND);
	T_EQ_STR(msg, "no backups found");
	done(&l, &c, &p);

	/* Only segments, no snapshot. */
	seg(&l, GA, 0, 0, S(2));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ENOTFOUND);
	done(&l, &c, &p);
}

static void
test_generations(void)
{
	struct replica_list l = { 0 };
	struct catalog c;
	struct restore_plan p;
	struct plan_opts o = { 0 };
	char msg[LSC_ERRLEN];

	/* A: 10..40; B: 30..60; C: no snapshot, newest of all. */
#define BUILD() do {							\
	snap(&l, GA, 0, S(10)); seg(&l, GA, 0, 0, S(11));		\
	seg(&l, GA, 0, 0x4080, S(40));					\
	snap(&l, GB, 0, S(30)); seg(&l, GB, 0, 0, S(31));		\
	seg(&l, GB, 0, 0x4080, S(60));					\
	seg(&l, "cccccccccccccccc", 0, 0, S(99));			\
} while (0)
	BUILD();
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(p.gen->id, GB);
	done(&l, &c, &p);

	/* At T=35 A's newest state within T is at 11 and B's at 31: B.
	 * At T=20 only A existed. */
	BUILD();
	o.has_ts = 1;
	o.ts_ns = S(35);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(p.gen->id, GB);
	T_EQ_STR(segs_str(&p), "0:0");
	done(&l, &c, &p);
	BUILD();
	o.ts_ns = S(20);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(p.gen->id, GA);
	T_EQ_STR(segs_str(&p), "0:0");
	done(&l, &c, &p);

	/* --generation wins over recency; an unknown one is not found. */
	BUILD();
	o.has_ts = 0;
	o.generation = GA;
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(p.gen->id, GA);
	T_EQ_STR(segs_str(&p), "0:0,0:4080");
	done(&l, &c, &p);
	BUILD();
	o.generation = "dddddddddddddddd";
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ENOTFOUND);
	T_EQ_STR(msg, "generation dddddddddddddddd not found");
	done(&l, &c, &p);
	BUILD();
	o.generation = "cccccccccccccccc";
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ENOTFOUND);
	T_CHECK(strstr(msg, "has no snapshot") != NULL);
	done(&l, &c, &p);
#undef BUILD

	/* Equal times: the choice is still deterministic (greater id). */
	o.generation = NULL;
	snap(&l, GB, 0, S(5));
	snap(&l, GA, 0, S(5));
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_STR(p.gen->id, GB);
	done(&l, &c, &p);

	/* Snapshot overwritten later at the same index (format doc §10.11):
	 * a T before the overwrite cannot use it. */
	snap(&l, GA, 0, S(50));
	seg(&l, GA, 0, 0, S(10));
	o.has_ts = 1;
	o.ts_ns = S(20);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_ENOTFOUND);
	done(&l, &c, &p);
}

/* With `oldest`: the oldest snapshot in bounds and every segment since. */
static void
test_oldest(void)
{
	struct replica_list l = { 0 };
	struct catalog c;
	struct restore_plan p;
	struct plan_opts o = { .oldest = 1 };
	char msg[LSC_ERRLEN];

	build_one(&l);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.snap->index, 0);
	T_EQ_STR(segs_str(&p), "0:0,0:4080,0:90f8,1:0,1:1038,2:0,2:1038,3:0,3:1038");
	done(&l, &c, &p);

	/* The bounds still apply: the oldest at or before T, segments to T. */
	build_one(&l);
	o.has_ts = 1;
	o.ts_ns = S(31);
	T_EQ_INT(plan(&l, &o, &c, &p, msg), LSC_OK);
	T_EQ_INT(p.snap->index, 0);
	T_EQ_STR(segs_str(&p), "0:0,0:4080,0:90f8,1:0");
	done(&l, &c, &p);
}

int
main(void)
{
	test_catalog_sorting();
	test_catalog_empty_last();
	test_latest_and_timestamps();
	test_oldest();
	test_index();
	test_structure_errors();
	test_generations();
	return t_done();
}
