/* SPDX-License-Identifier: MIT */
/*
 * Comparing two database files page by page (the drill's replay check:
 * the same state restored along two paths must be identical).  Both files
 * are read in lockstep, a chunk of whole pages at a time, and each page is
 * compared byte for byte.  Both are local files, so comparing the bytes
 * themselves is exact and cheaper than hashing each page; memory is two
 * chunks (PAGECMP_CHUNK, or one page if larger), whatever the file sizes.
 */
#ifndef LSC_PAGECMP_H
#define LSC_PAGECMP_H

#include <stdint.h>

#include "common/err.h"

#define PAGECMP_CHUNK	(1024 * 1024)

struct pagecmp {
	uint64_t	 pages_a, pages_b;	/* file size / page size, rounded up */
	uint64_t	 differ;	/* pages that differ, or exist in one file only */
	uint64_t	 first;		/* the first such page (1-based); 0: none */
};

/*
 * Compare files `a` and `b` in `page_size` pages (non-zero).  LSC_OK when
 * the comparison could be made (identical or not: see out->differ);
 * LSC_EIO, naming the file, when one cannot be read.
 */
int	pagecmp_files(const char *a, const char *b, uint32_t page_size,
	    struct pagecmp *out, struct lsc_err *err);

#endif
