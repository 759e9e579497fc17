/* SPDX-License-Identifier: MIT */
/*
 * The commit-window page cache (contract in pcache.h).  Slots hold whole
 * frames (header and page), so a frame is assembled, checked and kept in
 * the same bytes, and a transaction's commit only moves slot numbers.
 *
 * Slots are in one of four states: free (on the free stack), the one
 * being assembled (`cur`), pending (in `pend`, log order), or committed
 * (the value of its page number in the open-addressing map).  The map
 * holds at most one entry per committed slot and is emptied by every
 * flush, so it never fills past half.  Pending frames spill only when no
 * page is committed, so a spilled frame is never older than a committed
 * image still waiting in the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "restore/pcache.h"
#include "wal/wal_format.h"

#define MIN_SLOTS	8
#define NO_SLOT		UINT32_MAX
#define RUN_MAX		64	/* pages per pwritev */

struct entry {
	uint32_t	 pgno;		/* 0: empty */
	uint32_t	 slot;
};

struct pcache {
	int		 fd;
	uint32_t	 page_size;
	size_t		 flen;
	const char	*spool_dir;
	const char	*path;		/* the output, for messages */
	uint8_t		*mem;		/* nslots frames */
	uint32_t	 nslots;
	uint32_t	*free;		/* stack of free slots */
	uint32_t	 nfree;
	uint32_t	 cur;		/* being assembled, or NO_SLOT */
	uint32_t	*pend;		/* this transaction's frames */
	uint32_t	 npend;
	struct entry	*map;		/* pgno -> committed slot */
	uint32_t	 map_mask;
	uint32_t	 ncommitted;
	struct entry	*sorted;	/* scratch for flushes */
	int		 spool_fd;	/* -1 until the first spill */
	uint64_t	 spool_len;	/* bytes of this transaction spilled */
	struct pcache_stats st;
};

static uint8_t *
slot_frame(const struct pcache *c, uint32_t s)
{
	return c->mem + (size_t)s * c->flen;
}

static uint32_t
slot_pgno(const struct pcache *c, uint32_t s)
{
	return wal_get32(slot_frame(c, s));
}

struct pcache *
pcache_new(int fd, const char *path, uint32_t page_size, size_t mem,
    const char *spool_dir)
{
	struct pcache *c = xcalloc(1, sizeof(*c));
	uint32_t mapn = 1;

	c->fd = fd;
	c->page_size = page_size;
	c->flen = wal_frame_len(page_size);
	c->spool_dir = spool_dir;
	c->path = path;
	c->nslots = mem / c->flen < MIN_SLOTS ? MIN_SLOTS :
	    (uint32_t)(mem / c->flen);
	c->mem = xmalloc((size_t)c->nslots * c->flen);
	c->free = xmalloc(c->nslots * sizeof(*c->free));
	for (uint32_t i = 0; i < c->nslots; i++)
		c->free[i] = c->nslots - 1 - i;
	c->nfree = c->nslots;
	c->cur = NO_SLOT;
	c->pend = xmalloc(c->nslots * sizeof(*c->pend));
	while (mapn < 2 * c->nslots)
		mapn <<= 1;
	c->map = xcalloc(mapn, sizeof(*c->map));
	c->map_mask = mapn - 1;
	c->sorted = xmalloc(c->nslots * sizeof(*c->sorted));
	c->spool_fd = -1;
	return c;
}

void
pcache_free(struct pcache *c)
{
	if (c == NULL)
		return;
	if (c->spool_fd >= 0)
		close(c->spool_fd);
	free(c->mem);
	free(c->free);
	free(c->pend);
	free(c->map);
	free(c->sorted);
	free(c);
}

static struct entry *
map_slot(struct pcache *c, uint32_t pgno)
{
	uint32_t i = (pgno * 0x9e3779b1u) & c->map_mask;

	while (c->map[i].pgno != 0 && c->map[i].pgno != pgno)
		i = (i + 1) & c->map_mask;
	return &c->map[i];
}

static int
write_err(const struct pcache *c, struct lsc_err *err)
{
	return lsc_seterr(err, LSC_EIO, errno,
	    "cannot write the restored database '%s': %s", c->path,
	    strerror(errno));
}

static int
by_pgno(const void *a, const void *b)
{
	uint32_t x = ((const struct entry *)a)->pgno;
	uint32_t y = ((const struct entry *)b)->pgno;

	return x < y ? -1 : x > y;
}

/* Write `k` adjacent pages at `off` (`len` bytes) in one call if we can. */
static int
write_run(struct pcache *c, const struct iovec *iov, uint32_t k, off_t off,
    size_t len, struct lsc_err *err)
{
	ssize_t w;
	size_t done;

	do
		w = pwritev(c->fd, iov, (int)k, off);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return write_err(c, err);
	if ((size_t)w == len)
		return LSC_OK;
	/* A short write: finish page by page. */
	done = (size_t)w;
	for (uint32_t j = 0; j < k; j++, off += (off_t)c->page_size) {
		if (done >= c->page_size) {
			done -= c->page_size;
			continue;
		}
		if (pwrite_full(c->fd, (const uint8_t *)iov[j].iov_base + done,
		    c->page_size - done, off + (off_t)done) != 0)
			return write_err(c, err);
		done = 0;
	}
	return LSC_OK;
}

/* Write `n` pages of `e` (sorted, distinct), adjacent runs together. */
static int
write_sorted(struct pcache *c, const struct entry *e, uint32_t n,
    struct lsc_err *err)
{
	struct iovec iov[RUN_MAX];
	int rc;

	for (uint32_t i = 0; i < n;) {
		uint32_t k = 0;
		off_t off = (off_t)(e[i].pgno - 1) * c->page_size;
		size_t len = 0;

		do {
			iov[k].iov_base = slot_frame(c, e[i + k].slot) +
			    WAL_FRAME_HDR_LEN;
			iov[k].iov_len = c->page_size;
			len += c->page_size;
			k++;
		} while (k < RUN_MAX && i + k < n &&
		    e[i + k].pgno == e[i + k - 1].pgno + 1);
		if ((rc = write_run(c, iov, k, off, len, err)) != LSC_OK)
			return rc;
		c->st.pages_written += k;
		i += k;
	}
	return LSC_OK;
}

int
pcache_flush(struct pcache *c, uint32_t max_pgno, struct lsc_err *err)
{
	uint32_t n = 0;
	int rc;

	if (c->ncommitted == 0)
		return LSC_OK;
	for (uint32_t i = 0; i <= c->map_mask; i++) {
		if (c->map[i].pgno == 0)
			continue;
		if (c->map[i].pgno <= max_pgno)
			c->sorted[n++] = c->map[i];
		else
			c->free[c->nfree++] = c->map[i].slot;
	}
	qsort(c->sorted, n, sizeof(*c->sorted), by_pgno);
	rc = write_sorted(c, c->sorted, n, err);
	for (uint32_t i = 0; i < n; i++)
		c->free[c->nfree++] = c->sorted[i].slot;
	memset(c->map, 0, ((size_t)c->map_mask + 1) * sizeof(*c->map));
	c->ncommitted = 0;
	c->st.flushes++;
	return rc;
}

/* The transaction's frames so far go to the spool, in log order. */
static int
spill(struct pcache *c, struct lsc_err *err)
{
	if (c->spool_fd < 0) {
		/* Unnamed, so nothing is left behind whatever happens. */
		c->spool_fd = open(c->spool_dir, O_TMPFILE | O_RDWR | O_CLOEXEC,
		    0600);
		if (c->spool_fd < 0) {
			char *p = xasprintf("%s/.lsc-pending-XXXXXX", c->spool_dir);

			c->spool_fd = mkostemp(p, O_CLOEXEC);
			if (c->spool_fd >= 0)
				unlink(p);
			free(p);
		}
		if (c->spool_fd < 0)
			return lsc_seterr(err, LSC_EIO, errno,
			    "cannot create a temp file in '%s' for '%s': %s",
			    c->spool_dir, c->path, strerror(errno));
	}
	for (uint32_t i = 0; i < c->npend; i++) {
		if (pwrite_full(c->spool_fd, slot_frame(c, c->pend[i]), c->flen,
		    (off_t)c->spool_len) != 0)
			return lsc_seterr(err, LSC_EIO, errno,
			    "cannot write a temp file in '%s' for '%s': %s",
			    c->spool_dir, c->path, strerror(errno));
		c->spool_len += c->flen;
		c->free[c->nfree++] = c->pend[i];
	}
	c->st.spilled += c->npend;
	c->npend = 0;
	return LSC_OK;
}

int
pcache_slot(struct pcache *c, uint8_t **frame, struct lsc_err *err)
{
	int rc;

	if (c->cur == NO_SLOT) {
		if (c->nfree == 0) {
			/* Committed pages can go; a spill must not pass them. */
			rc = c->ncommitted > 0 ?
			    pcache_flush(c, UINT32_MAX, err) : spill(c, err);
			if (rc != LSC_OK)
				return rc;
		}
		c->cur = c->free[--c->nfree];
	}
	*frame = slot_frame(c, c->cur);
	return LSC_OK;
}

void
pcache_add(struct pcache *c)
{
	c->pend[c->npend++] = c->cur;
	c->cur = NO_SLOT;
}

/* Apply the spooled frames of the committing transaction, in log order. */
static int
apply_spool(struct pcache *c, struct lsc_err *err)
{
	uint8_t *tmp = xmalloc(c->flen);
	int rc = LSC_OK;

	for (uint64_t off = 0; off < c->spool_len; off += c->flen) {
		if (pread_full(c->spool_fd, tmp, c->flen, (off_t)off) !=
		    (ssize_t)c->flen) {
			rc = lsc_seterr(err, LSC_EIO, errno,
			    "cannot read back a temp file in '%s'", c->spool_dir);
			break;
		}
		if (pwrite_full(c->fd, tmp + WAL_FRAME_HDR_LEN, c->page_size,
		    (off_t)(wal_get32(tmp) - 1) * c->page_size) != 0) {
			rc = write_err(c, err);
			break;
		}
		c->st.pages_written++;
	}
	free(tmp);
	c->spool_len = 0;
	return rc;
}

int
pcache_commit(struct pcache *c, struct lsc_err *err)
{
	int rc;

	c->st.frames += c->npend + c->spool_len / c->flen;
	/* Spilled frames are older than the pending ones: first. */
	if (c->spool_len > 0 && (rc = apply_spool(c, err)) != LSC_OK)
		return rc;
	for (uint32_t i = 0; i < c->npend; i++) {
		uint32_t s = c->pend[i];
		struct entry *e = map_slot(c, slot_pgno(c, s));

		if (e->pgno != 0) {
			c->free[c->nfree++] = e->slot;	/* an older image */
		} else {
			e->pgno = slot_pgno(c, s);
			c->ncommitted++;
		}
		e->slot = s;
	}
	c->npend = 0;
	return LSC_OK;
}

void
pcache_drop(struct pcache *c)
{
	for (uint32_t i = 0; i < c->npend; i++)
		c->free[c->nfree++] = c->pend[i];
	c->npend = 0;
	c->spool_len = 0;
	if (c->cur != NO_SLOT) {
		c->free[c->nfree++] = c->cur;
		c->cur = NO_SLOT;
	}
}

void
pcache_get_stats(const struct pcache *c, struct pcache_stats *st)
{
	*st = c->st;
}
