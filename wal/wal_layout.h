/* SPDX-License-Identifier: MIT */
/*
 * Object keys of a Litestream v0.3 replica, relative to its root:
 *
 *	generations/<gen>/snapshots/<index %08x>.snapshot.lz4
 *	generations/<gen>/wal/<index %08x>_<offset %08x>.wal.lz4
 *
 * <gen> is 16 lowercase hex digits.  We write offsets with 8 digits and
 * never reach 4 GiB in one index (Litestream v0.3.13 cannot see 9-digit
 * offsets), but read 8 to 16 digits, as Litestream v0.5 does.  Parsing is
 * strict: a key is ours only if formatting what we parsed gives it back
 * (modulo offset width), so no listed name is ever trusted as a path.
 */
#ifndef LSC_WAL_LAYOUT_H
#define LSC_WAL_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define GEN_ID_LEN	16
#define INDEX_MAX	0x7fffffffu		/* exclusive: start a new generation */
#define OFFSET_MAX	0xffffffffULL		/* 8 hex digits; roll before this */
#define LAYOUT_KEY_MAX	96

enum layout_kind { LAYOUT_SNAPSHOT = 1, LAYOUT_WAL = 2 };

struct layout_key {
	enum layout_kind kind;
	char		 gen[GEN_ID_LEN + 1];
	uint32_t	 index;
	uint64_t	 offset;	/* WAL segments only */
};

/* 1 if `s` is exactly 16 lowercase hex digits. */
int	layout_gen_valid(const char *s);
/* "generations/<gen>/" into out (size >= LAYOUT_KEY_MAX). */
void	layout_gen_prefix(const char *gen, char *out, size_t n);
void	layout_snapshot_key(const char *gen, uint32_t index, char *out, size_t n);
void	layout_wal_key(const char *gen, uint32_t index, uint64_t offset,
	    char *out, size_t n);
/* Parse a key relative to the replica root. 0 ok, -1 not one of ours. */
int	layout_parse(const char *key, struct layout_key *out);

#endif
