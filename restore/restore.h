/* SPDX-License-Identifier: MIT */
/*
 * Carrying out a restore plan: stream the snapshot and every planned WAL
 * segment from the replica through the age reader (encrypted objects,
 * with the plan's age_identity_file) and the LZ4 reader into the apply
 * engine, building `<output>.lsc-tmp-<pid>` beside the output; check it
 * with SQLite's `PRAGMA integrity_check` (opened read-only and immutable,
 * so no -wal or -shm file appears) while it is fsynced; rename it to the
 * output without ever replacing an existing file; fsync the directory.
 *
 * Reading and decoding run in a thread of their own (rstream.h), beside
 * the checks and writes of the apply engine; from a remote replica the
 * next objects are downloaded ahead (prefetch.h).
 *
 * On any failure the temp file is removed, nothing is left at `output`,
 * and `err` names the object and the reason in one line.  Memory is
 * bounded, whatever the database size, by liblz4's buffers (8 MiB for
 * Litestream's 4 MiB blocks), the reader's ring and the apply engine's
 * page cache (APPLY_CACHE_MEM); temp files beside the output, by the
 * biggest transaction (the apply engine's spool) and RESTORE_SPOOL_BUDGET.
 */
#ifndef LSC_RESTORE_H
#define LSC_RESTORE_H

#include <signal.h>
#include <stdint.h>

#include "common/err.h"
#include "common/lz4frame.h"
#include "replica/replica.h"
#include "restore/plan.h"

struct sqlite3;

struct restore_stats {
	uint64_t	 db_bytes;	/* size of the restored database */
	uint32_t	 page_size;
	uint64_t	 segments;	/* WAL segments applied */
	uint64_t	 indexes;	/* WAL indexes applied */
	uint64_t	 frames;	/* committed frames written */
	uint64_t	 commits;
	uint64_t	 dropped_frames;	/* after an index's last commit */
	uint64_t	 dropped_bytes;		/* of a torn last frame */
};

/*
 * From a remote replica (S3), the next objects are downloaded ahead of
 * the one being applied, this many at once, into unnamed temp files
 * beside the output, up to this many stored bytes (prefetch.h).  Why 4:
 * see bench/restore_floor.sh.
 */
#define RESTORE_FETCHERS	4
#define RESTORE_SPOOL_BUDGET	(256ULL * 1024 * 1024)

/* restore_build_flags: leave out steps a throwaway copy does not need. */
#define RESTORE_NO_CHECK	0x1	/* no PRAGMA integrity_check */
#define RESTORE_NO_SYNC		0x2	/* no fsync of the file or directory */

/*
 * Build `output` from plan `p` (made from this replica's catalog).  `stop`
 * (may be NULL) aborts with LSC_ESTOP when set.  `st` may be NULL.  The
 * output must not exist (LSC_EEXIST if it appears meanwhile); its
 * directory is created if missing.
 */
int	restore_build(struct replica *r, const struct restore_plan *p,
	    const char *output, volatile sig_atomic_t *stop,
	    struct restore_stats *st, struct lsc_err *err);
/* The same, with RESTORE_* `flags` (0: exactly restore_build). */
int	restore_build_flags(struct replica *r, const struct restore_plan *p,
	    const char *output, unsigned flags, volatile sig_atomic_t *stop,
	    struct restore_stats *st, struct lsc_err *err);

/*
 * Open the database file at `path` read-only and immutable (no locks, no
 * -wal or -shm file appears); *out is for sqlite3_close.  On failure
 * *out is untouched and `err` says why.
 */
int	restore_open_readonly(const char *path, struct sqlite3 **out,
	    struct lsc_err *err);

/*
 * Run `PRAGMA integrity_check` on the database file at `path`, opened
 * read-only and immutable.  LSC_ECORRUPT unless it says "ok".
 */
int	restore_check_integrity(const char *path, struct lsc_err *err);

#endif
