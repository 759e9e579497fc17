/* SPDX-License-Identifier: MIT */
/*
 * The SQLite WAL file format (SQLite's own words are in src/wal.c):
 *
 *   WAL header, 32 bytes, every field a big-endian u32:
 *	0 magic 0x377f0682 (checksums over little-endian words)
 *	        0x377f0683 (checksums over big-endian words)
 *	4 format version 3007000   8 page size   12 checkpoint sequence
 *	16 salt-1   20 salt-2   24 checksum-1   28 checksum-2 (over bytes 0..23)
 *
 *   Frame = 24-byte header + one page, all big-endian u32:
 *	0 page number   4 database size in pages after commit (0: not a commit)
 *	8 salt-1   12 salt-2 (must equal the header's)
 *	16 checksum-1   20 checksum-2: cumulative, seeded by the previous
 *	   frame's checksum (the header's for frame 1), over frame bytes 0..7
 *	   and then the page.
 *
 * A frame is valid when its salts match and its checksum continues the
 * chain; SQLite treats the first invalid frame as the end of the log and
 * ignores frames after the last valid commit.  Page size 65536 is stored
 * as 65536 (unlike the database header, where it is 1; SQLite's WAL
 * recovery refuses a WAL header that says 1).  Nothing here does I/O.
 */
#ifndef LSC_WAL_FORMAT_H
#define LSC_WAL_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define WAL_HDR_LEN		32
#define WAL_FRAME_HDR_LEN	24
#define WAL_MAGIC_LE		0x377f0682u
#define WAL_MAGIC_BE		0x377f0683u
#define WAL_VERSION		3007000u
#define WAL_MIN_PAGE		512
#define WAL_MAX_PAGE		65536

struct wal_hdr {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	page_size;	/* decoded: 512..65536 */
	uint32_t	ckpt_seq;
	uint32_t	salt1, salt2;
	uint32_t	cksum1, cksum2;
	int		big_endian;	/* checksum word order */
};

struct wal_frame_hdr {
	uint32_t	pgno;
	uint32_t	commit;		/* db size in pages after commit, or 0 */
	uint32_t	salt1, salt2;
	uint32_t	cksum1, cksum2;
};

uint32_t wal_get32(const uint8_t *p);
void	 wal_put32(uint8_t *p, uint32_t v);

/*
 * Parse and fully check a WAL header: magic, version, page size (a power
 * of two in 512..65536) and the header checksum.  LSC_ECORRUPT if not.
 */
int	wal_hdr_parse(const uint8_t b[WAL_HDR_LEN], struct wal_hdr *out,
	    struct lsc_err *err);

/* Encode a header (computing its checksum); for tests and synthetic WALs. */
void	wal_hdr_encode(const struct wal_hdr *h, uint8_t b[WAL_HDR_LEN]);

void	wal_frame_hdr_parse(const uint8_t b[WAL_FRAME_HDR_LEN],
	    struct wal_frame_hdr *out);

/*
 * Add `len` bytes (a multiple of 8) to the running checksum s[0..1], in
 * the word order the header's magic selects.
 */
void	wal_checksum(int big_endian, const uint8_t *data, size_t len,
	    uint32_t s[2]);

/*
 * Check one frame (24 + page_size bytes) against the header's salts and
 * the running checksum `s` (the previous frame's, or the header's).
 * Returns 1 and advances `s` if valid, 0 otherwise (s unchanged).
 */
int	wal_frame_check(const struct wal_hdr *h, const uint8_t *frame,
	    uint32_t s[2]);

/*
 * Write a frame for page `pgno` with `commit` (0 or the db size), its
 * salts and checksum continuing `s` (advanced); for tests and synthetic
 * WALs.  `frame` has room for 24 + page_size bytes; the page is copied in.
 */
void	wal_frame_encode(const struct wal_hdr *h, uint32_t pgno,
	    uint32_t commit, const uint8_t *page, uint32_t s[2], uint8_t *frame);

/* Frame size for a page size. */
static inline size_t
wal_frame_len(uint32_t page_size)
{
	return WAL_FRAME_HDR_LEN + (size_t)page_size;
}

/* Byte offset of the end of frame `n` (n frames after the header). */
static inline uint64_t
wal_offset_of(uint32_t page_size, uint64_t nframes)
{
	return WAL_HDR_LEN + nframes * wal_frame_len(page_size);
}

/* Largest frame-aligned size <= size (0 if below the header). */
uint64_t wal_align(uint32_t page_size, uint64_t size);

#endif
