/* SPDX-License-Identifier: MIT */
/*
 * The drill's pieces that need no real replica: the page comparison
 * (identical, one page changed, different lengths, a page size larger
 * than the chunk), the JSON strings (escapes, valid UTF-8 kept, invalid
 * bytes replaced), and the sharing between restores and the chain check:
 * over a synthetic catalog whose objects do not exist (an empty file
 * replica), the chain check must fetch exactly the units no restore
 * verified in full, so each such unit, and only it, is a "not found"
 * problem naming its key.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "common/err.h"
#include "common/log.h"
#include "replica/replica.h"
#include "restore/catalog.h"
#include "restore/drill.h"
#include "restore/drill_chain.h"
#include "restore/json.h"
#include "restore/pagecmp.h"
#include "restore/plan.h"

#define GA "aaaaaaaaaaaaaaaa"
#define GB "bbbbbbbbbbbbbbbb"
#define S(x) ((int64_t)(x) * 1000000000)

static char dir[] = "/tmp/lsc-test-drill-XXXXXX";

/* Write `n` bytes of `fill` to dir/name, with byte `at` (if < n) flipped. */
static char *
file(const char *name, size_t n, int fill, size_t at)
{
	static char paths[4][256];
	static int k;
	char *p = paths[k++ % 4];
	unsigned char *b = malloc(n ? n : 1);
	FILE *fp;

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	memset(b, fill, n);
	if (at < n)
		b[at] ^= 1;
	fp = fopen(p, "wb");
	fwrite(b, 1, n, fp);
	fclose(fp);
	free(b);
	return p;
}

static void
test_pagecmp(void)
{
	struct pagecmp c;
	struct lsc_err err = { 0 };
	char *a, *b;

	a = file("a", 10 * 4096, 7, SIZE_MAX);
	b = file("b", 10 * 4096, 7, SIZE_MAX);
	T_EQ_INT(pagecmp_files(a, b, 4096, &c, &err), LSC_OK);
	T_EQ_INT(c.pages_a, 10);
	T_EQ_INT(c.differ, 0);
	T_EQ_INT(c.first, 0);

	b = file("b", 10 * 4096, 7, 4 * 4096 + 17);	/* page 5 */
	T_EQ_INT(pagecmp_files(a, b, 4096, &c, &err), LSC_OK);
	T_EQ_INT(c.differ, 1);
	T_EQ_INT(c.first, 5);

	b = file("b", 12 * 4096, 7, SIZE_MAX);		/* two pages more */
	T_EQ_INT(pagecmp_files(a, b, 4096, &c, &err), LSC_OK);
	T_EQ_INT(c.pages_b, 12);
	T_EQ_INT(c.differ, 2);
	T_EQ_INT(c.first, 11);

	/* Pages larger than a chunk, and a chunk that is not a page multiple. */
	a = file("a", 3 * 65536, 1, SIZE_MAX);
	b = file("b", 3 * 65536, 1, 2 * 65536);
	T_EQ_INT(pagecmp_files(a, b, 65536, &c, &err), LSC_OK);
	T_EQ_INT(c.differ, 1);
	T_EQ_INT(c.first, 3);
	a = file("a", 3 * PAGECMP_CHUNK, 1, SIZE_MAX);
	b = file("b", 3 * PAGECMP_CHUNK, 1, PAGECMP_CHUNK + 3 * 3072);
	T_EQ_INT(pagecmp_files(a, b, 3072, &c, &err), LSC_OK);
	T_EQ_INT(c.differ, 1);
	T_EQ_INT(c.first, (PAGECMP_CHUNK + 3 * 3072) / 3072 + 1);

	T_EQ_INT(pagecmp_files(a, "/nonexistent/x", 4096, &c, &err), LSC_EIO);
	T_CHECK(strstr(err.msg, "/nonexistent/x") != NULL);
}

/* json_str of `in` as a string. */
static const char *
json(const char *in)
{
	static char out[256];
	FILE *fp = fmemopen(out, sizeof(out), "w");

	json_str(fp, in);
	fclose(fp);
	return out;
}

static void
test_json(void)
{
	T_EQ_STR(json("plain"), "\"plain\"");
	T_EQ_STR(json("a\"b\\c\n\x01\x7f"), "\"a\\\"b\\\\c\\u000a\\u0001\\u007f\"");
	T_EQ_STR(json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Invalid: a lone continuation, a truncated sequence, an overlong
	 * form, a surrogate, a lead byte above U+10FFFF. */
	T_EQ_STR(json("\x80"), "\"\\ufffd\"");
	T_EQ_STR(json("\xc3"), "\"\\ufffd\"");
	T_EQ_STR(json("\xe2\x82z"), "\"\\ufffd\\ufffdz\"");
	T_EQ_STR(json("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	T_EQ_STR(json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	T_EQ_STR(json("\xf5\x80\x80\x80"),
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

static void
add(struct replica_list *l, const char *gen, int snap, unsigned idx,
    unsigned off, int64_t t)
{
	char k[128];

	if (snap)
		snprintf(k, sizeof(k), "generations/%s/snapshots/%08x.snapshot.lz4",
		    gen, idx);
	else
		snprintf(k, sizeof(k), "generations/%s/wal/%08x_%08x.wal.lz4", gen,
		    idx, off);
	replica_list_add(l, k, 10, t);
}

/*
 * GA: snapshots at 1 (t=10) and 3 (t=50); index 0 below the oldest
 * snapshot; indexes 1..4.  GB: WAL only, no snapshot.
 */
static void
listing(struct replica_list *l)
{
	memset(l, 0, sizeof(*l));
	add(l, GA, 0, 0, 0, S(5));
	add(l, GA, 1, 1, 0, S(10));
	add(l, GA, 0, 1, 0, S(10));
	add(l, GA, 0, 1, 0x1000, S(12));
	add(l, GA, 0, 2, 0, S(30));
	add(l, GA, 0, 2, 0x1000, S(32));
	add(l, GA, 1, 3, 0, S(50));
	add(l, GA, 0, 3, 0, S(45));
	add(l, GA, 0, 3, 0x1000, S(60));
	add(l, GA, 0, 4, 0, S(70));
	add(l, GB, 0, 0, 0, S(80));
}

/* Run the chain check after the given plans; return it (caller frees). */
static void
chain_after(struct replica *r, const struct catalog *c, const int64_t *ts,
    int wal_ok, struct drill_chain *out)
{
	struct drill_seen *s = drill_seen_new(c);
	struct lsc_err err = { 0 };

	for (; *ts != 0; ts++) {
		struct plan_opts o = { .has_ts = *ts > 0, .ts_ns = *ts };
		struct restore_plan p;

		T_EQ_INT(plan_make(c, &o, &p, &err), LSC_OK);
		drill_seen_plan(s, &p, 4096, wal_ok);
		plan_release(&p);
	}
	memset(out, 0, sizeof(*out));
	out->ck.name = "chain";
	drill_chain_run(r, c, s, NULL, NULL, out);
	drill_seen_free(s);
}

static int
has_problem(const struct drill_chain *ch, const char *key)
{
	for (size_t i = 0; i < ch->nproblem; i++)
		if (ch->problems[i].key != NULL &&
		    strcmp(ch->problems[i].key, key) == 0 &&
		    strstr(ch->problems[i].msg, key) != NULL)
			return 1;
	return 0;
}

static void
chain_free(struct drill_chain *ch)
{
	struct drill_report rep = { 0 };

	rep.chain = *ch;
	drill_report_release(&rep);
}

static void
test_sharing(void)
{
	struct replica_list l;
	struct catalog c;
	struct replica *r = NULL;
	struct lsc_err err = { 0 };
	struct drill_chain ch;
	char url[128];
	/* latest (-1: no bound), then T=31: snapshot 1, 1:*, 2:0 (index 2 cut). */
	const int64_t both[] = { -1, S(31), 0 };
	const int64_t latest[] = { -1, 0 };

	snprintf(url, sizeof(url), "file://%s/empty", dir);
	T_EQ_INT(replica_open(url, NULL, 0, &r, &err), LSC_OK);
	listing(&l);
	catalog_build(&l, &c);

	chain_after(r, &c, both, 1, &ch);
	T_EQ_INT(ch.generations, 2);
	T_EQ_INT(ch.no_snapshot, 1);
	T_EQ_INT(ch.unreachable, 2);	/* GA index 0, GB's segment */
	T_EQ_INT(ch.snapshots, 2);
	T_EQ_INT(ch.segments, 7);
	T_EQ_INT(ch.bytes, 90);
	/* Only index 2 was read in part, so only it is fetched. */
	T_EQ_INT(ch.nproblem, 1);
	T_CHECK(has_problem(&ch, "generations/" GA "/wal/00000002_00000000.wal.lz4"));
	T_EQ_INT(ch.bytes_read, 20);
	T_EQ_INT(ch.ck.status, DRILL_FAIL);
	chain_free(&ch);

	/* A restore that dropped frames vouches for its snapshot only. */
	chain_after(r, &c, latest, 0, &ch);
	T_EQ_INT(ch.nproblem, 5);	/* snapshot 1, indexes 1..4 */
	T_CHECK(has_problem(&ch, "generations/" GA "/snapshots/00000001.snapshot.lz4"));
	T_CHECK(has_problem(&ch, "generations/" GA "/wal/00000003_00000000.wal.lz4"));
	T_CHECK(!has_problem(&ch, "generations/" GA "/snapshots/00000003.snapshot.lz4"));
	chain_free(&ch);

	/* Nothing seen: every unit is a problem; with no snapshot readable
	 * the WAL's page size is unknown, so it is named, not fetched. */
	chain_after(r, &c, (const int64_t[]){ 0 }, 1, &ch);
	T_EQ_INT(ch.nproblem, 6);
	T_EQ_INT(ch.bytes_read, 20);
	T_CHECK(ch.nproblem == 6 && strstr(ch.problems[5].msg, "WAL index "
	    "00000004 of generation " GA " not checked") != NULL);
	chain_free(&ch);

	T_EQ_STR(drill_find_key(&c, "x 'generations/" GA "/wal/00000003_00001000"
	    ".wal.lz4' and 'generations/" GA "/wal/00000002_00000000.wal.lz4'"),
	    "generations/" GA "/wal/00000003_00001000.wal.lz4");
	T_CHECK(drill_find_key(&c, "generations/" GA "/wal/00000009_00000000"
	    ".wal.lz4") == NULL);
	catalog_release(&c);
	replica_list_free(&l);
	replica_free(r);
}

int
main(void)
{
	char cmd[64];

	log_set_level(LOG_ERROR);
	if (mkdtemp(dir) == NULL)
		return 1;
	test_pagecmp();
	test_json();
	test_sharing();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("cannot remove %s\n", dir);
	return t_done();
}
