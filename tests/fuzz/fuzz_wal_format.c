/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the WAL header and frame parser (wal/wal_format.c).
 *
 * Input: one flags byte, then WAL bytes.  Flags: bit 0 makes the header
 * plausible (magic, version, a valid page size from byte 11), bit 1 fixes
 * the header checksum, bit 2 re-encodes frames so their checksums chain
 * (a frame whose first byte is 0xee is left as the input has it), bit 3
 * picks big-endian checksums for bit 0.  The bits let the fuzzer reach
 * deep frames, which random bytes never would.
 *
 * Properties:
 *  - a header that parses re-encodes to the same 32 bytes (page size 1,
 *    an old spelling of 65536, aside);
 *  - the number of valid frames equals a small reference implementation
 *    of SQLite's rule (salts equal, page number not 0, the cumulative
 *    checksum continues), and each valid frame re-encodes to its bytes;
 *  - wal_align and wal_offset_of agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wal/wal_format.h"

#define MAX_INPUT	(1 << 20)

static uint32_t
get_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* SQLite's walChecksumBytes, written out again independently. */
static void
ref_checksum(int be, const uint8_t *d, size_t n, uint32_t *s1, uint32_t *s2)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint32_t x0 = be ? wal_get32(d + i) : get_le(d + i);
		uint32_t x1 = be ? wal_get32(d + i + 4) : get_le(d + i + 4);

		*s1 += x0 + *s2;
		*s2 += x1 + *s1;
	}
}

static void
fix_header(uint8_t *b, int plausible, int fix_ck, int be)
{
	uint32_t s1 = 0, s2 = 0;

	if (plausible) {
		uint32_t ps = 512u << (b[11] % 8);

		wal_put32(b, be ? WAL_MAGIC_BE : WAL_MAGIC_LE);
		wal_put32(b + 4, WAL_VERSION);
		wal_put32(b + 8, ps);
	}
	if (fix_ck) {
		ref_checksum(wal_get32(b) == WAL_MAGIC_BE, b, 24, &s1, &s2);
		wal_put32(b + 24, s1);
		wal_put32(b + 28, s2);
	}
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wal_hdr h;
	uint8_t *b, again[WAL_HDR_LEN];
	size_t len, flen, nvalid = 0, nref = 0;
	uint32_t s[2], r1, r2;
	uint8_t flags;

	if (size < 1 + WAL_HDR_LEN || size > MAX_INPUT)
		return 0;
	flags = data[0];
	len = size - 1;
	b = malloc(len);
	memcpy(b, data + 1, len);
	fix_header(b, flags & 1, flags & 2, flags & 8);
	if (wal_hdr_parse(b, &h, NULL) != LSC_OK) {
		free(b);
		return 0;
	}
	if (h.page_size < WAL_MIN_PAGE || h.page_size > WAL_MAX_PAGE ||
	    (h.page_size & (h.page_size - 1)) != 0)
		abort();
	wal_hdr_encode(&h, again);
	if (wal_get32(b + 8) != 1 && memcmp(again, b, WAL_HDR_LEN) != 0)
		abort();

	flen = wal_frame_len(h.page_size);
	if (flags & 4) {
		/* Re-encode frames so the chain holds, unless marked 0xee. */
		uint32_t c[2] = { h.cksum1, h.cksum2 };

		for (size_t off = WAL_HDR_LEN; off + flen <= len; off += flen) {
			uint8_t *f = b + off;

			if (f[0] == 0xee)
				break;
			wal_put32(f + 8, h.salt1);
			wal_put32(f + 12, h.salt2);
			if (wal_get32(f) == 0)
				wal_put32(f, 1);
			wal_frame_encode(&h, wal_get32(f), wal_get32(f + 4),
			    f + WAL_FRAME_HDR_LEN, c, f);
		}
	}

	/* The parser's count of valid frames, re-encoding each. */
	s[0] = h.cksum1;
	s[1] = h.cksum2;
	for (size_t off = WAL_HDR_LEN; off + flen <= len; off += flen) {
		uint32_t before[2] = { s[0], s[1] };
		struct wal_frame_hdr fh;
		uint8_t *re;

		if (!wal_frame_check(&h, b + off, s)) {
			if (s[0] != before[0] || s[1] != before[1])
				abort();	/* must leave s alone */
			break;
		}
		nvalid++;
		wal_frame_hdr_parse(b + off, &fh);
		re = malloc(flen);
		wal_frame_encode(&h, fh.pgno, fh.commit, b + off + WAL_FRAME_HDR_LEN,
		    before, re);
		if (memcmp(re, b + off, flen) != 0 || before[0] != s[0] ||
		    before[1] != s[1])
			abort();
		free(re);
	}

	/* The reference count. */
	r1 = wal_get32(b + 24);
	r2 = wal_get32(b + 28);
	for (size_t off = WAL_HDR_LEN; off + flen <= len; off += flen) {
		const uint8_t *f = b + off;
		uint32_t c1 = r1, c2 = r2;

		if (wal_get32(f + 8) != wal_get32(b + 16) ||
		    wal_get32(f + 12) != wal_get32(b + 20) || wal_get32(f) == 0)
			break;
		ref_checksum(wal_get32(b) == WAL_MAGIC_BE, f, 8, &c1, &c2);
		ref_checksum(wal_get32(b) == WAL_MAGIC_BE, f + WAL_FRAME_HDR_LEN,
		    h.page_size, &c1, &c2);
		if (c1 != wal_get32(f + 16) || c2 != wal_get32(f + 20))
			break;
		r1 = c1;
		r2 = c2;
		nref++;
	}
	if (nref != nvalid)
		abort();

	/* Alignment helpers agree with each other. */
	if (wal_align(h.page_size, len) != (len < WAL_HDR_LEN ? 0 :
	    wal_offset_of(h.page_size, (len - WAL_HDR_LEN) / flen)))
		abort();
	free(b);
	return 0;
}
