/* SPDX-License-Identifier: MIT */
/*
 * LZ4 frames: round trips of several sizes fed to the reader whole, in
 * 1-byte and in odd-size chunks; Litestream's header bytes; and refusal of
 * corrupt, truncated, over-long, trailing-garbage and checksum-less frames
 * (small ones too, with nothing written before the refusal).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>

#include "t.h"
#include "common/buf.h"
#include "common/lz4frame.h"
#include "common/xmalloc.h"

static int
buf_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	return buf_append(ctx, data, len, err);
}

/* A sink that fails on its n-th call. */
struct fail_sink {
	int	calls;
	int	fail_at;
};

static int
failing_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct fail_sink *f = ctx;

	(void)data;
	(void)len;
	if (++f->calls >= f->fail_at)
		return lsc_seterr(err, LSC_EIO, 0, "sink says no");
	return LSC_OK;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned char *
random_bytes(size_t n)
{
	unsigned char *p = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(rng() >> 56);
	return p;
}

static unsigned char *
compressible_bytes(size_t n)
{
	unsigned char *p = xmalloc(n ? n : 1);
	static const char words[] = "INSERT INTO t VALUES(?, 'hello world'); ";

	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)words[(i + i / 997) % (sizeof(words) - 1)];
	return p;
}

static int
compress(const void *data, size_t len, struct buf *out)
{
	struct lsc_err err = { 0 };
	unsigned char *z = NULL;
	size_t zlen = 0;
	int rc;

	rc = lz4_compress_buf(data, len, &z, &zlen, &err);
	if (rc == LSC_OK) {
		buf_append(out, z, zlen, NULL);
		free(z);
	} else {
		printf("  compress: %s\n", err.msg);
	}
	return rc;
}

/*
 * Decompress `z` feeding `chunk` bytes per call (0: all at once, negative:
 * a cycle of odd sizes) into `out`; returns the first failing rc.
 */
static int
decompress(const unsigned char *z, size_t zlen, long chunk, uint64_t max_out,
    struct buf *out, struct lsc_err *err)
{
	static const size_t odd[] = { 1, 3, 7, 13, 4093, 65537, 11, 262147, 2 };
	struct lz4r *r = lz4r_new(buf_sink, out, max_out, err);
	size_t off = 0, k = 0;
	int rc = LSC_OK;

	if (r == NULL)
		return LSC_EIO;
	while (rc == LSC_OK && off < zlen) {
		size_t n = chunk == 0 ? zlen - off :
		    chunk > 0 ? (size_t)chunk : odd[k++ % (sizeof(odd) / sizeof(odd[0]))];

		if (n > zlen - off)
			n = zlen - off;
		rc = lz4r_feed(r, z + off, n, err);
		off += n;
	}
	if (rc == LSC_OK)
		rc = lz4r_finish(r, err);
	if (rc == LSC_OK && lz4r_total_out(r) != out->len)
		rc = LSC_EIO;
	lz4r_free(r);
	return rc;
}

static void
round_trip(const char *what, const unsigned char *data, size_t len,
    long chunk)
{
	struct buf z, out;
	struct lsc_err err = { 0 };
	int rc;

	buf_init(&z, (size_t)64 << 20);
	buf_init(&out, (size_t)64 << 20);
	T_EQ_INT(compress(data, len, &z), LSC_OK);
	rc = decompress(z.data, z.len, chunk, UINT64_MAX, &out, &err);
	if (rc != LSC_OK)
		printf("  %s (chunk %ld): %s\n", what, chunk, err.msg);
	T_EQ_INT(rc, LSC_OK);
	T_EQ_INT(out.len, len);
	T_CHECK(out.len == len && (len == 0 || memcmp(out.data, data, len) == 0));
	buf_release(&z);
	buf_release(&out);
}

static void
test_round_trips(void)
{
	size_t big = 5u << 20;
	unsigned char one = 0x42;
	unsigned char *rnd = random_bytes(big), *txt = compressible_bytes(big);
	unsigned char *edge = random_bytes((4u << 20) + 1);

	round_trip("empty", NULL, 0, 0);
	round_trip("empty", (const unsigned char *)"", 0, 1);
	round_trip("one byte", &one, 1, 0);
	round_trip("one byte", &one, 1, 1);
	round_trip("random", rnd, big, 0);
	round_trip("random", rnd, big, -1);
	round_trip("compressible", txt, big, 0);
	round_trip("compressible", txt, big, -1);
	/* one block exactly, and one byte into the second */
	round_trip("4MiB", edge, 4u << 20, 0);
	round_trip("4MiB+1", edge, (4u << 20) + 1, 4093);
	/* 1-byte feeding over something that spans blocks */
	round_trip("compressible 1-byte", txt, (4u << 20) + 100, 1);
	round_trip("random 1-byte", rnd, 300000, 1);

	/* compressible data does compress; random data costs little extra */
	{
		struct buf z;

		buf_init(&z, (size_t)64 << 20);
		compress(txt, big, &z);
		T_CHECK(z.len < big / 10);
		buf_reset(&z);
		compress(rnd, big, &z);
		T_CHECK(z.len > big && z.len < big + big / 100);
		buf_release(&z);
	}
	free(rnd);
	free(txt);
	free(edge);
}

/* The streaming writer, fed in pieces, gives a frame the reader accepts. */
static void
test_stream_writer(void)
{
	size_t n = 3u << 20;
	unsigned char *txt = compressible_bytes(n);
	struct lsc_err err = { 0 };
	struct buf z, out;
	struct lz4w *w;
	size_t off = 0, step = 1;

	buf_init(&z, (size_t)64 << 20);
	buf_init(&out, (size_t)64 << 20);
	w = lz4w_new(buf_sink, &z, &err);
	T_CHECK(w != NULL);
	if (w == NULL)
		return;
	/* the header goes out at once */
	T_EQ_INT(z.len, 7);
	while (off < n) {
		size_t k = step < n - off ? step : n - off;

		T_EQ_INT(lz4w_write(w, txt + off, k, &err), LSC_OK);
		off += k;
		step = step * 3 + 1;
	}
	T_CHECK(lz4w_total_in(w) == n);
	T_EQ_INT(lz4w_finish(w, &err), LSC_OK);
	lz4w_free(w);
	T_EQ_INT(decompress(z.data, z.len, 0, UINT64_MAX, &out, &err), LSC_OK);
	T_CHECK(out.len == n && memcmp(out.data, txt, n) == 0);

	/* a failing sink stops the writer with the sink's error */
	{
		struct fail_sink f = { 0, 1 };

		lsc_err_clear(&err);
		T_CHECK(lz4w_new(failing_sink, &f, &err) == NULL);
		T_EQ_INT(err.code, LSC_EIO);
		f = (struct fail_sink){ 0, 2 };
		lsc_err_clear(&err);
		w = lz4w_new(failing_sink, &f, &err);
		T_CHECK(w != NULL);
		if (w != NULL) {
			int rc = lz4w_write(w, txt, n, &err);

			if (rc == LSC_OK)
				rc = lz4w_finish(w, &err);
			T_EQ_INT(rc, LSC_EIO);
			T_EQ_STR(err.msg, "sink says no");
			lz4w_free(w);
		}
	}
	/* and a failing sink stops the reader */
	{
		struct fail_sink f = { 0, 1 };
		struct lz4r *r;

		lsc_err_clear(&err);
		r = lz4r_new(failing_sink, &f, UINT64_MAX, &err);
		T_EQ_INT(lz4r_feed(r, z.data, z.len, &err), LSC_EIO);
		lz4r_free(r);
	}
	lz4w_free(NULL);
	lz4r_free(NULL);
	buf_release(&z);
	buf_release(&out);
	free(txt);
}

/* Litestream's frame header: magic, FLG 0x64, BD 0x70, HC 0xB9. */
static void
test_header_bytes(void)
{
	static const unsigned char want[7] = { 0x04, 0x22, 0x4d, 0x18, 0x64, 0x70,
	    0xb9 };
	struct buf z;

	buf_init(&z, 1 << 20);
	compress("abc", 3, &z);
	T_CHECK(z.len > 7 && memcmp(z.data, want, 7) == 0);
	/* and the frame ends: end mark (4 zero bytes) + 4-byte checksum */
	T_CHECK(z.len >= 15 && memcmp(z.data + z.len - 8, "\0\0\0\0", 4) == 0);
	buf_release(&z);
	buf_init(&z, 1 << 20);
	compress(NULL, 0, &z);
	T_EQ_INT(z.len, 15);
	T_CHECK(z.len == 15 && memcmp(z.data, want, 7) == 0);
	buf_release(&z);
}

/* Decompress a damaged frame whole and in 1-byte steps; both must fail. */
static void
expect_bad(const char *what, const unsigned char *z, size_t zlen,
    uint64_t max_out, int want_code)
{
	static const long chunks[] = { 0, 1, -1 };

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct lsc_err err = { 0 };
		struct buf out;
		int rc;

		buf_init(&out, (size_t)64 << 20);
		rc = decompress(z, zlen, chunks[i], max_out, &out, &err);
		if (rc != want_code || (int)err.code != want_code)
			printf("  %s (chunk %ld): rc %d, want %d: %s\n", what,
			    chunks[i], rc, want_code, err.msg);
		T_EQ_INT(rc, want_code);
		T_EQ_INT(err.code, want_code);
		buf_release(&out);
	}
}

static void
test_corruption(void)
{
	size_t n = 1u << 20;
	unsigned char *txt = compressible_bytes(n);
	unsigned char *rnd = random_bytes(n);
	struct buf z, zr;
	unsigned char *c;

	buf_init(&z, (size_t)64 << 20);
	buf_init(&zr, (size_t)64 << 20);
	compress(txt, n, &z);
	compress(rnd, n, &zr);
	c = xmalloc(zr.len + 64);

	/* a flipped byte in the middle of a stored (random) block */
	memcpy(c, zr.data, zr.len);
	c[zr.len / 2] ^= 0x01;
	expect_bad("flip middle random", c, zr.len, UINT64_MAX, LSC_ECORRUPT);
	/* in the middle of a compressed block */
	memcpy(c, z.data, z.len);
	c[z.len / 2] ^= 0x20;
	expect_bad("flip middle compressed", c, z.len, UINT64_MAX, LSC_ECORRUPT);
	/* in the content checksum trailer */
	for (size_t k = 1; k <= 4; k++) {
		memcpy(c, z.data, z.len);
		c[z.len - k] ^= 0x80;
		expect_bad("flip checksum", c, z.len, UINT64_MAX, LSC_ECORRUPT);
	}
	/* in the header: magic, flags, header checksum */
	for (size_t k = 0; k < 7; k++) {
		memcpy(c, z.data, z.len);
		c[k] ^= 0x01;
		expect_bad("flip header", c, z.len, UINT64_MAX, LSC_ECORRUPT);
	}
	/* in the end mark */
	memcpy(c, z.data, z.len);
	c[z.len - 6] ^= 0x01;
	expect_bad("flip end mark", c, z.len, UINT64_MAX, LSC_ECORRUPT);
	/* truncated anywhere: finish must fail */
	{
		static const size_t cut[] = { 1, 4, 5, 8, 9, 100 };

		for (size_t k = 0; k < sizeof(cut) / sizeof(cut[0]); k++) {
			expect_bad("truncated (tail)", z.data, z.len - cut[k],
			    UINT64_MAX, LSC_ECORRUPT);
			expect_bad("truncated (head)", z.data, cut[k], UINT64_MAX,
			    LSC_ECORRUPT);
		}
		expect_bad("truncated random", zr.data, zr.len / 2, UINT64_MAX,
		    LSC_ECORRUPT);
	}
	/* trailing garbage, or a second frame, after a complete frame */
	memcpy(c, z.data, z.len);
	c[z.len] = 0;
	expect_bad("1 trailing byte", c, z.len + 1, UINT64_MAX, LSC_ECORRUPT);
	memcpy(c, zr.data, zr.len);
	memcpy(c + zr.len, "garbage after the frame", 23);
	expect_bad("trailing garbage", c, zr.len + 23, UINT64_MAX, LSC_ECORRUPT);
	{
		struct buf two;

		buf_init(&two, (size_t)64 << 20);
		compress("x", 1, &two);
		compress("y", 1, &two);
		expect_bad("two frames", two.data, two.len, UINT64_MAX, LSC_ECORRUPT);
		buf_release(&two);
	}
	/* trailing bytes in a later feed call than the frame's end */
	{
		struct lsc_err err = { 0 };
		struct buf out;
		struct lz4r *r;

		buf_init(&out, (size_t)64 << 20);
		r = lz4r_new(buf_sink, &out, UINT64_MAX, &err);
		T_EQ_INT(lz4r_feed(r, z.data, z.len, &err), LSC_OK);
		T_EQ_INT(lz4r_feed(r, "\0", 1, &err), LSC_ECORRUPT);
		lz4r_free(r);
		buf_release(&out);
	}
	/* nothing at all is not a frame */
	{
		struct lsc_err err = { 0 };
		struct buf out;
		struct lz4r *r;

		buf_init(&out, 16);
		r = lz4r_new(buf_sink, &out, UINT64_MAX, &err);
		T_EQ_INT(lz4r_finish(r, &err), LSC_ECORRUPT);
		lz4r_free(r);
	}
	/* not LZ4 at all */
	expect_bad("plain text", (const unsigned char *)"hello, world", 12,
	    UINT64_MAX, LSC_ECORRUPT);
	/* output beyond max_out */
	expect_bad("max_out", z.data, z.len, n - 1, LSC_ECORRUPT);
	expect_bad("max_out 0", z.data, z.len, 0, LSC_ECORRUPT);
	{
		struct lsc_err err = { 0 };
		struct buf out;

		buf_init(&out, (size_t)64 << 20);
		T_EQ_INT(decompress(z.data, z.len, 0, n, &out, &err), LSC_OK);
		T_CHECK(out.len == n);
		buf_release(&out);
	}
	free(c);
	free(txt);
	free(rnd);
	buf_release(&z);
	buf_release(&zr);
}

/* A frame made by liblz4 directly with the given checksum setting. */
static size_t
lz4f_frame(const void *data, size_t len, int content_checksum,
    int block_checksum, unsigned char **out)
{
	LZ4F_preferences_t prefs;
	size_t cap, n;

	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.blockSizeID = LZ4F_max4MB;
	prefs.frameInfo.blockMode = LZ4F_blockIndependent;
	prefs.frameInfo.contentChecksumFlag = content_checksum ?
	    LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
	prefs.frameInfo.blockChecksumFlag = block_checksum ?
	    LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
	cap = LZ4F_compressFrameBound(len, &prefs);
	*out = xmalloc(cap);
	n = LZ4F_compressFrame(*out, cap, data, len, &prefs);
	T_CHECK(!LZ4F_isError(n));
	return LZ4F_isError(n) ? 0 : n;
}

static void
test_no_content_checksum(void)
{
	size_t n = 1u << 20;
	unsigned char *txt = compressible_bytes(n);
	unsigned char *f = NULL;
	size_t flen;

	/* sanity: liblz4's own frame with a checksum is accepted */
	flen = lz4f_frame(txt, n, 1, 0, &f);
	{
		struct lsc_err err = { 0 };
		struct buf out;

		buf_init(&out, (size_t)64 << 20);
		T_EQ_INT(decompress(f, flen, -1, UINT64_MAX, &out, &err), LSC_OK);
		T_CHECK(out.len == n && memcmp(out.data, txt, n) == 0);
		buf_release(&out);
	}
	free(f);

	/*
	 * Without a content checksum: refused, whole, in 1-byte steps and in
	 * odd chunks, whatever the frame's size.
	 */
	flen = lz4f_frame(txt, n, 0, 0, &f);
	T_CHECK(flen > 7 && (f[4] & 0x04) == 0);
	expect_bad("no content checksum", f, flen, UINT64_MAX, LSC_ECORRUPT);
	free(f);
	flen = lz4f_frame(txt, n, 0, 1, &f);
	expect_bad("block checksums only", f, flen, UINT64_MAX, LSC_ECORRUPT);
	free(f);
	free(txt);
}

/* Counts what reaches the sink, so a test can see nothing leaked out. */
static int
count_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	(void)data;
	(void)err;
	*(size_t *)ctx += len;
	return LSC_OK;
}

/*
 * A frame small enough to decode in one LZ4F_decompress call, without a
 * content checksum: refused, and not one byte reaches the sink first (a
 * restore must never write bytes it could not verify).  Empty and
 * one-block frames, fed whole and in 1-byte steps.
 */
static void
test_small_no_checksum(void)
{
	static const size_t sizes[] = { 0, 1, 3, 100, 4096, 65536 };
	unsigned char *txt = compressible_bytes(65536);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *f = NULL;
		size_t flen = lz4f_frame(txt, sizes[i], 0, 0, &f);

		for (int step = 0; step < 2; step++) {
			struct lsc_err err = { 0 };
			size_t got = 0, off = 0;
			struct lz4r *r = lz4r_new(count_sink, &got, UINT64_MAX,
			    &err);
			int rc = LSC_OK;

			while (rc == LSC_OK && off < flen) {
				size_t k = step == 0 ? flen : 1;

				rc = lz4r_feed(r, f + off, k, &err);
				off += k;
			}
			if (rc == LSC_OK)
				rc = lz4r_finish(r, &err);
			if (rc != LSC_ECORRUPT || got != 0)
				printf("  small no-checksum %zu (step %d): rc %d,"
				    " %zu bytes out: %s\n", sizes[i], step, rc,
				    got, err.msg);
			T_EQ_INT(rc, LSC_ECORRUPT);
			T_EQ_INT(got, 0);
			T_CHECK(strstr(err.msg, "content checksum") != NULL);
			lz4r_free(r);
		}
		free(f);
	}

	/*
	 * With the flag but the checksum cut off, or wrong: refused too
	 * (the data before it may have reached the sink; lz4r_finish is the
	 * verdict and restore writes to a temporary file).
	 */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *f = NULL;
		size_t flen = lz4f_frame(txt, sizes[i], 1, 0, &f);

		expect_bad("small, checksum missing", f, flen - 4, UINT64_MAX,
		    LSC_ECORRUPT);
		f[flen - 1] ^= 0x01;
		expect_bad("small, checksum wrong", f, flen, UINT64_MAX,
		    LSC_ECORRUPT);
		free(f);
	}
	free(txt);
}

/*
 * One reader reused with lz4r_reset: after a good frame, after a corrupt
 * one (a flipped content byte), after a truncated one and after a refused
 * one (no content checksum), the next frame decodes whole and exact, the
 * count restarts and the new sink gets the bytes.
 */
static void
test_reset(void)
{
	size_t n = 5 * 1024 * 1024 + 77;	/* two 4 MiB blocks */
	unsigned char *src = random_bytes(n), *z = NULL, *bad;
	size_t zlen = 0;
	struct lsc_err err = { 0 };
	struct buf a, b;
	struct lz4r *r;

	T_EQ_INT(lz4_compress_buf(src, n, &z, &zlen, &err), LSC_OK);
	bad = xmalloc(zlen);
	buf_init(&a, (size_t)-1 / 2);
	buf_init(&b, (size_t)-1 / 2);
	r = lz4r_new(buf_sink, &a, UINT64_MAX, &err);
	T_EQ_INT(lz4r_feed(r, z, zlen, &err), LSC_OK);
	T_EQ_INT(lz4r_finish(r, &err), LSC_OK);
	for (int kind = 0; kind < 4; kind++) {
		size_t blen = zlen;

		memcpy(bad, z, zlen);
		if (kind == 1)
			bad[zlen / 2] ^= 0x40;	/* a literal: checksum fails */
		else if (kind == 2)
			blen = zlen - 10;	/* truncated */
		else if (kind == 3) {	/* a valid frame, no content checksum */
			LZ4F_preferences_t p;

			memset(&p, 0, sizeof(p));
			blen = LZ4F_compressFrame(bad, zlen, src, 1000, &p);
			T_CHECK(!LZ4F_isError(blen));
		}
		lsc_err_clear(&err);
		lz4r_reset(r, buf_sink, &b, UINT64_MAX);
		b.len = 0;
		if (kind == 0) {
			T_EQ_INT(lz4r_feed(r, bad, blen, &err), LSC_OK);
			T_EQ_INT(lz4r_finish(r, &err), LSC_OK);
		} else {
			int rc = lz4r_feed(r, bad, blen, &err);

			if (rc == LSC_OK)
				rc = lz4r_finish(r, &err);
			T_EQ_INT(rc, LSC_ECORRUPT);
		}
		/* Reset after whatever that was: the good frame again. */
		lsc_err_clear(&err);
		b.len = 0;
		lz4r_reset(r, buf_sink, &b, UINT64_MAX);
		T_EQ_INT(lz4r_feed(r, z, 1000, &err), LSC_OK);
		T_EQ_INT(lz4r_feed(r, z + 1000, zlen - 1000, &err), LSC_OK);
		T_EQ_INT(lz4r_finish(r, &err), LSC_OK);
		T_EQ_INT(lz4r_total_out(r), n);
		T_CHECK(b.len == n && memcmp(b.data, src, n) == 0);
	}
	T_CHECK(a.len == n);		/* the first sink got nothing more */
	lz4r_free(r);
	buf_release(&a);
	buf_release(&b);
	free(bad);
	free(z);
	free(src);
}

int
main(void)
{
	test_round_trips();
	test_stream_writer();
	test_header_bytes();
	test_corruption();
	test_no_content_checksum();
	test_small_no_checksum();
	test_reset();
	return t_done();
}
