/* SPDX-License-Identifier: MIT */
/*
 * Streaming LZ4 frames in Litestream v0.3's shape (format doc §2.2): one
 * frame per object, 4 MiB independent blocks, a content checksum (xxh32),
 * no content size.  Both directions push bytes into a sink callback, so
 * memory stays bounded by one block whatever the object's size.
 *
 * The reader verifies everything the frame carries: magic, header
 * checksum, block sizes, the content checksum at the end, that the frame
 * is complete, and that nothing follows it.  A frame without a content
 * checksum is refused before any byte of it is decoded, as is output
 * beyond `max_out`.  Output may reach the sink before the content checksum
 * at the end is verified: only lz4r_finish() returning LSC_OK says the
 * whole frame was good.
 */
#ifndef LSC_LZ4FRAME_H
#define LSC_LZ4FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Receives bytes; returns LSC_OK or an error code (which stops the stream). */
typedef int (*lsc_sink_fn)(void *ctx, const void *data, size_t len,
    struct lsc_err *err);

struct lz4w;
struct lz4r;

/* Compressor writing a frame to `sink`; the header is written at once. */
struct lz4w *lz4w_new(lsc_sink_fn sink, void *ctx, struct lsc_err *err);
int	lz4w_write(struct lz4w *w, const void *data, size_t len,
	    struct lsc_err *err);
/* Flush the last block, the end mark and the checksum. */
int	lz4w_finish(struct lz4w *w, struct lsc_err *err);
/* Uncompressed bytes written so far. */
uint64_t lz4w_total_in(const struct lz4w *w);
void	lz4w_free(struct lz4w *w);

/* Decompressor; output goes to `sink`, at most `max_out` bytes. */
struct lz4r *lz4r_new(lsc_sink_fn sink, void *ctx, uint64_t max_out,
	    struct lsc_err *err);
/*
 * The same, handing the sink up to `out_cap` bytes a call (lz4r_new: 256
 * KiB).  With LZ4R_BLOCK_MAX or more, liblz4 decodes each block straight
 * into that buffer instead of into its own and then copying it out.
 */
#define LZ4R_BLOCK_MAX	(4 * 1024 * 1024)	/* Litestream's block size */
struct lz4r *lz4r_new_sized(lsc_sink_fn sink, void *ctx, uint64_t max_out,
	    size_t out_cap, struct lsc_err *err);
int	lz4r_feed(struct lz4r *r, const void *data, size_t len,
	    struct lsc_err *err);
/* LSC_ECORRUPT unless exactly one whole, verified frame was fed. */
int	lz4r_finish(struct lz4r *r, struct lsc_err *err);
/*
 * Ready `r` for a new frame into `sink`, as lz4r_new would make it but
 * keeping its buffers (liblz4's are 8 MiB for 4 MiB blocks: allocating
 * and faulting them in again for every object is a measurable cost).
 * Whatever state the previous frame left, even a failure.
 */
void	lz4r_reset(struct lz4r *r, lsc_sink_fn sink, void *ctx,
	    uint64_t max_out);
uint64_t lz4r_total_out(const struct lz4r *r);
/* 1 if the reader failed because the frame inflates past `max_out`. */
int	lz4r_over_cap(const struct lz4r *r);
void	lz4r_free(struct lz4r *r);

/* Compress a whole buffer into a new one (for small objects and tests). */
int	lz4_compress_buf(const void *data, size_t len, unsigned char **out,
	    size_t *out_len, struct lsc_err *err);

#endif
