/* SPDX-License-Identifier: MIT */
/*
 * The SQLite side of replication: two connections of ours to the database.
 *
 * We never write to the database: no table, no row, not even to take a
 * read mark.  (A commit by anyone makes the app's read-then-write
 * transactions fail with SQLITE_BUSY_SNAPSHOT, which no busy handler
 * cures.)
 *
 * Why a long read transaction ("pin"): a frame is discarded only when the
 * WAL restarts or is truncated, which needs every frame checkpointed and
 * no reader holding a non-zero read mark.  A read transaction that starts
 * while the WAL holds un-checkpointed frames takes a mark at the WAL's
 * end: checkpoints then stop at it and no restart can happen.  One that
 * starts while the WAL is fully checkpointed takes mark 0 (it reads the
 * database file alone): a restart may then happen, but no checkpoint can
 * copy a frame into the file while it is held (the checkpointer needs
 * READ_LOCK(0) exclusively), so a restart can only discard frames that
 * were checkpointed before the pin was taken.  Either way: once we have
 * copied every frame up to a pin's snapshot, and for as long as we hold a
 * pin without a moment of none (wal_db_gaps), no frame we lack can be
 * discarded, and every restart or truncation the WAL shows is one we may
 * follow from its new header.
 *
 * Two connections let one pin always be held while the other moves: to
 * checkpoint, the second connection pins at the current end, we copy up to
 * there, and the first releases its pin and checkpoints, bounded by the
 * second pin (see daemon/checkpoint.c).
 *
 * Our connections never use SQLite's back-off: a busy lock is retried every
 * millisecond for a bounded time, then we give up and try later, so the
 * application's writers are never queued behind us.
 */
#ifndef LSC_WAL_DB_H
#define LSC_WAL_DB_H

#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

struct wal_db;

enum wal_ckpt_mode { WAL_CKPT_PASSIVE = 0, WAL_CKPT_FULL = 1,
	WAL_CKPT_RESTART = 2, WAL_CKPT_TRUNCATE = 3 };

/* Which of our two connections. */
enum wal_conn { WAL_CONN_A = 0, WAL_CONN_B = 1 };

/*
 * Open `path` (which must exist): switch it to WAL mode if needed (logged;
 * the one change we ever make, to the file's header), keep the -wal file
 * on close (SQLITE_FCNTL_PERSIST_WAL), turn off our own autocheckpoint,
 * and open a read-only fd on the database file that stays open until
 * wal_db_close (closing any fd on the file would drop SQLite's POSIX locks
 * in this process).
 */
/* Process-wide SQLite settings for a daemon with many databases: call
 * once at start, before any database is opened. */
void	wal_db_global_init(void);
/* Give back the page-cache memory the connections do not need now. */
void	wal_db_release_memory(struct wal_db *db);
/* Close connection B if it holds no pin: it is opened again when a pin,
 * a lock or a checkpoint needs it (an idle database then costs one
 * connection, not two). */
void	wal_db_trim(struct wal_db *db);
int	wal_db_open(const char *path, struct wal_db **out, struct lsc_err *err);
void	wal_db_close(struct wal_db *db);

/* Start a long read transaction on connection c (no-op if held): a read
 * of the schema, which takes the read mark. */
int	wal_db_pin(struct wal_db *db, enum wal_conn c, struct lsc_err *err);
/* End it (no-op if not held). */
void	wal_db_unpin(struct wal_db *db, enum wal_conn c);
int	wal_db_pinned(const struct wal_db *db, enum wal_conn c);
/* How many times both connections have been without a pin at once since
 * wal_db_open: unchanged between two calls means a pin was held
 * throughout. */
uint64_t wal_db_gaps(const struct wal_db *db);

/* Take the write lock on connection c (BEGIN IMMEDIATE, bounded wait):
 * LSC_EBUSY if the application holds it. Release with wal_db_unpin. */
int	wal_db_lock_writes(struct wal_db *db, enum wal_conn c,
	    struct lsc_err *err);

/*
 * Checkpoint on connection c (not in a transaction), never waiting for a
 * lock: `busy` is WAL_CKPT_LOCKED when a lock it needs is held by someone
 * (another checkpoint, a writer), WAL_CKPT_PARTIAL when it could not
 * checkpoint every frame (readers in the way), else 0.  RESTART and
 * TRUNCATE take the write lock themselves: only ever try them when the
 * WAL is fully checkpointed, so that they hold it for a moment.
 */
#define WAL_CKPT_LOCKED		1
#define WAL_CKPT_PARTIAL	2
int	wal_db_checkpoint(struct wal_db *db, enum wal_conn c,
	    enum wal_ckpt_mode mode, int *busy, struct lsc_err *err);

uint32_t wal_db_page_size(const struct wal_db *db);
/* The long-lived read-only fd on the database file. */
int	wal_db_fd(const struct wal_db *db);
/* Inode of the file we opened, to notice the database being replaced. */
ino_t	wal_db_inode(const struct wal_db *db);

const char *wal_ckpt_mode_name(enum wal_ckpt_mode mode);

#endif
