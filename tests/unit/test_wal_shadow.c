/* SPDX-License-Identifier: MIT */
/*
 * The shadow WAL against synthetic WALs (and a synthetic wal-index):
 * only whole transactions reach the shadow file, even across batches;
 * resume cuts a torn or uncommitted tail; a chain that stops short of
 * what the wal-index calls committed loses continuity instead of waiting
 * quietly; a WAL truncated at a restart is not taken as continuous.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "t.h"
#include "wal/shadow.h"
#include "wal/wal_format.h"

#define PAGE	512
#define FLEN	(WAL_FRAME_HDR_LEN + PAGE)

static char *dir, *db, *wal, *shm;

/* A synthetic WAL being built: its header and the running checksum. */
struct synth {
	struct wal_hdr	 h;
	uint8_t		 raw[WAL_HDR_LEN];
	uint32_t	 s[2];
	int		 fd;
	uint64_t	 off;		/* where the next frame goes */
};

static void
synth_start(struct synth *w, uint32_t salt1, int truncate)
{
	memset(w, 0, sizeof(*w));
	w->h.page_size = PAGE;
	w->h.salt1 = salt1;
	w->h.salt2 = salt1 * 7919u;
	wal_hdr_encode(&w->h, w->raw);
	wal_hdr_parse(w->raw, &w->h, NULL);
	w->s[0] = w->h.cksum1;
	w->s[1] = w->h.cksum2;
	w->fd = open(wal, O_RDWR | O_CREAT | (truncate ? O_TRUNC : 0), 0644);
	pwrite_full(w->fd, w->raw, WAL_HDR_LEN, 0);
	w->off = WAL_HDR_LEN;
}

/* Append `n` frames; the last one commits when `commit` is set. */
static void
synth_frames(struct synth *w, int n, int commit, uint8_t fill)
{
	uint8_t page[PAGE], f[FLEN];

	for (int i = 0; i < n; i++) {
		memset(page, fill + i, sizeof(page));
		wal_frame_encode(&w->h, (uint32_t)(i % 50) + 1,
		    commit && i == n - 1 ? 60 : 0, page, w->s, f);
		pwrite_full(w->fd, f, FLEN, (off_t)w->off);
		w->off += FLEN;
	}
}

/* A wal-index header (both copies) saying `mx` frames of `w`'s cycle
 * are committed, as SQLite writes it: native byte order. */
static void
synth_shm(const struct synth *w, uint32_t mx)
{
	uint8_t b[136] = { 0 };
	uint32_t v = 3007000, s[2] = { 0, 0 };
	const uint16_t one = 1;
	int fd;

	memcpy(b, &v, 4);
	b[12] = 1;					/* isInit */
	memcpy(b + 16, &mx, 4);
	memcpy(b + 32, w->raw + 16, 8);			/* salts */
	wal_checksum(*(const uint8_t *)&one == 0, b, 40, s);
	memcpy(b + 40, s, 8);
	memcpy(b + 48, b, 48);
	fd = open(shm, O_RDWR | O_CREAT | O_TRUNC, 0644);
	pwrite_full(fd, b, sizeof(b), 0);
	close(fd);
}

/* 1 if the shadow file of `index` is exactly the WAL's first `len` bytes. */
static int
shadow_is_wal_prefix(struct shadow *sh, uint32_t index, uint64_t len)
{
	char *path = shadow_path(sh, index), *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	int same;

	fs_read_small(path, 1 << 24, &a, &alen, NULL);
	fs_read_small(wal, 1 << 24, &b, &blen, NULL);
	same = a != NULL && b != NULL && alen == len && blen >= len &&
	    memcmp(a, b, len) == 0;
	free(a);
	free(b);
	free(path);
	return same;
}

static void
fresh(void)
{
	char *cmd = xasprintf("rm -rf '%s'/.db-litestream '%s' '%s'", dir, wal,
	    shm);

	T_EQ_INT(system(cmd), 0);
	free(cmd);
}

/* Transactions that span batches, an uncommitted tail, its commit. */
static void
test_whole_transactions(void)
{
	struct shadow sh;
	struct shadow_capture res;
	struct synth w;
	const char *reason = "unset";

	fresh();
	synth_start(&w, 100, 1);
	synth_frames(&w, 3, 1, 1);
	synth_frames(&w, 600, 1, 2);	/* more than two batches of 256 */
	synth_frames(&w, 10, 0, 3);	/* not committed (yet) */
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	/* Generation ids are time-ordered: a later one sorts after (a
	 * restore breaks a tie of S3's whole-second times by the id). */
	{
		char first[GEN_ID_LEN + 1];
		struct timespec ms = { 0, 2000000 };

		memcpy(first, sh.gen, sizeof(first));
		nanosleep(&ms, NULL);
		T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
		T_CHECK(layout_gen_valid(sh.gen));
		T_CHECK(strcmp(sh.gen, first) > 0);
	}
	T_EQ_INT(sh.size, WAL_HDR_LEN + 603 * FLEN);
	T_EQ_INT(shadow_file_size(&sh, 0), WAL_HDR_LEN + 603 * FLEN);
	T_CHECK(shadow_is_wal_prefix(&sh, 0, WAL_HDR_LEN + 603 * FLEN));

	/* More of the open transaction, still no commit: nothing moves. */
	synth_frames(&w, 300, 0, 4);
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	T_EQ_INT(res.bytes, 0);
	T_EQ_INT(shadow_file_size(&sh, 0), WAL_HDR_LEN + 603 * FLEN);

	/* It commits: 311 frames, re-read from the WAL across batches. */
	synth_frames(&w, 1, 1, 5);
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	T_EQ_INT(res.commits, 1);
	T_EQ_INT(res.bytes, 311 * FLEN);
	T_CHECK(shadow_is_wal_prefix(&sh, 0, WAL_HDR_LEN + 914 * FLEN));

	/* Resume after a crash that left uncommitted frames and a torn
	 * frame in the shadow file: cut back to the last commit. */
	synth_frames(&w, 20, 0, 6);
	{
		char *path = shadow_path(&sh, 0), *b = NULL;
		size_t blen = 0;
		int fd = open(path, O_WRONLY);

		fs_read_small(wal, 1 << 24, &b, &blen, NULL);
		pwrite_full(fd, b + WAL_HDR_LEN + 914 * FLEN, 20 * FLEN,
		    WAL_HDR_LEN + 914 * FLEN);
		pwrite_full(fd, "torn", 4, WAL_HDR_LEN + 934 * FLEN);
		close(fd);
		free(b);
		free(path);
	}
	shadow_release(&sh);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_resume(&sh, &reason, NULL), LSC_OK);
	T_CHECK(reason == NULL);
	T_EQ_INT(sh.size, WAL_HDR_LEN + 914 * FLEN);
	T_EQ_INT(shadow_file_size(&sh, 0), WAL_HDR_LEN + 914 * FLEN);
	/* And it goes on from there when the transaction commits. */
	synth_frames(&w, 1, 1, 7);
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	T_CHECK(shadow_is_wal_prefix(&sh, 0, WAL_HDR_LEN + 935 * FLEN));
	shadow_release(&sh);
	close(w.fd);
}

/* Our chain stops, but the wal-index says more frames are committed. */
static void
test_witness(void)
{
	struct shadow sh;
	struct shadow_capture res;
	struct synth w;
	uint32_t good[2];

	fresh();
	synth_start(&w, 200, 1);
	synth_frames(&w, 3, 1, 1);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	/* Frames 4-6 commit, but do not continue our chain (as after a
	 * rollback wrote over frames once taken for committed). */
	good[0] = w.s[0], good[1] = w.s[1];
	w.s[0] ^= 0x5a5a;
	synth_frames(&w, 3, 1, 2);
	/* Without a witness the end of the chain looks like the end. */
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	/* The wal-index says 6 frames are committed: continuity is lost. */
	synth_shm(&w, 6);
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason != NULL);
	if (res.reason != NULL)
		T_EQ_STR(res.reason, "committed frames in the WAL do not continue "
		    "the shadow WAL");
	shadow_release(&sh);

	/* A witness that agrees with us (or is about another cycle) is
	 * not a complaint. */
	fresh();
	synth_start(&w, 300, 1);
	synth_frames(&w, 3, 1, 1);
	synth_shm(&w, 3);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	w.raw[16] ^= 1;		/* salts of another cycle */
	synth_shm(&w, 9);
	w.raw[16] ^= 1;
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	(void)good;
	shadow_release(&sh);
	close(w.fd);
}

/* Restarts: without a pin held throughout, any restart breaks continuity;
 * with one, a restart in place or after a truncation is followed, unless
 * the wal-index had called frames committed that we never copied. */
static void
test_restart(void)
{
	struct shadow sh;
	struct shadow_capture res;
	struct synth w, w2;

	/* Not pinned throughout (a start-up): continuity lost. */
	fresh();
	synth_start(&w, 400, 1);
	synth_frames(&w, 5, 1, 1);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	close(w.fd);
	synth_start(&w2, 401, 0);
	synth_frames(&w2, 2, 1, 9);
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason != NULL);
	T_EQ_INT(sh.index, 0);
	/* Pinned throughout: the same restart is followed. */
	T_EQ_INT(shadow_capture(&sh, 1, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	T_EQ_INT(res.new_index, 1);
	T_EQ_INT(sh.index, 1);
	T_EQ_INT(sh.cycle_index, 1);
	T_CHECK(shadow_is_wal_prefix(&sh, 1, WAL_HDR_LEN + 2 * FLEN));
	shadow_release(&sh);
	close(w2.fd);

	/* Truncated to nothing (a TRUNCATE checkpoint), then a new cycle:
	 * under the pin, nothing we lack went with it. */
	fresh();
	synth_start(&w, 500, 1);
	synth_frames(&w, 5, 1, 1);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	T_EQ_INT(ftruncate(w.fd, 0), 0);
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason != NULL);		/* strict: lost */
	T_EQ_INT(shadow_capture(&sh, 1, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);		/* pinned: wait for a header */
	T_EQ_INT(res.bytes, 0);
	close(w.fd);
	synth_start(&w2, 501, 0);
	synth_frames(&w2, 2, 1, 9);
	T_EQ_INT(shadow_capture(&sh, 1, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	T_EQ_INT(sh.index, 1);
	T_CHECK(shadow_is_wal_prefix(&sh, 1, WAL_HDR_LEN + 2 * FLEN));
	shadow_release(&sh);
	close(w2.fd);

	/* The wal-index had called 7 frames committed; we copied 5. */
	fresh();
	synth_start(&w, 600, 1);
	synth_frames(&w, 5, 1, 1);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	synth_shm(&w, 7);
	close(w.fd);
	synth_start(&w2, 601, 0);
	synth_frames(&w2, 2, 1, 9);
	T_EQ_INT(shadow_capture(&sh, 1, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason != NULL);
	if (res.reason != NULL)
		T_EQ_STR(res.reason, "the WAL restarted before every committed "
		    "frame was copied");
	shadow_release(&sh);
	close(w2.fd);
}

/* A WAL with no header (nobody wrote since it was checkpointed away): a
 * generation starts on a header of our own, and the application's WAL is
 * followed as index 1. */
static void
test_no_wal_yet(void)
{
	struct shadow sh;
	struct shadow_capture res;
	struct synth w;
	char *path;

	fresh();
	/* SQLite leaves an empty -wal when a read starts on such a WAL. */
	close(open(wal, O_RDWR | O_CREAT | O_TRUNC, 0644));
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	T_EQ_INT(sh.index, 0);
	T_EQ_INT(shadow_file_size(&sh, 0), WAL_HDR_LEN);
	T_EQ_INT(sh.dst.page_size, PAGE);
	/* Still nothing: nothing to do. */
	T_EQ_INT(shadow_capture(&sh, 1, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL && res.bytes == 0);
	synth_start(&w, 900, 1);
	synth_frames(&w, 3, 1, 1);
	T_EQ_INT(shadow_capture(&sh, 1, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason == NULL);
	T_EQ_INT(sh.index, 1);
	T_CHECK(shadow_is_wal_prefix(&sh, 1, WAL_HDR_LEN + 3 * FLEN));
	path = shadow_path(&sh, 0);
	T_CHECK(access(path, F_OK) == 0);
	free(path);
	shadow_release(&sh);
	close(w.fd);
}

/* An index never reaches INDEX_MAX (keys at or above it are not read):
 * a restart or a roll there starts a new generation instead. */
static void
test_index_cap(void)
{
	struct shadow sh;
	struct shadow_capture res;
	struct synth w, w2;
	const char *reason = "unset";
	char *from, *to;

	fresh();
	synth_start(&w, 700, 1);
	synth_frames(&w, 3, 1, 1);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	from = shadow_path(&sh, 0);
	to = shadow_path(&sh, INDEX_MAX - 1);
	T_EQ_INT(rename(from, to), 0);
	shadow_release(&sh);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_resume(&sh, &reason, NULL), LSC_OK);
	T_CHECK(reason == NULL);
	T_EQ_INT(sh.index, INDEX_MAX - 1);
	/* A restart would need index INDEX_MAX. */
	close(w.fd);
	synth_start(&w2, 701, 0);
	synth_frames(&w2, 2, 1, 9);
	T_EQ_INT(shadow_capture(&sh, 1, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason != NULL && strcmp(res.reason, "max index exceeded") == 0);
	T_EQ_INT(sh.index, INDEX_MAX - 1);
	shadow_release(&sh);
	close(w2.fd);
	free(from);

	/* So would a roll. */
	fresh();
	synth_start(&w, 800, 1);
	synth_frames(&w, 3, 1, 1);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_new_generation(&sh, PAGE, NULL), LSC_OK);
	free(to);
	to = shadow_path(&sh, INDEX_MAX - 1);
	T_EQ_INT(rename(from = shadow_path(&sh, 0), to), 0);
	free(from);
	shadow_release(&sh);
	T_EQ_INT(shadow_init(&sh, db, NULL, NULL), LSC_OK);
	T_EQ_INT(shadow_resume(&sh, &reason, NULL), LSC_OK);
	sh.max_index_bytes = 1 << 20;
	synth_frames(&w, 2100, 1, 2);	/* past 1 MiB */
	T_EQ_INT(shadow_capture(&sh, 0, 0, &res, NULL), LSC_OK);
	T_CHECK(res.reason != NULL && strcmp(res.reason, "max index exceeded") == 0);
	shadow_release(&sh);
	close(w.fd);
	free(to);
}

int
main(void)
{
	char tmpl[] = "/tmp/lsc-shadow.XXXXXX";
	char *cmd;

	log_set_level(LOG_ERROR);
	dir = mkdtemp(tmpl);
	db = xasprintf("%s/db", dir);
	wal = xasprintf("%s/db-wal", dir);
	shm = xasprintf("%s/db-shm", dir);
	test_whole_transactions();
	test_witness();
	test_restart();
	test_no_wal_yet();
	test_index_cap();
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	free(cmd);
	free(db);
	free(wal);
	free(shm);
	return t_done();
}
