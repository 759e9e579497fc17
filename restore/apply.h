/* SPDX-License-Identifier: MIT */
/*
 * Building a database file from a snapshot and WAL bytes, streamed: the
 * caller pushes decompressed bytes in (these functions are lsc_sink_fn
 * sinks) and memory stays bounded by one frame plus the page cache,
 * whatever the database or WAL size.  No replica, LZ4 or SQLite library
 * here: only the file and the WAL format.
 *
 * Snapshot: bytes are written to the file from offset 0; the first 100
 * must be a SQLite header ("SQLite format 3\0"), whose page size (bytes
 * 16-17; 1 means 65536) every WAL index must then match, and the total
 * must be a whole number of pages, no more than SQLite's limit.  The
 * header is checked as soon as it arrives.
 *
 * WAL: each index is one byte stream "32-byte header, frames", split into
 * segments that must be contiguous (a segment starts exactly where the
 * previous one ended).  Every frame is checked as SQLite's recovery would:
 * the header's salts and the cumulative checksum chain from the header.
 * A bad frame anywhere is corruption (Litestream only ships valid frames)
 * and the error names the segment and the frame's WAL offset.  Frames are
 * held back until their transaction's commit frame arrives, then each
 * page is written at (pgno - 1) * page_size; frames after the last commit
 * of an index (an uncommitted tail, a torn frame) are dropped, as SQLite
 * would.  At the end of an index the file is truncated to the last
 * commit's database size, since a VACUUM can shrink a database.
 *
 * Frames go through a commit-window page cache (pcache.h) of `cache_mem`
 * bytes (APPLY_CACHE_MEM unless changed before the page size is known),
 * so a page rewritten by many transactions is written once per window;
 * a transaction bigger than the cache spills to an unnamed temp file in
 * `spool_dir`.
 *
 * Verify only: with fd -1 nothing is written and nothing is kept, but
 * every check above still runs and the counts still add up (the drill's
 * chain check reads objects this way, so it verifies exactly what a
 * restore would).  Pending frames are then only counted, so memory is one
 * frame, there is no cache and spool_dir is never used.
 */
#ifndef LSC_APPLY_H
#define LSC_APPLY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "restore/pcache.h"
#include "wal/wal_format.h"

/*
 * Why 4 MiB: hot pages recur within a few transactions, so a bigger
 * window saves few more writes.  Measured with bench/restore_floor.sh
 * (page writes for the WAL frames, by cache size 1 / 4 / 16 / 64 MiB):
 * 2 rows a transaction, 40,441 frames: 10,189 / 10,037 / 10,002 / -;
 * 50 rows and 10 random updates, 52,444 frames: 47,092 / 46,188 /
 * 45,203 / 42,279; each MiB is a MiB of peak RSS.
 */
#define APPLY_CACHE_MEM		(4 * 1024 * 1024)
#define SQLITE_HDR_LEN		100
#define SQLITE_MAX_PAGES	0xfffffffeu	/* SQLite's own limit */

struct db_apply {
	int		 fd;		/* borrowed: the file being built; -1:
					   verify only */
	const char	*spool_dir;	/* borrowed: where pending may spill */
	const char	*gen;		/* borrowed: for messages */
	const char	*path;		/* borrowed: the output, for messages;
					 * "" until set */
	volatile sig_atomic_t *stop;	/* may be NULL: set to abort */
	uint32_t	 page_size;	/* from the snapshot header */

	/* snapshot */
	const char	*snap_key;
	uint8_t		 dbhdr[SQLITE_HDR_LEN];
	uint64_t	 snap_len;

	/* the index being applied */
	uint32_t	 index;
	const char	*key;		/* current segment, for messages */
	uint64_t	 pos;		/* bytes of this index seen so far */
	int		 have_hdr;
	uint8_t		 hdrbuf[WAL_HDR_LEN];
	struct wal_hdr	 hdr;
	uint32_t	 s[2];		/* checksum chain */
	uint8_t		*frame;		/* one frame being assembled: a cache
					   slot, or `vframe` when verifying */
	uint8_t		*vframe;
	size_t		 frame_have;

	/* frames waiting for their commit, and committed pages */
	size_t		 cache_mem;
	struct pcache	*pc;		/* NULL when verifying only */
	uint64_t	 pend_frames;

	/* results, per index and in total */
	uint32_t	 commit_pages;	/* db size after the index's last commit */
	uint64_t	 index_commits;
	uint64_t	 last_commit_end;	/* index offset after that commit */
	uint64_t	 frames, commits, indexes;
	uint32_t	 db_pages;	/* db size after everything applied */
	/* Dropped at index ends: whole frames after the last commit, and
	 * the bytes of a torn last frame.  Neither writer ships these
	 * (format doc §3: only committed frames), so they are suspect. */
	uint64_t	 dropped_frames, dropped_bytes;
	const char	*dropped_key;	/* borrowed: a segment that had some */
};

/*
 * Start on `fd` (empty, open read-write), or -1 to verify only. Cannot
 * fail.  `spool_dir` and `gen` are borrowed until apply_release.
 */
void	apply_init(struct db_apply *a, int fd, const char *spool_dir,
	    const char *gen);
void	apply_release(struct db_apply *a);
/*
 * Verify WAL without a snapshot: take `page_size` (a power of two from
 * WAL_MIN_PAGE to WAL_MAX_PAGE, checked by the caller) as the snapshot's
 * page size.  Call instead of the snapshot steps, before any index.
 */
void	apply_use_page_size(struct db_apply *a, uint32_t page_size);

/* Snapshot: begin, feed its bytes (a sink; ctx is the db_apply), end. */
void	apply_snapshot_begin(struct db_apply *a, const char *key);
int	apply_snapshot_feed(void *a, const void *data, size_t len,
	    struct lsc_err *err);
int	apply_snapshot_end(struct db_apply *a, struct lsc_err *err);

/* WAL: per index, per segment in offset order; feed is a sink. */
void	apply_index_begin(struct db_apply *a, uint32_t index);
int	apply_segment_begin(struct db_apply *a, const char *key,
	    uint64_t offset, struct lsc_err *err);
int	apply_wal_feed(void *a, const void *data, size_t len,
	    struct lsc_err *err);
/* Drop frames after the last commit and truncate to its size. */
int	apply_index_end(struct db_apply *a, struct lsc_err *err);

#endif
