/* SPDX-License-Identifier: MIT */
/*
 * The apply engine over synthetic WALs built with wal_frame_encode, in
 * both checksum byte orders and fed in many chunk sizes: committed frames
 * land at (pgno - 1) * page_size, uncommitted tails and torn frames are
 * dropped, bad salts, broken checksum chains, bad headers and gaps are
 * refused with the segment and offset named, the file is cut to the last
 * commit's size, and big transactions spill to disk and still apply.
 * Verify-only mode (fd -1, the drill's chain check) refuses exactly the
 * same input, counts the same commits and dropped frames, and never
 * writes or spools.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "common/err.h"
#include "common/log.h"
#include "restore/apply.h"
#include "wal/wal_format.h"

#define GEN "0123456789abcdef"

/* A WAL being built in memory. */
struct wb {
	struct wal_hdr	 h;
	uint8_t		*data;
	size_t		 len;
	uint32_t	 s[2];
};

static void
wb_init(struct wb *w, int big_endian, uint32_t ps, uint32_t salt1)
{
	memset(w, 0, sizeof(*w));
	w->h.page_size = ps;
	w->h.salt1 = salt1;
	w->h.salt2 = 0x5a5a0000u + salt1;
	w->h.big_endian = big_endian;
	w->data = malloc(WAL_HDR_LEN);
	wal_hdr_encode(&w->h, w->data);
	w->s[0] = wal_get32(w->data + 24);
	w->s[1] = wal_get32(w->data + 28);
	w->len = WAL_HDR_LEN;
}

/* Page content: pgno (big-endian) then `fill` everywhere. */
static void
page_fill(uint8_t *page, uint32_t ps, uint32_t pgno, uint8_t fill)
{
	memset(page, fill, ps);
	wal_put32(page, pgno);
}

static void
wb_frame(struct wb *w, uint32_t pgno, uint32_t commit, uint8_t fill)
{
	size_t flen = wal_frame_len(w->h.page_size);
	uint8_t *page = malloc(w->h.page_size);

	page_fill(page, w->h.page_size, pgno, fill);
	w->data = realloc(w->data, w->len + flen);
	wal_frame_encode(&w->h, pgno, commit, page, w->s, w->data + w->len);
	w->len += flen;
	free(page);
}

static void
wb_free(struct wb *w)
{
	free(w->data);
}

/* A fresh empty temp file. */
static int
tmpfd(void)
{
	char p[] = "/tmp/lsc-test-apply-XXXXXX";
	int fd = mkstemp(p);

	unlink(p);
	return fd;
}

/* Feed a whole snapshot of `npages` pages (fill 0x10) into `a`. */
static int
give_snapshot(struct db_apply *a, uint32_t ps, uint32_t npages,
    struct lsc_err *err)
{
	uint8_t *page = malloc(ps);
	int rc = LSC_OK;

	apply_snapshot_begin(a, "snap");
	for (uint32_t i = 1; rc == LSC_OK && i <= npages; i++) {
		page_fill(page, ps, i, 0x10);
		if (i == 1) {
			memcpy(page, "SQLite format 3", 16);
			page[16] = (uint8_t)(ps == 65536 ? 0 : ps >> 8);
			page[17] = (uint8_t)(ps == 65536 ? 1 : ps & 0xff);
		}
		rc = apply_snapshot_feed(a, page, ps, err);
	}
	free(page);
	return rc == LSC_OK ? apply_snapshot_end(a, err) : rc;
}

/* Feed bytes [from, to) of `w` as one segment, in `chunk`-byte pieces. */
static int
give_segment(struct db_apply *a, const struct wb *w, size_t from, size_t to,
    size_t chunk, const char *key, struct lsc_err *err)
{
	int rc = apply_segment_begin(a, key, from, err);

	for (size_t off = from; rc == LSC_OK && off < to; off += chunk) {
		size_t n = to - off < chunk ? to - off : chunk;

		rc = apply_wal_feed(a, w->data + off, n, err);
	}
	return rc;
}

/* 1 if page `pgno` of fd holds (pgno, fill). */
static int
page_is(int fd, uint32_t ps, uint32_t pgno, uint8_t fill)
{
	uint8_t *got = malloc(ps), *want = malloc(ps);
	int ok;

	page_fill(want, ps, pgno, fill);
	ok = pread(fd, got, ps, (off_t)(pgno - 1) * ps) == (ssize_t)ps &&
	    memcmp(got, want, ps) == 0;
	free(got);
	free(want);
	return ok;
}

static long long
fsize(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
}

static const size_t chunks[] = { 1, 7, 24, 100, 536, 4096, 1 << 20 };
#define NCHUNKS (sizeof(chunks) / sizeof(chunks[0]))

static void
test_basic(int be)
{
	const uint32_t ps = 512;
	size_t flen = wal_frame_len(ps);

	for (size_t c = 0; c < NCHUNKS; c++) {
		struct lsc_err err = { 0 };
		struct db_apply a;
		struct wb w;
		int fd = tmpfd();
		size_t cut;

		wb_init(&w, be, ps, 7);
		wb_frame(&w, 2, 0, 0x21);
		wb_frame(&w, 5, 5, 0x22);
		wb_frame(&w, 3, 5, 0x31);
		wb_frame(&w, 2, 0, 0x41);	/* a transaction split across */
		wb_frame(&w, 4, 5, 0x42);	/* the segment boundary below */
		cut = WAL_HDR_LEN + 4 * flen - 100;	/* mid-frame: a torn split */
		apply_init(&a, fd, "/tmp", GEN);
		T_EQ_INT(give_snapshot(&a, ps, 4, &err), LSC_OK);
		apply_index_begin(&a, 0);
		T_EQ_INT(give_segment(&a, &w, 0, cut, chunks[c], "seg0", &err),
		    LSC_OK);
		T_EQ_INT(give_segment(&a, &w, cut, w.len, chunks[c], "seg1", &err),
		    LSC_OK);
		T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
		T_CHECK(page_is(fd, ps, 2, 0x41));
		T_CHECK(page_is(fd, ps, 3, 0x31));
		T_CHECK(page_is(fd, ps, 4, 0x42));
		T_CHECK(page_is(fd, ps, 5, 0x22));
		T_EQ_INT(fsize(fd), 5 * ps);
		T_EQ_INT(a.commits, 3);
		T_EQ_INT(a.frames, 5);
		T_EQ_INT(a.db_pages, 5);
		if (err.code != LSC_OK)
			printf("  %s\n", err.msg);
		apply_release(&a);
		wb_free(&w);
		close(fd);
	}
}

/* Frames after the last commit, whole or torn, are dropped. */
static void
test_tail(int be)
{
	const uint32_t ps = 1024;
	size_t flen = wal_frame_len(ps);

	for (int torn = 0; torn <= 2; torn++) {
		struct lsc_err err = { 0 };
		struct db_apply a;
		struct wb w;
		int fd = tmpfd();
		size_t end;

		wb_init(&w, be, ps, 9);
		wb_frame(&w, 2, 3, 0x21);
		wb_frame(&w, 2, 0, 0x99);	/* uncommitted */
		wb_frame(&w, 3, 0, 0x99);
		/* torn 0: two whole uncommitted frames; 1: the second torn;
		 * 2: a torn commit frame right after the first commit. */
		end = torn == 0 ? w.len : torn == 1 ? w.len - flen / 2 :
		    WAL_HDR_LEN + flen + 30;
		apply_init(&a, fd, "/tmp", GEN);
		T_EQ_INT(give_snapshot(&a, ps, 2, &err), LSC_OK);
		apply_index_begin(&a, 0);
		T_EQ_INT(give_segment(&a, &w, 0, end, 333, "seg", &err), LSC_OK);
		T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
		T_CHECK(page_is(fd, ps, 2, 0x21));
		T_EQ_INT(fsize(fd), 3 * ps);
		T_EQ_INT(a.commits, 1);
		apply_release(&a);
		wb_free(&w);
		close(fd);
	}
}

/*
 * Feed one corrupted WAL; expect LSC_ECORRUPT and `what` in the message,
 * both building a file and verifying only.
 */
static void
expect_corrupt(int be, struct wb *w, const char *what)
{
	for (int verify = 0; verify <= 1; verify++) {
	struct lsc_err err = { 0 };
	struct db_apply a;
	int fd = verify ? -1 : tmpfd();
	int rc;

	apply_init(&a, fd, verify ? "/nonexistent" : "/tmp", GEN);
	T_EQ_INT(give_snapshot(&a, w->h.page_size, 3, &err), LSC_OK);
	apply_index_begin(&a, 0);
	rc = give_segment(&a, w, 0, w->len, 1000, "generations/x/wal/seg", &err);
	if (rc == LSC_OK)
		rc = apply_index_end(&a, &err);
	T_EQ_INT(rc, LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, what) != NULL);
	T_CHECK(strstr(err.msg, "generations/x/wal/seg") != NULL);
	if (strstr(err.msg, what) == NULL)
		printf("  be=%d: '%s' lacks '%s'\n", be, err.msg, what);
	apply_release(&a);
	if (fd >= 0)
		close(fd);
	}
}

static void
test_corrupt(int be)
{
	const uint32_t ps = 512;
	size_t flen = wal_frame_len(ps);
	struct wb w;
	struct wal_hdr other;

	/* Bad salt: a frame with its own salts but a valid chain. */
	wb_init(&w, be, ps, 3);
	wb_frame(&w, 2, 3, 0x21);
	other = w.h;
	w.h.salt1 ^= 0x100;
	wb_frame(&w, 3, 3, 0x22);
	w.h = other;
	expect_corrupt(be, &w, "frame at offset 568 has salts");
	wb_free(&w);

	/* A flipped page byte breaks the chain at that frame, even in the
	 * uncommitted tail. */
	wb_init(&w, be, ps, 3);
	wb_frame(&w, 2, 3, 0x21);
	wb_frame(&w, 3, 0, 0x22);
	wb_frame(&w, 3, 3, 0x23);
	w.data[WAL_HDR_LEN + flen + 24 + 77] ^= 1;
	expect_corrupt(be, &w, "frame at offset 568 breaks the checksum chain");
	wb_free(&w);

	/* A flipped commit field too (it is in the checksum). */
	wb_init(&w, be, ps, 3);
	wb_frame(&w, 2, 3, 0x21);
	w.data[WAL_HDR_LEN + 7] ^= 1;
	expect_corrupt(be, &w, "frame at offset 32 breaks the checksum chain");
	wb_free(&w);

	/* Frames reordered: each is valid alone, not in this order. */
	wb_init(&w, be, ps, 3);
	wb_frame(&w, 2, 0, 0x21);
	wb_frame(&w, 3, 3, 0x22);
	{
		uint8_t *tmp = malloc(flen);

		memcpy(tmp, w.data + WAL_HDR_LEN, flen);
		memcpy(w.data + WAL_HDR_LEN, w.data + WAL_HDR_LEN + flen, flen);
		memcpy(w.data + WAL_HDR_LEN + flen, tmp, flen);
		free(tmp);
	}
	expect_corrupt(be, &w, "breaks the checksum chain");
	wb_free(&w);

	/* Header checksum. */
	wb_init(&w, be, ps, 3);
	wb_frame(&w, 2, 3, 0x21);
	w.data[13] ^= 1;
	expect_corrupt(be, &w, "bad WAL header");
	wb_free(&w);

	/* Page size differs from the snapshot's. */
	wb_init(&w, be, 1024, 3);
	wb_frame(&w, 2, 3, 0x21);
	w.h.page_size = 512;	/* the snapshot expect_corrupt makes */
	expect_corrupt(be, &w, "page size 1024");
	wb_free(&w);

	/* Page number 0. */
	wb_init(&w, be, ps, 3);
	wb_frame(&w, 0, 3, 0x21);
	expect_corrupt(be, &w, "page number 0");
	wb_free(&w);

	/* The index ends inside its header. */
	wb_init(&w, be, ps, 3);
	w.len = 20;
	expect_corrupt(be, &w, "ends inside its header");
	wb_free(&w);
}

/* VACUUM shrinks: the file follows each index's last commit. */
static void
test_shrink(int be)
{
	const uint32_t ps = 512;
	struct lsc_err err = { 0 };
	struct db_apply a;
	struct wb w0, w1;
	int fd = tmpfd();

	wb_init(&w0, be, ps, 100);
	wb_frame(&w0, 8, 8, 0x21);
	wb_frame(&w0, 2, 0, 0x22);
	wb_frame(&w0, 3, 3, 0x23);	/* shrink to 3 pages */
	wb_init(&w1, be, ps, 101);
	wb_frame(&w1, 4, 4, 0x31);	/* grow to 4 */
	wb_frame(&w1, 9, 9, 0x32);	/* grow to 9 */
	wb_frame(&w1, 2, 2, 0x33);	/* shrink to 2 */
	wb_frame(&w1, 2, 0, 0x99);	/* dropped */
	apply_init(&a, fd, "/tmp", GEN);
	T_EQ_INT(give_snapshot(&a, ps, 6, &err), LSC_OK);
	apply_index_begin(&a, 0);
	T_EQ_INT(give_segment(&a, &w0, 0, w0.len, 4096, "i0", &err), LSC_OK);
	T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
	T_EQ_INT(fsize(fd), 3 * ps);
	T_CHECK(page_is(fd, ps, 2, 0x22));
	T_CHECK(page_is(fd, ps, 3, 0x23));
	apply_index_begin(&a, 1);
	/* A gap in the next index is refused... */
	T_EQ_INT(apply_segment_begin(&a, "i1-late", 4152, &err), LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, "gap in generation " GEN " index 00000001: "
	    "expected offset 0 (0), found 4152 (1038) in 'i1-late'") != NULL);
	lsc_err_clear(&err);
	T_EQ_INT(give_segment(&a, &w1, 0, w1.len - 600, 4096, "i1a", &err), LSC_OK);
	/* ...and so is an overlap (a segment starting before the end). */
	T_EQ_INT(apply_segment_begin(&a, "i1b", w1.len - 700, &err), LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, "overlap in generation") != NULL);
	lsc_err_clear(&err);
	T_EQ_INT(give_segment(&a, &w1, w1.len - 600, w1.len, 4096, "i1b", &err),
	    LSC_OK);
	T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
	T_EQ_INT(fsize(fd), 2 * ps);
	T_CHECK(page_is(fd, ps, 2, 0x33));
	T_EQ_INT(a.db_pages, 2);
	T_EQ_INT(a.indexes, 2);
	apply_release(&a);
	wb_free(&w0);
	wb_free(&w1);
	close(fd);
}

/* A transaction bigger than the page cache spills and still applies
 * in log order; a big uncommitted one is dropped. */
static void
test_spill(int be)
{
	const uint32_t ps = 4096;
	const uint32_t slots = 64;
	const uint32_t n = 2 * slots + 17;
	struct lsc_err err = { 0 };
	struct pcache_stats pst;
	struct db_apply a;
	struct wb w;
	int fd = tmpfd(), ok = 1;

	wb_init(&w, be, ps, 55);
	for (uint32_t i = 0; i < n; i++)	/* pages 2..n+1, then again */
		wb_frame(&w, 2 + i, 0, 0x40);
	for (uint32_t i = 0; i < n; i++)
		wb_frame(&w, 2 + i, i + 1 == n ? n + 1 : 0, (uint8_t)(0x50 + i % 7));
	for (uint32_t i = 0; i < n; i++)	/* never committed */
		wb_frame(&w, 2 + i, 0, 0x99);
	apply_init(&a, fd, "/tmp", GEN);
	a.cache_mem = slots * wal_frame_len(ps);
	T_EQ_INT(give_snapshot(&a, ps, 1, &err), LSC_OK);
	apply_index_begin(&a, 0);
	T_EQ_INT(give_segment(&a, &w, 0, w.len, 65536, "big", &err), LSC_OK);
	T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
	pcache_get_stats(a.pc, &pst);
	T_CHECK(pst.spilled >= n);	/* the committed one, at least */
	T_EQ_INT(pst.frames, 2 * n);
	for (uint32_t i = 0; i < n; i++)
		ok &= page_is(fd, ps, 2 + i, (uint8_t)(0x50 + i % 7));
	T_CHECK(ok);
	T_EQ_INT(fsize(fd), (long long)(n + 1) * ps);
	T_EQ_INT(a.commits, 1);
	T_EQ_INT(a.frames, 2 * n);
	apply_release(&a);
	wb_free(&w);
	close(fd);
}

/*
 * The commit window against a model that writes every committed frame in
 * log order: random transactions over a small database (hot pages and
 * repeats within a transaction), with uncommitted tails, torn frames,
 * shrinks and regrowth, several indexes, and caches from the minimum (so
 * windows end mid-index and transactions spill) to big enough for all;
 * the files must be equal byte for byte.  A page rewritten by every
 * transaction is written once per window.
 */
static void
test_window(int be)
{
	const uint32_t ps = 512, maxpg = 40;
	size_t flen = wal_frame_len(ps);
	static const uint32_t slot_counts[] = { 8, 9, 13, 32, 1000 };
	uint64_t seed = 0x1234567u + (uint64_t)be;

	for (size_t sc = 0; sc < sizeof(slot_counts) / sizeof(slot_counts[0]);
	    sc++) {
		for (int round = 0; round < 20; round++) {
			struct lsc_err err = { 0 };
			struct pcache_stats pst;
			struct db_apply a;
			int fd = tmpfd(), mfd = tmpfd();
			uint32_t size = 5, nidx = 1 + round % 3;
			uint8_t *page = malloc(ps);
			int ok = 1;

			apply_init(&a, fd, "/tmp", GEN);
			a.cache_mem = slot_counts[sc] * flen;
			T_EQ_INT(give_snapshot(&a, ps, size, &err), LSC_OK);
			/* the model starts as the snapshot */
			for (uint32_t p = 1; p <= size; p++) {
				pread(fd, page, ps, (off_t)(p - 1) * ps);
				pwrite(mfd, page, ps, (off_t)(p - 1) * ps);
			}
			for (uint32_t ix = 0; ix < nidx; ix++) {
				struct wb w;
				uint32_t ntx = 1 + (uint32_t)(seed % 30);
				size_t cut;

				wb_init(&w, be, ps, 100 + ix);
				for (uint32_t t = 0; t < ntx; t++) {
					uint32_t nf, newsize = size;

					seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
					nf = 1 + (uint32_t)(seed >> 33) % 12;
					if ((seed >> 20) % 7 == 0)
						newsize = 2 + (uint32_t)(seed >> 40) % maxpg;
					else if (size < maxpg)
						newsize = size + (uint32_t)(seed >> 45) % 2;
					for (uint32_t f = 0; f < nf; f++) {
						uint32_t pg;

						seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
						/* page 1 and 2 hot, the rest anywhere */
						pg = (seed >> 60) < 6 ? 1 + (uint32_t)(seed >> 62) % 2 :
						    1 + (uint32_t)(seed >> 33) % newsize;
						wb_frame(&w, pg, f + 1 == nf ? newsize : 0,
						    (uint8_t)(seed >> 50));
					}
					size = newsize;
				}
				/* An uncommitted tail, sometimes torn. */
				wb_frame(&w, 1, 0, 0xee);
				cut = (seed >> 30) % 2 ? flen / 2 : 0;
				apply_index_begin(&a, ix);
				T_EQ_INT(give_segment(&a, &w, 0, w.len / 2, 333, "s0",
				    &err), LSC_OK);
				T_EQ_INT(give_segment(&a, &w, w.len / 2, w.len - cut,
				    4096, "s1", &err), LSC_OK);
				T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
				/* the model: committed frames in log order */
				{
					size_t off = WAL_HDR_LEN, txn = off;
					uint32_t commit_size = 0;

					for (; off + flen <= w.len; off += flen) {
						if (wal_get32(w.data + off + 4) == 0)
							continue;
						for (size_t f = txn; f <= off; f += flen)
							pwrite(mfd, w.data + f + WAL_FRAME_HDR_LEN,
							    ps, (off_t)(wal_get32(w.data + f) - 1) * ps);
						commit_size = wal_get32(w.data + off + 4);
						txn = off + flen;
					}
					ftruncate(mfd, (off_t)commit_size * ps);
				}
				wb_free(&w);
			}
			T_EQ_INT(fsize(fd), fsize(mfd));
			for (uint32_t p = 1; p <= size; p++) {
				uint8_t *m = malloc(ps);

				pread(fd, page, ps, (off_t)(p - 1) * ps);
				pread(mfd, m, ps, (off_t)(p - 1) * ps);
				ok &= memcmp(page, m, ps) == 0;
				free(m);
			}
			T_CHECK(ok);
			pcache_get_stats(a.pc, &pst);
			T_EQ_INT(pst.frames, a.frames);
			if (slot_counts[sc] >= 1000)	/* one window per index */
				T_CHECK(pst.pages_written <= (uint64_t)nidx * maxpg);
			free(page);
			apply_release(&a);
			close(fd);
			close(mfd);
		}
	}
}

static void
test_snapshot(void)
{
	struct lsc_err err = { 0 };
	struct db_apply a;
	uint8_t page[1024];
	int fd = tmpfd();

	/* Not SQLite: refused as soon as the 100-byte header is in, before
	 * anything is written (an LZ4 bomb of zeros stops there). */
	memset(page, 'x', sizeof(page));
	apply_init(&a, fd, "/tmp", GEN);
	apply_snapshot_begin(&a, "generations/g/snapshots/00000000.snapshot.lz4");
	T_EQ_INT(apply_snapshot_feed(&a, page, 60, &err), LSC_OK);
	T_EQ_INT(apply_snapshot_feed(&a, page, 60, &err), LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, "00000000.snapshot.lz4' is not a SQLite database")
	    != NULL);
	T_EQ_INT(a.snap_len, 60);
	apply_release(&a);

	/* Too short, then not whole pages. */
	lsc_err_clear(&err);
	memcpy(page, "SQLite format 3", 16);
	page[16] = 2;
	page[17] = 0;
	apply_init(&a, fd, "/tmp", GEN);
	apply_snapshot_begin(&a, "s");
	T_EQ_INT(apply_snapshot_feed(&a, page, 50, &err), LSC_OK);
	T_EQ_INT(apply_snapshot_end(&a, &err), LSC_ECORRUPT);
	apply_release(&a);
	lsc_err_clear(&err);
	apply_init(&a, fd, "/tmp", GEN);
	apply_snapshot_begin(&a, "s");
	T_EQ_INT(apply_snapshot_feed(&a, page, 1000, &err), LSC_OK);
	T_EQ_INT(apply_snapshot_end(&a, &err), LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, "not a whole number of 512-byte pages") != NULL);
	apply_release(&a);

	/* Bad page size: refused with the header too. */
	lsc_err_clear(&err);
	page[16] = 3;
	apply_init(&a, fd, "/tmp", GEN);
	apply_snapshot_begin(&a, "s");
	T_EQ_INT(apply_snapshot_feed(&a, page, 768, &err), LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, "invalid page size") != NULL);
	apply_release(&a);

	/* 65536 is stored as 1; the header may arrive a byte at a time. */
	lsc_err_clear(&err);
	apply_init(&a, fd, "/tmp", GEN);
	{
		uint8_t *big = calloc(1, 65536);

		memcpy(big, "SQLite format 3", 16);
		big[17] = 1;
		apply_snapshot_begin(&a, "s");
		for (size_t i = 0; i < 200; i++)
			T_CHECK(apply_snapshot_feed(&a, big + i, 1, &err) == LSC_OK);
		T_EQ_INT(apply_snapshot_feed(&a, big + 200, 65336, &err), LSC_OK);
		T_EQ_INT(apply_snapshot_end(&a, &err), LSC_OK);
		T_EQ_INT(a.page_size, 65536);
		free(big);
	}
	apply_release(&a);
	close(fd);
}

/* The stop flag aborts a feed. */
/*
 * Verify only: the WAL of test_basic and test_tail, with a transaction
 * far larger than the pending buffer, counts what a build would and
 * writes nothing (the spool directory does not even exist).
 */
static void
test_verify_only(int be)
{
	const uint32_t ps = 4096;
	size_t flen = wal_frame_len(ps);
	uint32_t big = APPLY_CACHE_MEM / ps * 3;
	struct lsc_err err = { 0 };
	struct db_apply a;
	struct wb w;

	wb_init(&w, be, ps, 11);
	wb_frame(&w, 2, 0, 0x21);
	wb_frame(&w, 5, 5, 0x22);
	for (uint32_t i = 1; i <= big; i++)	/* would spill when building */
		wb_frame(&w, 5 + i, i == big ? 5 + big : 0, 0x33);
	wb_frame(&w, 2, 0, 0x99);		/* uncommitted tail */
	apply_init(&a, -1, "/nonexistent", GEN);
	T_EQ_INT(give_snapshot(&a, ps, 4, &err), LSC_OK);
	apply_index_begin(&a, 3);
	T_EQ_INT(give_segment(&a, &w, 0, w.len - flen / 3, 7777, "seg", &err),
	    LSC_OK);
	T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
	T_EQ_INT(a.commits, 2);
	T_EQ_INT(a.frames, 2 + big);
	T_EQ_INT(a.db_pages, 5 + big);
	T_EQ_INT(a.dropped_frames, 0);		/* the tail frame is torn... */
	T_EQ_INT(a.dropped_bytes, flen - flen / 3);	/* ...to these bytes */
	T_CHECK(a.dropped_key != NULL && strcmp(a.dropped_key, "seg") == 0);
	T_CHECK(a.pc == NULL);
	apply_release(&a);

	/* The same with the tail whole, WAL checked without a snapshot. */
	apply_init(&a, -1, "/nonexistent", GEN);
	apply_use_page_size(&a, ps);
	apply_index_begin(&a, 3);
	T_EQ_INT(give_segment(&a, &w, 0, w.len, 4096, "seg", &err), LSC_OK);
	T_EQ_INT(apply_index_end(&a, &err), LSC_OK);
	T_EQ_INT(a.dropped_frames, 1);
	T_EQ_INT(a.dropped_bytes, 0);
	T_EQ_INT(a.commits, 2);
	apply_release(&a);

	/* Segments that overlap are named as such, not as a gap. */
	apply_init(&a, -1, NULL, GEN);
	apply_use_page_size(&a, ps);
	apply_index_begin(&a, 3);
	T_EQ_INT(give_segment(&a, &w, 0, WAL_HDR_LEN + flen, 100, "s0", &err),
	    LSC_OK);
	T_EQ_INT(give_segment(&a, &w, WAL_HDR_LEN, w.len, 100, "s1", &err),
	    LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, "overlap in generation " GEN " index 00000003")
	    != NULL);
	apply_release(&a);
	wb_free(&w);
}

static void
test_stop(void)
{
	volatile sig_atomic_t stop = 1;
	struct lsc_err err = { 0 };
	struct db_apply a;
	int fd = tmpfd();

	apply_init(&a, fd, "/tmp", GEN);
	a.stop = &stop;
	apply_snapshot_begin(&a, "s");
	T_EQ_INT(apply_snapshot_feed(&a, "x", 1, &err), LSC_ESTOP);
	apply_release(&a);
	close(fd);
}

int
main(void)
{
	log_set_level(LOG_WARN);
	for (int be = 0; be <= 1; be++) {
		test_basic(be);
		test_tail(be);
		test_corrupt(be);
		test_shrink(be);
		test_spill(be);
		test_window(be);
		test_verify_only(be);
	}
	test_snapshot();
	test_stop();
	return t_done();
}
