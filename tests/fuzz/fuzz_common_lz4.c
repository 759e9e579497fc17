/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the streaming LZ4 frame reader (common/lz4frame.c) and its output
 * cap.
 *
 * Input: byte 0 picks the mode, bytes 1-2 the cap (x 64 bytes; 0xffff is
 * "no cap"), byte 3 the feeding chunk size; the rest is the data.
 *  - byte 0 & 7 != 1: the data is a frame.  It is fed in chunks; on success
 *    the output is no larger than the cap, a frame was finished, and the
 *    output equals liblz4's own one-shot decoding of the same bytes
 *    (a differential check); on failure the message is one line; the
 *    sink never gets more than the cap, and lz4r_over_cap says when the
 *    cap was what failed.
 *  - byte 0 & 7 == 1: the data is compressed with lz4_compress_buf (4 MiB
 *    blocks: each run maps and unmaps megabytes under ASan, so this
 *    slower mode gets one value in eight) and read back
 *    with a cap of exactly its length (must succeed and give the same
 *    bytes) and one byte less (must fail once there is a byte).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>

#include "common/lz4frame.h"

#define MAX_OUT		(4u << 20)	/* keep one run's memory small */

struct out {
	uint8_t	*p;
	size_t	 len;
};

static int
sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct out *o = ctx;

	(void)err;
	if (o->len + len > MAX_OUT + (1u << 20))
		abort();	/* the cap did not hold */
	o->p = realloc(o->p, o->len + len + 1);
	memcpy(o->p + o->len, data, len);
	o->len += len;
	return LSC_OK;
}

static void
one_line(const struct lsc_err *e)
{
	if (e->code == LSC_OK || e->msg[0] == '\0' || strchr(e->msg, '\n'))
		abort();
}

/* Read `d` through lz4r with `cap`, `chunk` bytes at a time. */
static int
read_frame(const uint8_t *d, size_t n, uint64_t cap, size_t chunk,
    struct out *o, struct lsc_err *e)
{
	struct lz4r *r = lz4r_new(sink, o, cap, e);
	int rc = LSC_OK;

	if (r == NULL)
		abort();
	for (size_t off = 0; rc == LSC_OK && off < n; off += chunk)
		rc = lz4r_feed(r, d + off, n - off < chunk ? n - off : chunk, e);
	if (rc == LSC_OK)
		rc = lz4r_finish(r, e);
	if (rc == LSC_OK && lz4r_total_out(r) != o->len)
		abort();
	/* Output stops at the cap, and a cap refusal says so. */
	if (lz4r_total_out(r) > cap ||
	    (lz4r_over_cap(r) && (rc != LSC_ECORRUPT || o->len > cap)))
		abort();
	lz4r_free(r);
	return rc;
}

/*
 * liblz4's one-shot decoding into room for `room` bytes (one more than
 * the output it should give, so that more shows): 0 and *o filled, or -1.
 */
static int
reference(const uint8_t *d, size_t n, size_t room, struct out *o)
{
	LZ4F_dctx *dc;
	size_t in = n, got = 0, hint = 1;
	int ok = 0;

	if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
		abort();
	o->p = malloc(room);
	o->len = 0;
	while (hint != 0) {
		size_t out_n = room - got, in_n = in;

		hint = LZ4F_decompress(dc, o->p + got, &out_n, d, &in_n, NULL);
		if (LZ4F_isError(hint))
			break;
		got += out_n;
		d += in_n;
		in -= in_n;
		if (hint == 0) {
			ok = in == 0;	/* nothing may follow the frame */
			break;
		}
		if (in_n == 0 && out_n == 0)
			break;		/* truncated */
	}
	o->len = got;
	LZ4F_freeDecompressionContext(dc);
	return ok ? 0 : -1;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsc_err e = { 0 };
	struct out o = { NULL, 0 }, ref = { NULL, 0 };
	unsigned capu;
	uint64_t cap;
	size_t chunk, n;
	const uint8_t *d;
	int rc;

	if (size < 4 || size > (1 << 20))
		return 0;
	capu = (unsigned)data[1] | (unsigned)data[2] << 8;
	cap = capu == 0xffff ? MAX_OUT : (uint64_t)capu * 64;
	chunk = data[3] == 0 ? 1 : (size_t)data[3] * 37;
	d = data + 4;
	n = size - 4;

	if ((data[0] & 7) != 1) {
		rc = read_frame(d, n, cap, chunk, &o, &e);
		if (rc != LSC_OK) {
			one_line(&e);
		} else {
			if (o.len > cap)
				abort();
			/* The same bytes liblz4 gives in one go. */
			if (reference(d, n, o.len + 1, &ref) != 0 || ref.len != o.len ||
			    (o.len > 0 && memcmp(ref.p, o.p, o.len) != 0))
				abort();
			/* A frame we accept carries a content checksum. */
			if (n < 5 || (d[4] & 0x04) == 0)
				abort();
		}
	} else {
		unsigned char *z = NULL;
		size_t zlen = 0;

		if (lz4_compress_buf(d, n, &z, &zlen, &e) != LSC_OK)
			abort();
		if (read_frame(z, zlen, n, chunk, &o, &e) != LSC_OK ||
		    o.len != n || (n > 0 && memcmp(o.p, d, n) != 0))
			abort();
		if (n > 0) {
			free(o.p);
			o.p = NULL;
			o.len = 0;
			lsc_err_clear(&e);
			if (read_frame(z, zlen, n - 1, chunk, &o, &e) == LSC_OK)
				abort();
			one_line(&e);
		}
		free(z);
	}
	free(o.p);
	free(ref.p);
	return 0;
}
