/* SPDX-License-Identifier: MIT */
/*
 * The restore's reader thread: objects of many sizes (empty, smaller than
 * a slot, many times the whole ring) come out whole and in order, each
 * followed by its end piece; a missing object, a corrupt one and the stop
 * flag end the stream with that verdict, naming the object, and nothing
 * after it; freeing the stream while the reader waits on a full ring
 * neither hangs nor leaks the thread.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "t.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/lz4frame.h"
#include "common/xmalloc.h"
#include "replica/replica.h"
#include "restore/objread.h"
#include "restore/rstream.h"

static char dir[] = "/tmp/lsc-test-rstream-XXXXXX";

/* Byte i of object k: as good as random, so LZ4 cannot shrink it. */
static uint8_t
byte_of(size_t k, size_t i)
{
	uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ULL + i;

	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 32;
	return (uint8_t)x;
}

static void
put_object(struct replica *r, const char *key, size_t k, size_t len)
{
	uint8_t *raw = xmalloc(len + 1), *z = NULL;
	size_t zlen = 0;
	struct lsc_err err = { 0 };

	for (size_t i = 0; i < len; i++)
		raw[i] = byte_of(k, i);
	T_EQ_INT(lz4_compress_buf(raw, len, &z, &zlen, &err), LSC_OK);
	T_EQ_INT(replica_put_buf(r, key, z, zlen, &err), LSC_OK);
	free(z);
	free(raw);
}

/* Read the stream to its end; 1 if every byte is right and in order. */
static int
drain(struct rstream *s, size_t n, const size_t *lens, size_t *ended,
    const struct rstream_piece **last)
{
	size_t obj = SIZE_MAX, at = 0;
	int ok = 1;

	*ended = 0;
	for (;;) {
		const struct rstream_piece *p = rstream_next(s);

		*last = p;
		if (p->obj != obj) {	/* the next object, from its start */
			ok &= p->obj == (obj == SIZE_MAX ? 0 : obj + 1) && at == 0;
			obj = p->obj;
		}
		if (!p->end) {
			ok &= p->len > 0;
			for (size_t i = 0; i < p->len; i++)
				ok &= p->data[i] == byte_of(obj, at + i);
			at += p->len;
			continue;
		}
		if (p->rc != LSC_OK)
			return ok;
		ok &= at == lens[obj];
		(*ended)++;
		at = 0;
		if (obj + 1 == n)
			return ok;
	}
}

static const size_t lens[] = { 0, 1, 100, RSTREAM_SLOT_BYTES,
    RSTREAM_SLOT_BYTES + 1, 5 * 1024 * 1024 + 3,
    3 * RSTREAM_SLOTS * RSTREAM_SLOT_BYTES, 4097, 0 };
#define NOBJ (sizeof(lens) / sizeof(lens[0]))

/* obj00.. as `lens` says, and "bad": an LZ4 frame with a flipped byte. */
static void
setup_objects(struct replica *r)
{
	uint8_t bad[] = { 0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9, 1, 0,
	    0, 0x80, 'x', 0, 0, 0, 0, 0, 0, 0, 0 };
	struct lsc_err err = { 0 };
	char name[32];

	for (size_t k = 0; k < NOBJ; k++) {
		snprintf(name, sizeof(name), "obj%02zu", k);
		put_object(r, name, k, lens[k]);
	}
	T_EQ_INT(replica_put_buf(r, "bad", bad, sizeof(bad), &err), LSC_OK);
}

static void
test_order(struct replica *r, struct rstream_opts *opts)
{
	size_t n = NOBJ, ended;
	const char *keys[NOBJ];
	const struct rstream_piece *last;
	struct lsc_err err = { 0 };
	struct rstream *s = NULL;
	struct objread o;
	char name[32];

	uint64_t sizes[NOBJ];

	for (size_t k = 0; k < n; k++) {
		snprintf(name, sizeof(name), "obj%02zu", k);
		keys[k] = xstrdup(name);
		/* stored sizes, near enough: the data barely compresses */
		sizes[k] = lens[k] + 64;
	}
	if (opts != NULL)
		opts->sizes = sizes;
	objread_init(&o, NULL);
	T_EQ_INT(rstream_start(&s, r, &o, keys, n, opts, NULL, &err), LSC_OK);
	T_CHECK(drain(s, n, lens, &ended, &last));
	T_EQ_INT(ended, n);
	T_CHECK(last->end && last->rc == LSC_OK && last->obj == n - 1);
	rstream_free(s);
	objread_release(&o);

	/* Object 3 is missing: objects 0..2, then its failure. */
	free((char *)keys[3]);
	keys[3] = xstrdup("nothere");
	objread_init(&o, NULL);
	T_EQ_INT(rstream_start(&s, r, &o, keys, n, opts, NULL, &err), LSC_OK);
	T_CHECK(drain(s, n, lens, &ended, &last));
	T_EQ_INT(ended, 3);
	T_CHECK(last->end && last->obj == 3 && last->rc == LSC_ENOTFOUND);
	T_CHECK(strstr(last->err.msg, "nothere") != NULL);
	rstream_free(s);
	objread_release(&o);

	/* A corrupt object (a flipped byte): its verdict is LSC_ECORRUPT. */
	{
		free((char *)keys[3]);
		keys[3] = xstrdup("bad");
		objread_init(&o, NULL);
		T_EQ_INT(rstream_start(&s, r, &o, keys, n, opts, NULL, &err), LSC_OK);
		(void)drain(s, n, lens, &ended, &last);
		T_EQ_INT(ended, 3);
		T_CHECK(last->end && last->obj == 3 && last->rc == LSC_ECORRUPT);
		T_CHECK(strstr(last->err.msg, "'bad'") != NULL);
		rstream_free(s);
		objread_release(&o);
	}

	/* Stop set: the reader ends with LSC_ESTOP at once. */
	{
		volatile sig_atomic_t stop = 1;

		if (opts != NULL)
			opts->sizes = sizes + 5;
		objread_init(&o, NULL);
		T_EQ_INT(rstream_start(&s, r, &o, keys + 5, 2, opts, &stop, &err),
		    LSC_OK);
		last = rstream_next(s);
		T_CHECK(last->end && last->obj == 0 && last->rc == LSC_ESTOP);
		rstream_free(s);
		objread_release(&o);
	}

	/* Freed mid-way, the reader blocked on a full ring: no hang. */
	if (opts != NULL)
		opts->sizes = sizes + 6;
	objread_init(&o, NULL);
	T_EQ_INT(rstream_start(&s, r, &o, keys + 6, 1, opts, NULL, &err), LSC_OK);
	last = rstream_next(s);
	T_CHECK(!last->end && last->obj == 0 && last->len > 0);
	rstream_free(s);	/* the reader is reading or waits for room */
	objread_release(&o);
	T_CHECK(1);		/* reached: rstream_free returned */

	for (size_t k = 0; k < n; k++)
		free((char *)keys[k]);
}

int
main(void)
{
	struct lsc_err err = { 0 };
	struct replica *r = NULL;
	char *cmd, *url;

	log_set_level(LOG_ERROR);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	url = xasprintf("file://%s", dir);
	T_EQ_INT(replica_open(url, NULL, 0, &r, &err), LSC_OK);
	free(url);
	setup_objects(r);
	test_order(r, NULL);
	/*
	 * The same with downloads ahead (a file replica serves as well as
	 * S3): 3 threads, and a budget that holds the small objects but not
	 * the big ones, which the reader then fetches itself.
	 */
	{
		char spool[sizeof(dir) + 8];
		struct rstream_opts opts = { 0 };

		snprintf(spool, sizeof(spool), "%s/spool", dir);
		T_EQ_INT(fs_mkdir_p(spool, 0700, &err), LSC_OK);
		opts.fetchers = 3;
		opts.spool_budget = 3 * 1024 * 1024;
		opts.spool_dir = spool;
		test_order(r, &opts);
		/* Unnamed temp files: nothing left behind. */
		cmd = xasprintf("test -z \"$(ls -A '%s')\"", spool);
		T_EQ_INT(system(cmd), 0);
		free(cmd);

		/*
		 * Downloads that cannot be stored (no such directory; files
		 * cut at 600 KiB, as on a full disk, after two of the file
		 * replica's 256 KiB reads): the reader fetches those objects
		 * itself, from where it got to, and all is as above.
		 */
		opts.spool_dir = "/nonexistent/lsc-spool";
		test_order(r, &opts);
		opts.spool_dir = spool;
		opts.spool_budget = 64 * 1024 * 1024;
		{
			struct rlimit old, lim;

			signal(SIGXFSZ, SIG_IGN);	/* EFBIG instead */
			getrlimit(RLIMIT_FSIZE, &old);
			lim = old;
			lim.rlim_cur = 600 * 1024;
			setrlimit(RLIMIT_FSIZE, &lim);
			test_order(r, &opts);
			setrlimit(RLIMIT_FSIZE, &old);
		}
	}
	replica_free(r);
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		perror(cmd);
	free(cmd);
	return t_done();
}
