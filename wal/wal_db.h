/* SPDX-License-Identifier: MIT */
/*
 * The SQLite side of replication: two connections of ours to the database.
 *
 * Why a long read transaction ("pin"): SQLite checkpoints frames only up
 * to the lowest reader's read mark, and restarts or truncates the WAL (the
 * only ways a frame is ever discarded) only when every frame is
 * checkpointed and no reader holds a mark.  While we hold a read
 * transaction whose mark is at or below what we have copied, no frame we
 * have not copied can be discarded.  A read transaction takes a non-zero
 * mark only if the WAL holds un-checkpointed frames when it starts, so a
 * fresh pin is preceded by a one-row write (wal_db_bump).
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
 * Open `path` (which must exist): switch it to WAL mode if needed (logged),
 * keep the -wal file on close (SQLITE_FCNTL_PERSIST_WAL), turn off our own
 * autocheckpoint, create Litestream's helper tables, and open a read-only
 * fd on the database file that stays open until wal_db_close (closing any
 * fd on the file would drop SQLite's POSIX locks in this process).
 */
/* Process-wide SQLite settings for a daemon with many databases: call
 * once at start, before any database is opened. */
void	wal_db_global_init(void);
/* Give back the page-cache memory the connections do not need now. */
void	wal_db_release_memory(struct wal_db *db);
int	wal_db_open(const char *path, struct wal_db **out, struct lsc_err *err);
void	wal_db_close(struct wal_db *db);

/* Start a long read transaction on connection c (no-op if held). */
int	wal_db_pin(struct wal_db *db, enum wal_conn c, struct lsc_err *err);
/* End it (no-op if not held). */
void	wal_db_unpin(struct wal_db *db, enum wal_conn c);
int	wal_db_pinned(const struct wal_db *db, enum wal_conn c);

/* Take the write lock on connection c (BEGIN IMMEDIATE, bounded wait):
 * LSC_EBUSY if the application holds it. Release with wal_db_unpin. */
int	wal_db_lock_writes(struct wal_db *db, enum wal_conn c,
	    struct lsc_err *err);

/* Write one row (_litestream_seq upsert) on connection c, which must not be
 * in a transaction: it creates the WAL, or restarts a checkpointed one. */
int	wal_db_bump(struct wal_db *db, enum wal_conn c, struct lsc_err *err);

/*
 * Checkpoint on connection c (not in a transaction).  `busy` is set when
 * SQLite could not checkpoint every frame (readers or writers in the way).
 */
int	wal_db_checkpoint(struct wal_db *db, enum wal_conn c,
	    enum wal_ckpt_mode mode, int *busy, struct lsc_err *err);

uint32_t wal_db_page_size(const struct wal_db *db);
/* The long-lived read-only fd on the database file. */
int	wal_db_fd(const struct wal_db *db);
/* Inode of the file we opened, to notice the database being replaced. */
ino_t	wal_db_inode(const struct wal_db *db);

const char *wal_ckpt_mode_name(enum wal_ckpt_mode mode);

#endif
