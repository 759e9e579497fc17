/* SPDX-License-Identifier: MIT */
/*
 * The retention planner (daemon/retention.h) over synthetic listings:
 * one generation, many, an old current generation, a generation with no
 * snapshot, the grace period at its exact edges, clocks that run ahead or
 * behind, huge values, ties, keys that are not ours, delete order; then a
 * simulated writer over an hour of time with a retention pass every few
 * seconds, checking after each pass that every remaining snapshot is
 * restorable, that the latest chain is whole, that no restore younger
 * than the grace period loses an object, and that old data does go.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "daemon/retention.h"
#include "replica/replica.h"
#include "wal/wal_layout.h"

#define GA "aaaaaaaaaaaaaaaa"
#define GB "bbbbbbbbbbbbbbbb"
#define GC "cccccccccccccccc"
#define S(x) ((int64_t)(x) * 1000000000)	/* seconds to ns */

static struct replica_list L;
static struct ret_plan P;

static void
reset(void)
{
	ret_plan_release(&P);
	replica_list_free(&L);
}

static void
snap(const char *gen, unsigned idx, int64_t t_ns)
{
	char k[LAYOUT_KEY_MAX];

	layout_snapshot_key(gen, idx, k, sizeof(k));
	replica_list_add(&L, k, 100, t_ns);
}

static void
seg(const char *gen, unsigned idx, unsigned long long off, int64_t t_ns)
{
	char k[LAYOUT_KEY_MAX];

	layout_wal_key(gen, idx, off, k, sizeof(k));
	replica_list_add(&L, k, 10, t_ns);
}

static void
plan(int64_t now_ns, int64_t retention_ns, int64_t grace_ns, const char *cur)
{
	struct ret_opts o = { now_ns, retention_ns, grace_ns, cur };

	ret_plan_release(&P);
	ret_plan_make(&L, &o, &P);
}

static int
planned(const char *key)
{
	for (size_t i = 0; i < P.nkeys; i++)
		if (strcmp(P.keys[i], key) == 0)
			return 1;
	return 0;
}

static int
snap_gone(const char *gen, unsigned idx)
{
	char k[LAYOUT_KEY_MAX];

	layout_snapshot_key(gen, idx, k, sizeof(k));
	return planned(k);
}

static int
seg_gone(const char *gen, unsigned idx, unsigned long long off)
{
	char k[LAYOUT_KEY_MAX];

	layout_wal_key(gen, idx, off, k, sizeof(k));
	return planned(k);
}

/* Every key in the plan was listed, and appears once. */
static void
check_keys_sane(void)
{
	for (size_t i = 0; i < P.nkeys; i++) {
		int listed = 0;

		for (size_t j = 0; j < L.n; j++)
			listed |= strcmp(L.v[j].key, P.keys[i]) == 0;
		T_CHECK(listed);
		for (size_t j = i + 1; j < P.nkeys; j++)
			T_CHECK(strcmp(P.keys[i], P.keys[j]) != 0);
	}
	T_EQ_INT(P.nkeys, P.snapshots_deleted + P.segments_deleted);
}

/* One generation: snapshots at 0 (t=0), 2 (t=100), 4 (t=200); two
 * segments per index 0..5, written at 20*index seconds. */
static void
one_gen(const char *gen)
{
	snap(gen, 0, S(0));
	snap(gen, 2, S(100));
	snap(gen, 4, S(200));
	for (unsigned i = 0; i <= 5; i++) {
		seg(gen, i, 0, S(20 * i));
		seg(gen, i, 4152, S(20 * i + 5));
	}
}

static void
test_empty(void)
{
	plan(S(1000), S(10), 0, GA);
	T_EQ_INT(P.nkeys, 0);
	T_EQ_INT(P.gens_deleted, 0);
	T_EQ_INT(P.snapshot_needed, 0);
	/* junk only */
	replica_list_add(&L, "generations/" GA "/snapshots/x.tmp", 1, 0);
	replica_list_add(&L, "generations/notagen/wal/00000000_00000000.wal.lz4",
	    1, 0);
	replica_list_add(&L, "other/file", 1, 0);
	plan(S(1000), S(10), 0, NULL);
	T_EQ_INT(P.nkeys, 0);
	T_EQ_INT(P.gens_deleted, 0);
	reset();
}

static void
test_single_generation(void)
{
	one_gen(GA);
	/* cutoff 150: snapshot 4 kept, m = 4 */
	plan(S(250), S(100), 0, GA);
	check_keys_sane();
	T_CHECK(snap_gone(GA, 0));
	T_CHECK(snap_gone(GA, 2));
	T_CHECK(!snap_gone(GA, 4));
	for (unsigned i = 0; i <= 5; i++) {
		T_EQ_INT(seg_gone(GA, i, 0), i < 4);
		T_EQ_INT(seg_gone(GA, i, 4152), i < 4);
	}
	T_EQ_INT(P.snapshots_deleted, 2);
	T_EQ_INT(P.segments_deleted, 8);
	T_EQ_INT(P.snapshots_kept, 1);
	T_EQ_INT(P.segments_kept, 4);
	T_EQ_INT(P.gens_deleted, 0);
	T_EQ_INT(P.deferred, 0);
	T_EQ_INT(P.snapshot_needed, 0);
	/* Order: snapshots, then offset > 0, then offset 0. */
	T_EQ_INT(P.nsnap_keys, 2);
	T_EQ_INT(P.nseg_tail_keys, 4);
	for (size_t i = 0; i < P.nkeys; i++) {
		int is_snap = strstr(P.keys[i], ".snapshot.") != NULL;
		int zero = strstr(P.keys[i], "_00000000.wal") != NULL;

		T_EQ_INT(is_snap, i < P.nsnap_keys);
		if (!is_snap)
			T_EQ_INT(zero, i >= P.nsnap_keys + P.nseg_tail_keys);
	}

	/* cutoff 50: snapshots 2 and 4 kept, m = 2 */
	plan(S(150), S(100), 0, GA);
	T_CHECK(snap_gone(GA, 0) && !snap_gone(GA, 2) && !snap_gone(GA, 4));
	T_CHECK(seg_gone(GA, 1, 4152) && !seg_gone(GA, 2, 0));
	T_EQ_INT(P.nkeys, 5);

	/* everything within retention */
	plan(S(100), S(100), 0, GA);
	T_EQ_INT(P.nkeys, 0);

	/* all snapshots old: the newest stays with its chain, and a new
	 * snapshot is wanted for the current generation */
	plan(S(100000), S(100), 0, GA);
	T_CHECK(!snap_gone(GA, 4) && snap_gone(GA, 2));
	T_CHECK(!seg_gone(GA, 4, 0) && !seg_gone(GA, 5, 4152));
	T_EQ_INT(P.nkeys, 10);
	T_EQ_INT(P.snapshot_needed, 1);
	/* the same generation when it is not the current one: the newest
	 * snapshot of the replica still stays, but no snapshot is wanted */
	plan(S(100000), S(100), 0, GB);
	T_CHECK(!snap_gone(GA, 4));
	T_EQ_INT(P.nkeys, 10);
	T_EQ_INT(P.snapshot_needed, 0);
	plan(S(100000), S(100), 0, NULL);
	T_EQ_INT(P.nkeys, 10);
	reset();
}

static void
test_many_generations(void)
{
	/* A: old; B: old; C: current and recent. */
	one_gen(GA);
	snap(GB, 0, S(400));
	seg(GB, 0, 0, S(400));
	seg(GB, 1, 0, S(450));
	snap(GC, 0, S(1000));
	seg(GC, 0, 0, S(1000));
	seg(GC, 0, 4152, S(1010));
	plan(S(1100), S(300), 0, GC);
	check_keys_sane();
	T_EQ_INT(P.gens_deleted, 2);
	T_EQ_INT(P.snapshots_deleted, 4);
	T_EQ_INT(P.segments_deleted, 14);
	T_EQ_INT(P.snapshots_kept, 1);
	T_EQ_INT(P.segments_kept, 2);
	T_CHECK(snap_gone(GB, 0) && seg_gone(GB, 1, 0) && !snap_gone(GC, 0));
	/* B is within retention: it stays whole, A goes */
	plan(S(1100), S(800), 0, GC);
	T_EQ_INT(P.gens_deleted, 1);
	T_CHECK(!snap_gone(GB, 0) && !seg_gone(GB, 1, 0) && snap_gone(GA, 4));
	/* no current generation known: C is the newest, it stays */
	plan(S(100000), S(300), 0, NULL);
	T_EQ_INT(P.gens_deleted, 2);
	T_CHECK(!snap_gone(GC, 0) && !seg_gone(GC, 0, 4152));
	reset();
}

static void
test_old_current_generation(void)
{
	/* The current generation A is old; B (another writer, or a restore
	 * elsewhere) is newer.  A keeps its newest snapshot and the chain
	 * after it; B keeps its own newest. */
	one_gen(GA);
	snap(GB, 0, S(5000));
	snap(GB, 1, S(6000));
	seg(GB, 0, 0, S(5000));
	seg(GB, 1, 0, S(6000));
	plan(S(10000), S(100), 0, GA);
	check_keys_sane();
	T_CHECK(!snap_gone(GA, 4) && !seg_gone(GA, 4, 0) && !seg_gone(GA, 5, 4152));
	T_CHECK(snap_gone(GA, 2) && seg_gone(GA, 3, 4152));
	T_CHECK(!snap_gone(GB, 1) && !seg_gone(GB, 1, 0));
	T_CHECK(snap_gone(GB, 0) && seg_gone(GB, 0, 0));
	T_EQ_INT(P.gens_deleted, 0);
	T_EQ_INT(P.snapshot_needed, 1);
	/* If B is current instead, A goes whole. */
	plan(S(10000), S(100), 0, GB);
	T_EQ_INT(P.gens_deleted, 1);
	T_CHECK(snap_gone(GA, 4) && seg_gone(GA, 5, 4152));
	reset();
}

static void
test_missing_snapshot(void)
{
	/* A generation that never got a snapshot is not restorable. */
	seg(GA, 0, 0, S(0));
	seg(GA, 0, 4152, S(10));
	snap(GB, 0, S(100));
	seg(GB, 0, 0, S(100));
	plan(S(200), S(1000), 0, GB);
	T_EQ_INT(P.gens_deleted, 1);
	T_CHECK(seg_gone(GA, 0, 0) && seg_gone(GA, 0, 4152));
	T_CHECK(!snap_gone(GB, 0));
	/* ... but only once it has been so for the grace period */
	plan(S(200), S(1000), S(195), GB);
	T_CHECK(seg_gone(GA, 0, 0) && !seg_gone(GA, 0, 4152));
	T_EQ_INT(P.gens_deleted, 0);
	T_EQ_INT(P.deferred, 1);
	plan(S(200), S(1000), S(1000), GB);
	T_EQ_INT(P.nkeys, 0);
	T_EQ_INT(P.deferred, 2);
	/* The current generation is never deleted, even without a snapshot
	 * (its first one may be on its way), and B keeps its newest. */
	plan(S(100000), S(10), 0, GA);
	T_CHECK(!seg_gone(GA, 0, 0) && !seg_gone(GA, 0, 4152));
	T_CHECK(!snap_gone(GB, 0) && !seg_gone(GB, 0, 0));
	T_EQ_INT(P.nkeys, 0);
	T_EQ_INT(P.snapshot_needed, 0);
	reset();

	/* Snapshots deleted by hand (or a pass cut short): orphan segments
	 * below the lowest snapshot go; the snapshot's chain stays. */
	seg(GA, 0, 0, S(0));
	seg(GA, 1, 0, S(10));
	seg(GA, 2, 0, S(20));
	snap(GA, 2, S(20));
	seg(GA, 2, 4152, S(30));
	plan(S(40), S(1000), 0, GA);
	T_EQ_INT(P.nkeys, 2);
	T_CHECK(seg_gone(GA, 0, 0) && seg_gone(GA, 1, 0) && !seg_gone(GA, 2, 0));
	/* a missing segment in the middle of the chain is not our business:
	 * nothing above the snapshot is touched */
	reset();
	snap(GA, 0, S(0));
	seg(GA, 0, 0, S(0));
	seg(GA, 2, 0, S(20));
	plan(S(10000), S(10), 0, GA);
	T_EQ_INT(P.nkeys, 0);
	reset();
}

static void
test_grace(void)
{
	/* Superseded: snapshot 3 at t=200 supersedes snapshot 0 (t=0) once
	 * snapshot 0 is out of retention (50 s).  Grace 100 s: snapshot 0 and
	 * its segments go at t >= 300 exactly, not before. */
	snap(GA, 0, S(0));
	seg(GA, 0, 0, S(0));
	seg(GA, 1, 0, S(100));
	snap(GA, 3, S(200));
	seg(GA, 3, 0, S(200));
	plan(S(260), S(50), S(100), GA);
	T_EQ_INT(P.nkeys, 0);
	T_EQ_INT(P.deferred, 3);
	plan(S(300) - 1, S(50), S(100), GA);
	T_EQ_INT(P.nkeys, 0);
	plan(S(300), S(50), S(100), GA);
	T_EQ_INT(P.nkeys, 3);
	T_EQ_INT(P.deferred, 0);
	T_CHECK(snap_gone(GA, 0) && seg_gone(GA, 0, 0) && seg_gone(GA, 1, 0));
	reset();

	/* Expired: snapshot 0 (t=0) is superseded at t=10 but within
	 * retention (100 s) until t=100; with grace 50 s it goes at 150. */
	snap(GA, 0, S(0));
	seg(GA, 0, 0, S(0));
	snap(GA, 1, S(10));
	seg(GA, 1, 0, S(10));
	plan(S(105), S(100), S(50), GA);
	T_EQ_INT(P.nkeys, 0);
	T_EQ_INT(P.deferred, 2);
	plan(S(150), S(100), S(50), GA);
	T_EQ_INT(P.nkeys, 0);
	plan(S(150) + 1, S(100), S(50), GA);
	T_EQ_INT(P.nkeys, 2);
	/* no grace: exactly at retention it is still kept (>= cutoff) */
	plan(S(100), S(100), 0, GA);
	T_EQ_INT(P.nkeys, 0);
	plan(S(100) + 1, S(100), 0, GA);
	T_EQ_INT(P.nkeys, 2);
	reset();

	/* A whole generation superseded by a new one: it goes `grace` after
	 * the new generation's first snapshot, whose segments came first. */
	snap(GA, 0, S(0));
	seg(GA, 0, 0, S(0));
	seg(GB, 0, 0, S(95));
	snap(GB, 0, S(99));
	plan(S(108), S(1), S(10), GB);
	T_EQ_INT(P.nkeys, 0);
	plan(S(109), S(1), S(10), GB);
	T_EQ_INT(P.gens_deleted, 1);
	T_CHECK(snap_gone(GA, 0) && seg_gone(GA, 0, 0) && !snap_gone(GB, 0));
	reset();
}

static void
test_chains_closed(void)
{
	/* Grace longer than retention: as it was 10 s ago, generation A had
	 * no snapshot yet (its snapshot came after its segments), so the
	 * past view would delete its segments while the present one keeps
	 * nothing of it either -- but its snapshot is younger than the grace
	 * and stays, so its segments must stay too. */
	seg(GA, 0, 0, S(80));
	seg(GA, 0, 4152, S(85));
	snap(GA, 0, S(95));
	snap(GB, 0, S(99));
	seg(GB, 0, 0, S(99));
	plan(S(100), S(1), S(10), GB);
	T_EQ_INT(P.nkeys, 0);
	/* t=106: as of 96, A's snapshot is within retention (95 >= 95) */
	plan(S(106), S(1), S(10), GB);
	T_EQ_INT(P.nkeys, 0);
	/* t=108: as of 98, A's snapshot was the newest of the replica */
	plan(S(108), S(1), S(10), GB);
	T_EQ_INT(P.nkeys, 0);
	/* t=109: as of 99, B's snapshot superseded it */
	plan(S(109), S(1), S(10), GB);
	T_EQ_INT(P.nkeys, 3);
	T_EQ_INT(P.gens_deleted, 1);
	reset();
}

static void
test_clock_edges(void)
{
	/* Objects "from the future" (the store's clock runs ahead): they are
	 * the newest and stay, and they supersede nothing until they are in
	 * the past, even with no grace. */
	snap(GA, 0, S(0));
	seg(GA, 0, 0, S(0));
	snap(GA, 5, S(1000));
	seg(GA, 5, 0, S(1000));
	plan(S(500), S(100), 0, GA);
	T_EQ_INT(P.nkeys, 0);
	T_EQ_INT(P.deferred, 2);
	T_EQ_INT(P.snapshot_needed, 0);
	plan(S(1000), S(100), 0, GA);
	T_EQ_INT(P.nkeys, 2);
	/* Our clock far behind everything (say, 1970): nothing goes. */
	plan(0, S(100), S(10), GA);
	T_EQ_INT(P.nkeys, 0);
	/* Negative times, huge retention and grace: no overflow. */
	plan(INT64_MIN + 5, S(100), INT64_MAX, GA);
	T_EQ_INT(P.nkeys, 0);
	plan(INT64_MAX, INT64_MAX, 0, GA);
	T_EQ_INT(P.nkeys, 0);
	plan(INT64_MAX, 1, INT64_MAX, GA);
	T_EQ_INT(P.nkeys, 0);
	plan(INT64_MAX, 1, 0, GA);
	T_EQ_INT(P.nkeys, 2);
	/* Grace of 0 and "now" equal to an object's time. */
	plan(S(1000), 1, 0, GA);
	T_EQ_INT(P.nkeys, 2);
	reset();

	/* S3 LastModified has whole seconds: a snapshot and the snapshot
	 * that supersedes it can share a time.  Ties keep both. */
	snap(GA, 0, S(50));
	seg(GA, 0, 0, S(50));
	snap(GB, 0, S(50));
	seg(GB, 0, 0, S(50));
	plan(S(1000), S(10), 0, GB);
	T_EQ_INT(P.nkeys, 0);
	reset();
}

static void
test_latest_generation_protected(void)
{
	/* A restore of "the latest" picks the generation whose newest object
	 * is newest: here A (segments until t=900), not the current B whose
	 * newest object is at t=800.  A's newest snapshot and chain stay. */
	snap(GA, 0, S(0));
	for (unsigned i = 0; i < 10; i++)
		seg(GA, 0, i == 0 ? 0 : 32 + 4120ULL * i, S(100 * i));
	snap(GB, 0, S(800));
	seg(GB, 0, 0, S(800));
	plan(S(2000), S(100), 0, GB);
	T_EQ_INT(P.nkeys, 0);
	/* once B has newer objects, A goes */
	seg(GB, 0, 4152, S(1000));
	plan(S(2000), S(100), 0, GB);
	T_EQ_INT(P.gens_deleted, 1);
	T_EQ_INT(P.nkeys, 11);
	reset();
}

static void
test_wide_offsets_and_spellings(void)
{
	char k[LAYOUT_KEY_MAX];

	/* An offset past 4 GiB (9 digits, written by someone else). */
	snap(GA, 0, S(0));
	seg(GA, 0, 0, S(0));
	replica_list_add(&L, "generations/" GA "/wal/00000000_100000020.wal.lz4",
	    10, S(1));
	snap(GA, 1, S(500));
	seg(GA, 1, 0, S(500));
	plan(S(1000), S(100), 0, GA);
	T_EQ_INT(P.nkeys, 3);
	T_CHECK(planned("generations/" GA "/wal/00000000_100000020.wal.lz4"));
	/* offset > 0 goes before offset 0 */
	T_EQ_INT(P.nsnap_keys, 1);
	T_EQ_INT(P.nseg_tail_keys, 1);
	layout_wal_key(GA, 0, 0, k, sizeof(k));
	T_EQ_STR(P.keys[2], k);
	reset();
}

/*
 * The simulation: an hour of a writer with one tick per second.  Every
 * tick ships a segment; every 17 s the WAL index moves on; every 60 s a
 * snapshot (overwriting the key when the index has not moved); every
 * 900 s a new generation.  Every 7 s a "restore" lists the replica and
 * picks the latest chain (restore/plan.c's rules), then a retention pass
 * runs and its keys are deleted.
 */
#define SIM_SECONDS	3600
#define SIM_SNAP	60	/* snapshot interval */
#define SIM_MAX		(SIM_SECONDS + SIM_SECONDS / 60 + 8)

struct sobj {
	char		 key[LAYOUT_KEY_MAX];
	struct layout_key k;
	int64_t		 t;
	int		 present;
};

static struct sobj so[SIM_MAX];
static size_t nso;
static size_t lmap[SIM_MAX];	/* L.v[i] is so[lmap[i]] */

struct sim_restore {
	int64_t		 t;
	size_t		*objs;		/* indexes into so[] */
	size_t		 n;
};

static void
sput(const char *key, int64_t t)
{
	struct sobj *o;

	if (strstr(key, ".snapshot.") != NULL) {
		for (size_t i = 0; i < nso; i++) {
			if (so[i].present && strcmp(so[i].key, key) == 0) {
				so[i].t = t;	/* an overwrite refreshes the time */
				return;
			}
		}
	}
	o = &so[nso++];
	snprintf(o->key, sizeof(o->key), "%s", key);
	T_CHECK(layout_parse(key, &o->k) == 0);
	o->t = t;
	o->present = 1;
}

static void
rebuild_list(void)
{
	replica_list_free(&L);
	for (size_t i = 0; i < nso; i++) {
		if (so[i].present) {
			lmap[L.n] = i;
			replica_list_add(&L, so[i].key, 1, so[i].t);
		}
	}
}

/* The latest chain, as restore/plan.c would pick it; 0 if none. */
static size_t
latest_chain(struct sim_restore *r)
{
	const char *gen = NULL;
	int64_t best_up = INT64_MIN;
	size_t snap = (size_t)-1;

	/* generation: the newest object, among those with a snapshot */
	for (size_t i = 0; i < nso; i++) {
		int64_t up = INT64_MIN;
		int has = 0;

		if (!so[i].present || so[i].k.kind != LAYOUT_SNAPSHOT)
			continue;
		for (size_t j = 0; j < nso; j++) {
			if (so[j].present && strcmp(so[j].k.gen, so[i].k.gen) == 0) {
				has = 1;
				if (so[j].t > up)
					up = so[j].t;
			}
		}
		if (has && up > best_up) {
			best_up = up;
			gen = so[i].k.gen;
		}
	}
	r->n = 0;
	r->objs = NULL;
	if (gen == NULL)
		return 0;
	for (size_t i = 0; i < nso; i++)
		if (so[i].present && so[i].k.kind == LAYOUT_SNAPSHOT &&
		    strcmp(so[i].k.gen, gen) == 0 && (snap == (size_t)-1 ||
		    so[i].t > so[snap].t || (so[i].t == so[snap].t &&
		    so[i].k.index > so[snap].k.index)))
			snap = i;
	r->objs = calloc(nso, sizeof(size_t));
	r->objs[r->n++] = snap;
	for (size_t i = 0; i < nso; i++)
		if (so[i].present && so[i].k.kind == LAYOUT_WAL &&
		    strcmp(so[i].k.gen, gen) == 0 && so[i].k.index >= so[snap].k.index)
			r->objs[r->n++] = i;
	return r->n;
}

/* Every remaining snapshot still has every segment of its generation that
 * was ever written at or above its index. */
static int
chains_whole(void)
{
	for (size_t i = 0; i < nso; i++) {
		if (!so[i].present || so[i].k.kind != LAYOUT_SNAPSHOT)
			continue;
		for (size_t j = 0; j < nso; j++) {
			if (so[j].k.kind == LAYOUT_WAL && !so[j].present &&
			    strcmp(so[j].k.gen, so[i].k.gen) == 0 &&
			    so[j].k.index >= so[i].k.index) {
				printf("  snapshot %s lost segment %s\n", so[i].key,
				    so[j].key);
				return 0;
			}
		}
	}
	return 1;
}

static void
simulate(int64_t ret_s, int64_t grace_s)
{
	static struct sim_restore rs[SIM_SECONDS / 7 + 1];
	size_t nrs = 0, passes = 0, deleted = 0, broken = 0, raced = 0;
	size_t max_snaps = 0, snap_needed = 0, left = 0;
	char gen[GEN_ID_LEN + 1] = "", key[LAYOUT_KEY_MAX];
	unsigned gens = 0, idx = 0;
	uint64_t off = 0;
	int64_t oldest_left = INT64_MAX;

	for (int64_t t = 0; t < SIM_SECONDS; t++) {
		int64_t ns = S(t) + 123456789;	/* not on a second */

		if (t % 900 == 0) {
			snprintf(gen, sizeof(gen), "%016x", 0xabc000u + ++gens);
			idx = 0;
			off = 0;
		}
		layout_wal_key(gen, idx, off, key, sizeof(key));
		sput(key, ns);
		off = off == 0 ? 32 + 4120 : off + 4120;
		if (t % 900 == 0 || t % SIM_SNAP == SIM_SNAP - 1) {
			layout_snapshot_key(gen, idx, key, sizeof(key));
			sput(key, ns);
		}
		if (t % 17 == 16) {
			idx++;
			off = 0;
		}
		if (t % 7 != 3)
			continue;
		if (latest_chain(&rs[nrs]) > 0)
			rs[nrs++].t = ns;
		rebuild_list();
		plan(ns, S(ret_s), S(grace_s), gen);
		passes++;
		snap_needed += P.snapshot_needed;
		for (size_t i = 0; i < P.nkeys; i++) {
			size_t o = (size_t)-1;

			for (size_t j = 0; j < L.n; j++)
				if (L.v[j].key == P.keys[i])
					o = lmap[j];
			T_CHECK(o != (size_t)-1);
			if (o == (size_t)-1)
				continue;
			/* no restore younger than the grace loses an object */
			for (size_t r = 0; r < nrs; r++) {
				if (ns - rs[r].t >= S(grace_s))
					continue;
				for (size_t j = 0; j < rs[r].n; j++)
					raced += rs[r].objs[j] == o;
			}
			so[o].present = 0;
			deleted++;
		}
		broken += !chains_whole();
		{
			struct sim_restore now;
			size_t n = latest_chain(&now), nsnaps = 0;

			/* the newest chain is whole and the current generation's */
			T_CHECK(n > 0 && strcmp(so[now.objs[0]].k.gen, gen) == 0);
			free(now.objs);
			for (size_t i = 0; i < nso; i++)
				nsnaps += so[i].present &&
				    so[i].k.kind == LAYOUT_SNAPSHOT;
			if (nsnaps > max_snaps)
				max_snaps = nsnaps;
		}
	}
	for (size_t i = 0; i < nso; i++) {
		if (so[i].present) {
			left++;
			if (so[i].t < oldest_left)
				oldest_left = so[i].t;
		}
	}
	printf("  simulation (retention %llds, grace %llds): %zu passes, "
	    "%zu objects deleted, %zu left, at most %zu snapshots, oldest left "
	    "%llds before the end, %zu objects of young restores deleted\n",
	    (long long)ret_s, (long long)grace_s, passes, deleted, left, max_snaps,
	    (long long)((S(SIM_SECONDS) - oldest_left) / S(1)), raced);
	T_EQ_INT(broken, 0);
	if (grace_s > 0)
		T_EQ_INT(raced, 0);
	/* a snapshot is wanted only when retention is shorter than the
	 * snapshot interval */
	T_EQ_INT(snap_needed > 0, ret_s < SIM_SNAP);
	T_CHECK(deleted > 3000);
	/* old data went: nothing older than retention (or the snapshot
	 * interval, the newest snapshot stays) + grace + a pass interval + a
	 * snapshot interval (the chain of the oldest kept snapshot may start
	 * that far back) + an index */
	if (ret_s < SIM_SNAP)
		ret_s = SIM_SNAP;
	T_CHECK(S(SIM_SECONDS) - oldest_left <=
	    S(ret_s + grace_s + 7 + SIM_SNAP + 17));
	T_CHECK(max_snaps <= (size_t)((ret_s + grace_s + 7) / SIM_SNAP + 3));
	for (size_t r = 0; r < nrs; r++)
		free(rs[r].objs);
	nso = 0;
	reset();
}

static void
test_simulation(void)
{
	simulate(300, 45);
	simulate(20, 45);	/* retention shorter than the snapshot interval */
	simulate(1, 0);		/* no grace: deletes as soon as the rules allow */
}

int
main(void)
{
	test_empty();
	test_single_generation();
	test_many_generations();
	test_old_current_generation();
	test_missing_snapshot();
	test_grace();
	test_chains_closed();
	test_clock_edges();
	test_latest_generation_protected();
	test_wide_offsets_and_spellings();
	test_simulation();
	return t_done();
}
