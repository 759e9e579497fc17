/* SPDX-License-Identifier: MIT */
/* Streaming LZ4 frames: see lz4frame.h. */
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>

#include "common/buf.h"
#include "common/lz4frame.h"
#include "common/xmalloc.h"

#define IN_CHUNK	(256 * 1024)	/* input fed to LZ4F per call */
#define OUT_CHUNK	(256 * 1024)	/* decompressed bytes per sink call */

/*
 * The start of an LZ4 frame header (lz4_Frame_format.md): the 4-byte
 * magic 0x184D2204 (little-endian) and the FLG byte, whose bit 2 is the
 * content-checksum flag.  BD, optional fields and the header checksum
 * follow; liblz4 verifies those.
 */
#define HEAD_LEN		5
#define FLG_CONTENT_CHECKSUM	0x04
static const unsigned char lz4_magic[4] = { 0x04, 0x22, 0x4d, 0x18 };

struct lz4w {
	LZ4F_cctx	*cctx;
	lsc_sink_fn	 sink;
	void		*ctx;
	unsigned char	*out;
	size_t		 out_cap;
	uint64_t	 total_in;
	int		 finished;
};

struct lz4r {
	LZ4F_dctx	*dctx;
	lsc_sink_fn	 sink;
	void		*ctx;
	unsigned char	*out;
	size_t		 out_cap;
	uint64_t	 max_out;
	uint64_t	 total_out;
	unsigned char	 head[HEAD_LEN];	/* magic + FLG, held back */
	size_t		 head_len;	/* bytes of `head` collected so far */
	int		 done;		/* the frame ended (checksum verified) */
	int		 over;		/* refused output beyond max_out */
};

static const LZ4F_preferences_t prefs = {
	.frameInfo = {
		.blockSizeID = LZ4F_max4MB,
		.blockMode = LZ4F_blockIndependent,
		.contentChecksumFlag = LZ4F_contentChecksumEnabled,
		.frameType = LZ4F_frame,
		.contentSize = 0,
		.dictID = 0,
		.blockChecksumFlag = LZ4F_noBlockChecksum,
	},
	.compressionLevel = 0,		/* the fast default, as Litestream */
	/*
	 * Each update of IN_CHUNK bytes becomes a block at once: LZ4F then
	 * needs no 4 MiB input buffer per compressor (with independent
	 * blocks it allocates none).  Readers take any block up to the
	 * frame's maximum, and LZ4's 64 KiB window makes 256 KiB blocks
	 * compress about as well as 4 MiB ones.
	 */
	.autoFlush = 1,
};

struct lz4w *
lz4w_new(lsc_sink_fn sink, void *ctx, struct lsc_err *err)
{
	struct lz4w *w = xcalloc(1, sizeof(*w));
	size_t n;

	if (LZ4F_isError(LZ4F_createCompressionContext(&w->cctx, LZ4F_VERSION))) {
		free(w);
		lsc_seterr(err, LSC_EIO, 0, "cannot create LZ4 compressor");
		return NULL;
	}
	w->sink = sink;
	w->ctx = ctx;
	/* Room for the largest output of one update, a flush or the end. */
	w->out_cap = LZ4F_compressBound(IN_CHUNK, &prefs) + LZ4F_HEADER_SIZE_MAX;
	w->out = xmalloc(w->out_cap);
	n = LZ4F_compressBegin(w->cctx, w->out, w->out_cap, &prefs);
	if (LZ4F_isError(n) || sink(ctx, w->out, n, err) != LSC_OK) {
		if (LZ4F_isError(n))
			lsc_seterr(err, LSC_EIO, 0, "LZ4 frame header: %s",
			    LZ4F_getErrorName(n));
		lz4w_free(w);
		return NULL;
	}
	return w;
}

int
lz4w_write(struct lz4w *w, const void *data, size_t len, struct lsc_err *err)
{
	const unsigned char *p = data;
	int rc;

	while (len > 0) {
		size_t in = len < IN_CHUNK ? len : IN_CHUNK;
		size_t n = LZ4F_compressUpdate(w->cctx, w->out, w->out_cap, p, in,
		    NULL);

		if (LZ4F_isError(n))
			return lsc_seterr(err, LSC_EIO, 0, "LZ4 compression: %s",
			    LZ4F_getErrorName(n));
		if (n > 0 && (rc = w->sink(w->ctx, w->out, n, err)) != LSC_OK)
			return rc;
		p += in;
		len -= in;
		w->total_in += in;
	}
	return LSC_OK;
}

int
lz4w_finish(struct lz4w *w, struct lsc_err *err)
{
	size_t n = LZ4F_compressEnd(w->cctx, w->out, w->out_cap, NULL);

	if (LZ4F_isError(n))
		return lsc_seterr(err, LSC_EIO, 0, "LZ4 frame end: %s",
		    LZ4F_getErrorName(n));
	w->finished = 1;
	return w->sink(w->ctx, w->out, n, err);
}

uint64_t
lz4w_total_in(const struct lz4w *w)
{
	return w->total_in;
}

void
lz4w_free(struct lz4w *w)
{
	if (w == NULL)
		return;
	LZ4F_freeCompressionContext(w->cctx);
	free(w->out);
	free(w);
}

struct lz4r *
lz4r_new(lsc_sink_fn sink, void *ctx, uint64_t max_out, struct lsc_err *err)
{
	return lz4r_new_sized(sink, ctx, max_out, OUT_CHUNK, err);
}

struct lz4r *
lz4r_new_sized(lsc_sink_fn sink, void *ctx, uint64_t max_out, size_t out_cap,
    struct lsc_err *err)
{
	struct lz4r *r = xcalloc(1, sizeof(*r));

	if (LZ4F_isError(LZ4F_createDecompressionContext(&r->dctx, LZ4F_VERSION))) {
		free(r);
		lsc_seterr(err, LSC_EIO, 0, "cannot create LZ4 decompressor");
		return NULL;
	}
	r->sink = sink;
	r->ctx = ctx;
	r->max_out = max_out;
	r->out_cap = out_cap > 0 ? out_cap : OUT_CHUNK;
	r->out = xmalloc(r->out_cap);
	return r;
}

/*
 * Collect the magic and the FLG byte, and refuse a frame that is not ours
 * before liblz4 decodes any of it.  Why parse these 5 bytes ourselves
 * rather than ask LZ4F_getFrameInfo after a decompress call: liblz4
 * decodes a small frame, header to checksum, in one call, hands out its
 * content and resets its context, so the flags can no longer be read and
 * unverifiable output already exists.  Feeding liblz4 1 byte at a time
 * until its header is parsed would also work, but leans on when liblz4
 * fills in its frame info; the magic and FLG are fixed by the LZ4 frame
 * specification.
 *
 * Returns LSC_OK with *used set to the bytes taken from `p`;
 * r->head_len == HEAD_LEN once the check has passed.
 */
static int
check_head(struct lz4r *r, const unsigned char *p, size_t len, size_t *used,
    struct lsc_err *err)
{
	size_t n = HEAD_LEN - r->head_len;

	if (n > len)
		n = len;
	memcpy(r->head + r->head_len, p, n);
	r->head_len += n;
	*used = n;
	if (r->head_len < HEAD_LEN)
		return LSC_OK;
	if (memcmp(r->head, lz4_magic, sizeof(lz4_magic)) != 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "not an LZ4 frame (bad magic number)");
	if ((r->head[4] & FLG_CONTENT_CHECKSUM) == 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "LZ4 frame has no content checksum");
	return LSC_OK;
}

/* Decode `len` bytes of frame into the sink. */
static int
decode(struct lz4r *r, const unsigned char *p, size_t len, struct lsc_err *err)
{
	int rc;

	while (len > 0) {
		size_t out_n = r->out_cap, in_n = len, hint;

		if (r->done)
			return lsc_seterr(err, LSC_ECORRUPT, 0,
			    "%zu unexpected bytes after the LZ4 frame", len);
		hint = LZ4F_decompress(r->dctx, r->out, &out_n, p, &in_n, NULL);
		if (LZ4F_isError(hint))
			return lsc_seterr(err, LSC_ECORRUPT, 0, "LZ4: %s",
			    LZ4F_getErrorName(hint));
		p += in_n;
		len -= in_n;
		if (out_n > 0) {
			if (out_n > r->max_out - r->total_out) {
				r->over = 1;
				return lsc_seterr(err, LSC_ECORRUPT, 0,
				    "LZ4 frame decompresses past the %llu-byte limit",
				    (unsigned long long)r->max_out);
			}
			r->total_out += out_n;
			if ((rc = r->sink(r->ctx, r->out, out_n, err)) != LSC_OK)
				return rc;
		}
		/* 0: the frame is complete and its checksum verified. */
		if (hint == 0)
			r->done = 1;
		else if (in_n == 0 && out_n == 0)
			break;
	}
	return LSC_OK;
}

int
lz4r_feed(struct lz4r *r, const void *data, size_t len, struct lsc_err *err)
{
	const unsigned char *p = data;
	size_t used;
	int rc;

	if (r->head_len < HEAD_LEN) {
		if ((rc = check_head(r, p, len, &used, err)) != LSC_OK)
			return rc;
		if (r->head_len < HEAD_LEN)
			return LSC_OK;
		/* Checked: now liblz4 gets the held-back bytes, then the rest. */
		if ((rc = decode(r, r->head, HEAD_LEN, err)) != LSC_OK)
			return rc;
		p += used;
		len -= used;
	}
	return decode(r, p, len, err);
}

int
lz4r_finish(struct lz4r *r, struct lsc_err *err)
{
	if (!r->done)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "LZ4 frame is truncated (no end mark or checksum)");
	return LSC_OK;
}

void
lz4r_reset(struct lz4r *r, lsc_sink_fn sink, void *ctx, uint64_t max_out)
{
	LZ4F_resetDecompressionContext(r->dctx);
	r->sink = sink;
	r->ctx = ctx;
	r->max_out = max_out;
	r->total_out = 0;
	r->head_len = 0;
	r->done = 0;
	r->over = 0;
}

uint64_t
lz4r_total_out(const struct lz4r *r)
{
	return r->total_out;
}

int
lz4r_over_cap(const struct lz4r *r)
{
	return r->over;
}

void
lz4r_free(struct lz4r *r)
{
	if (r == NULL)
		return;
	LZ4F_freeDecompressionContext(r->dctx);
	free(r->out);
	free(r);
}

static int
append_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	return buf_append(ctx, data, len, err);
}

int
lz4_compress_buf(const void *data, size_t len, unsigned char **out,
    size_t *out_len, struct lsc_err *err)
{
	struct buf b;
	struct lz4w *w;
	int rc;

	buf_init(&b, (size_t)-1 / 2);
	if ((w = lz4w_new(append_sink, &b, err)) == NULL)
		return err != NULL ? err->code : LSC_EIO;
	rc = lz4w_write(w, data, len, err);
	if (rc == LSC_OK)
		rc = lz4w_finish(w, err);
	lz4w_free(w);
	if (rc != LSC_OK) {
		buf_release(&b);
		return rc;
	}
	if (b.data == NULL)
		buf_reserve(&b, 1, NULL);
	*out = buf_detach(&b, out_len);
	return LSC_OK;
}
