/* SPDX-License-Identifier: MIT */
/*
 * The commit-window page cache of a restore: WAL frames are assembled in
 * its slots, held there until their transaction commits, and then kept as
 * the latest committed image of their page, so that a page rewritten by
 * many transactions (page 1, interior b-tree pages, a table's last leaf)
 * is written to the database file once per window instead of once per
 * frame.  A window ends when the cache is full or the caller flushes (at
 * the end of each WAL index); its pages are then written in page order,
 * runs of adjacent pages in one pwritev.
 *
 * The result is the same as writing every committed frame in log order:
 * within a window only the newest committed image of each page survives
 * either way, and windows are written in order.  It is also what SQLite's
 * checkpoint does (the latest frame of each page, nothing past the
 * database's final size).
 *
 * Memory is bounded by `mem` bytes of slots (at least a few frames)
 * whatever the database or transaction size: when no slot is free, the
 * committed pages are written out; when the current transaction alone
 * fills the cache, its frames spill, in log order, to an unnamed temp file
 * in `spool_dir` and are applied from there when it commits.
 */
#ifndef LSC_PCACHE_H
#define LSC_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct pcache;

struct pcache_stats {
	uint64_t	 frames;	/* committed frames seen */
	uint64_t	 pages_written;	/* page writes to the database file */
	uint64_t	 flushes;	/* windows written */
	uint64_t	 spilled;	/* frames that went through the spool */
};

/*
 * A cache writing `page_size` pages to `fd` (borrowed; `path`, borrowed,
 * names it in messages), with `mem` bytes of slots; `spool_dir` (borrowed)
 * is where a transaction too big for the cache spills.  Cannot fail.
 */
struct pcache *pcache_new(int fd, const char *path, uint32_t page_size,
	    size_t mem, const char *spool_dir);
void	pcache_free(struct pcache *c);

/*
 * A slot for the next frame (WAL_FRAME_HDR_LEN + page_size bytes): the
 * caller assembles the frame there and checks it, then adds it with
 * pcache_add.  Until then the same slot is returned again.  Making room
 * may write committed pages or spill pending frames: LSC_EIO on failure.
 */
int	pcache_slot(struct pcache *c, uint8_t **frame, struct lsc_err *err);
/* The frame in the slot is whole and verified: it joins the transaction. */
void	pcache_add(struct pcache *c);
/*
 * The transaction's last frame was its commit: its frames become the
 * pages' latest committed images (a spilled transaction is written to the
 * file now, in log order).
 */
int	pcache_commit(struct pcache *c, struct lsc_err *err);
/* Forget the frames of a transaction that never committed. */
void	pcache_drop(struct pcache *c);
/*
 * Write every committed page numbered at most `max_pgno` (pages past it
 * are beyond the database's end and would be cut off: UINT32_MAX keeps
 * all) and empty the window.
 */
int	pcache_flush(struct pcache *c, uint32_t max_pgno, struct lsc_err *err);
void	pcache_get_stats(const struct pcache *c, struct pcache_stats *st);

#endif
