/* SPDX-License-Identifier: MIT */
/* Page-by-page comparison of two files (see pagecmp.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "restore/pagecmp.h"

static int
open_ro(const char *path, int *fd, uint64_t *size, struct lsc_err *err)
{
	struct stat st;

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(*fd, &st) != 0)
		return lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s",
		    path, strerror(errno));
	*size = (uint64_t)st.st_size;
	return LSC_OK;
}

static void
count_diff(struct pagecmp *c, uint64_t pgno)
{
	if (c->differ++ == 0)
		c->first = pgno;
}

int
pagecmp_files(const char *a, const char *b, uint32_t page_size,
    struct pagecmp *out, struct lsc_err *err)
{
	struct pagecmp c = { 0 };
	size_t chunk = PAGECMP_CHUNK / page_size * page_size;
	uint64_t size_a = 0, size_b = 0, common, end;
	uint8_t *ba = NULL, *bb = NULL;
	int fa = -1, fb = -1, rc;

	if (chunk == 0)
		chunk = page_size;
	if ((rc = open_ro(a, &fa, &size_a, err)) != LSC_OK ||
	    (rc = open_ro(b, &fb, &size_b, err)) != LSC_OK)
		goto out;
	c.pages_a = (size_a + page_size - 1) / page_size;
	c.pages_b = (size_b + page_size - 1) / page_size;
	/* Whole pages both files have; every page after differs. */
	common = (size_a < size_b ? size_a : size_b) / page_size;
	end = common * page_size;
	ba = xmalloc(chunk);
	bb = xmalloc(chunk);
	for (uint64_t off = 0; off < end; off += chunk) {
		size_t want = end - off < chunk ? (size_t)(end - off) : chunk;
		ssize_t na, nb;

		errno = 0;
		na = pread_full(fa, ba, want, (off_t)off);
		nb = pread_full(fb, bb, want, (off_t)off);

		if (na != (ssize_t)want || nb != (ssize_t)want) {
			/* Short: the file shrank under us. */
			rc = lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s",
			    na != (ssize_t)want ? a : b,
			    errno ? strerror(errno) : "short read");
			goto out;
		}
		for (size_t o = 0; o < want; o += page_size)
			if (memcmp(ba + o, bb + o, page_size) != 0)
				count_diff(&c, (off + o) / page_size + 1);
	}
	for (uint64_t pg = common; pg < c.pages_a || pg < c.pages_b; pg++)
		count_diff(&c, pg + 1);
	*out = c;
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	free(ba);
	free(bb);
	return rc;
}
