/* SPDX-License-Identifier: MIT */
/* Our connection to the database: see wal_db.h for why it pins the WAL. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/log.h"
#include "common/xmalloc.h"
#include "wal/wal_db.h"

/* A busy lock is retried every 1 ms for at most this long. */
#define BUSY_RETRY_MS	100
/* The write lock is tried every LOCK_POLL_US for at most LOCK_TRIES tries
 * (50 ms): a writer that never pauses frees it only for microseconds
 * between transactions, which 1 ms sleeps all but never hit. */
#define LOCK_POLL_US	20
#define LOCK_TRIES	2500

struct wal_db {
	char		*path;
	sqlite3		*conn[2];
	int		 pinned[2];	/* in a transaction (read or write) */
	uint64_t	 gaps;		/* times both were unpinned at once */
	int		 fd;		/* read-only, open until close */
	ino_t		 ino;
	uint32_t	 page_size;
};

static int
busy_handler(void *arg, int count)
{
	struct timespec ts = { 0, 1000000 };

	(void)arg;
	if (count >= BUSY_RETRY_MS)
		return 0;		/* give up: SQLITE_BUSY */
	nanosleep(&ts, NULL);
	return 1;
}

static int
exec(struct wal_db *db, sqlite3 *conn, const char *sql, struct lsc_err *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(conn, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int code = (rc & 0xff) == SQLITE_BUSY ? LSC_EBUSY : LSC_ESQLITE;

		lsc_seterr(err, code, rc, "'%s': %s: %s", db->path, sql,
		    msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return code;
	}
	return LSC_OK;
}

/* Run a statement returning one text value into out (size n). */
static int
query_text(struct wal_db *db, sqlite3 *conn, const char *sql, char *out,
    size_t n, struct lsc_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(conn, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		rc = lsc_seterr(err, (rc & 0xff) == SQLITE_BUSY ? LSC_EBUSY :
		    LSC_ESQLITE, rc, "'%s': %s: %s", db->path, sql,
		    sqlite3_errmsg(conn));
		sqlite3_finalize(st);
		return rc;
	}
	snprintf(out, n, "%s", (const char *)sqlite3_column_text(st, 0) ?
	    (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	return LSC_OK;
}

void
wal_db_global_init(void)
{
	/* No page-cache memory set aside up front for each connection (20
	 * pages, about 90 KiB, by default): ours read only a few pages, and
	 * one daemon may hold thousands (bench/idle_dbs.sh).  Must come
	 * before SQLite is first used, so the daemon calls it at start. */
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

void
wal_db_release_memory(struct wal_db *db)
{
	for (int c = 0; c < 2; c++)
		if (db->conn[c] != NULL)
			sqlite3_db_release_memory(db->conn[c]);
}

/*
 * Open connection c.  A is open from wal_db_open to wal_db_close; B only
 * while a checkpoint needs it (wal_db_trim closes it when idle): each
 * connection holds about 13 KB of SQLite's heap and two descriptors, and
 * one daemon may hold thousands of databases (bench/idle_dbs.sh).
 */
static int
open_conn(struct wal_db *db, enum wal_conn c, struct lsc_err *err)
{
	int persist = 1, rc;

	if (db->conn[c] != NULL)
		return LSC_OK;
	rc = sqlite3_open_v2(db->path, &db->conn[c], SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = lsc_seterr(err, LSC_ESQLITE, rc, "cannot open database '%s': %s",
		    db->path, db->conn[c] ? sqlite3_errmsg(db->conn[c]) :
		    sqlite3_errstr(rc));
		sqlite3_close_v2(db->conn[c]);
		db->conn[c] = NULL;
		return rc;
	}
	sqlite3_extended_result_codes(db->conn[c], 1);
	/* Lookaside (about 120 KiB per connection by default) speeds up
	 * parsing many statements; we run a handful. */
	sqlite3_db_config(db->conn[c], SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
	sqlite3_busy_handler(db->conn[c], busy_handler, NULL);
	/* Keep the -wal file when we close: the app may still use it. */
	sqlite3_file_control(db->conn[c], "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist);
	/* Closing must not checkpoint either: the WAL we leave behind is
	 * what lets the next start resume the same generation. */
	sqlite3_db_config(db->conn[c], SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* Only we checkpoint on our connections, on our schedule. */
	if ((rc = exec(db, db->conn[c], "PRAGMA wal_autocheckpoint = 0",
	    err)) != LSC_OK) {
		sqlite3_close_v2(db->conn[c]);
		db->conn[c] = NULL;
	}
	return rc;
}

void
wal_db_trim(struct wal_db *db)
{
	/* SQLite keeps the file's locks for the other connection: closing
	 * one of two in a process drops none of A's (unix VFS inode info). */
	if (db->conn[WAL_CONN_B] != NULL && !db->pinned[WAL_CONN_B]) {
		sqlite3_close_v2(db->conn[WAL_CONN_B]);
		db->conn[WAL_CONN_B] = NULL;
	}
}

int
wal_db_open(const char *path, struct wal_db **out, struct lsc_err *err)
{
	struct wal_db *db = xcalloc(1, sizeof(*db));
	struct stat st;
	char mode[32], pagesz[32];
	int rc;

	db->path = xstrdup(path);
	db->fd = -1;
	db->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (db->fd < 0) {
		rc = lsc_seterr(err, errno == ENOENT ? LSC_ENOTFOUND : LSC_EIO, errno,
		    "cannot open database '%s': %s", path, strerror(errno));
		goto fail;
	}
	fstat(db->fd, &st);
	db->ino = st.st_ino;
	if ((rc = open_conn(db, WAL_CONN_A, err)) != LSC_OK)
		goto fail;
	if ((rc = query_text(db, db->conn[0], "PRAGMA journal_mode", mode,
	    sizeof(mode), err)))
		goto fail;
	if (strcasecmp(mode, "wal") != 0) {
		if ((rc = query_text(db, db->conn[0], "PRAGMA journal_mode = wal",
		    mode, sizeof(mode), err)))
			goto fail;
		if (strcasecmp(mode, "wal") != 0) {
			rc = lsc_seterr(err, LSC_ESQLITE, 0,
			    "cannot switch '%s' to WAL mode (still '%s')", path, mode);
			goto fail;
		}
		log_db(LOG_INFO, path, "switched the database to WAL journal mode");
	}
	if ((rc = query_text(db, db->conn[0], "PRAGMA page_size", pagesz,
	    sizeof(pagesz), err)))
		goto fail;
	db->page_size = (uint32_t)strtoul(pagesz, NULL, 10);
	*out = db;
	return LSC_OK;
fail:
	wal_db_close(db);
	return rc;
}

void
wal_db_close(struct wal_db *db)
{
	if (db == NULL)
		return;
	for (int c = 0; c < 2; c++) {
		if (db->conn[c] == NULL)
			continue;
		wal_db_unpin(db, (enum wal_conn)c);
		sqlite3_close_v2(db->conn[c]);
	}
	if (db->fd >= 0)
		close(db->fd);
	free(db->path);
	free(db);
}

int
wal_db_pin(struct wal_db *db, enum wal_conn c, struct lsc_err *err)
{
	char n[32];
	int rc;

	if (db->pinned[c])
		return LSC_OK;
	if ((rc = open_conn(db, c, err)) != LSC_OK ||
	    (rc = exec(db, db->conn[c], "BEGIN", err)) != LSC_OK)
		return rc;
	/* A read is what takes the read mark; BEGIN alone takes nothing.
	 * The schema is always there, and reading it changes nothing. */
	rc = query_text(db, db->conn[c], "SELECT COUNT(*) FROM sqlite_schema",
	    n, sizeof(n), err);
	if (rc != LSC_OK) {
		exec(db, db->conn[c], "ROLLBACK", NULL);
		return rc;
	}
	db->pinned[c] = 1;
	return LSC_OK;
}

void
wal_db_unpin(struct wal_db *db, enum wal_conn c)
{
	if (db->pinned[c]) {
		exec(db, db->conn[c], "ROLLBACK", NULL);
		db->pinned[c] = 0;
		if (!db->pinned[WAL_CONN_A] && !db->pinned[WAL_CONN_B])
			db->gaps++;
	}
}

uint64_t
wal_db_gaps(const struct wal_db *db)
{
	return db->gaps;
}

int
wal_db_pinned(const struct wal_db *db, enum wal_conn c)
{
	return db->pinned[c];
}

static int
lock_poll_handler(void *arg, int count)
{
	struct timespec ts = { 0, LOCK_POLL_US * 1000 };

	(void)arg;
	if (count >= LOCK_TRIES)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

int
wal_db_lock_writes(struct wal_db *db, enum wal_conn c, struct lsc_err *err)
{
	int rc;

	if (db->pinned[c])
		return lsc_seterr(err, LSC_ESQLITE, 0,
		    "'%s': connection already in a transaction", db->path);
	if ((rc = open_conn(db, c, err)) != LSC_OK)
		return rc;
	sqlite3_busy_handler(db->conn[c], lock_poll_handler, NULL);
	rc = exec(db, db->conn[c], "BEGIN IMMEDIATE", err);
	sqlite3_busy_handler(db->conn[c], busy_handler, NULL);
	if (rc == LSC_OK)
		db->pinned[c] = 1;
	return rc;
}

int
wal_db_checkpoint(struct wal_db *db, enum wal_conn c, enum wal_ckpt_mode mode,
    int *busy, struct lsc_err *err)
{
	static const int modes[] = { SQLITE_CHECKPOINT_PASSIVE,
	    SQLITE_CHECKPOINT_FULL, SQLITE_CHECKPOINT_RESTART,
	    SQLITE_CHECKPOINT_TRUNCATE };
	int nlog = -1, nckpt = -1, rc;

	*busy = 0;
	if ((rc = open_conn(db, c, err)) != LSC_OK)
		return rc;
	/* Never wait: RESTART and TRUNCATE would wait holding the write
	 * lock, the application's writers queued behind them. */
	sqlite3_busy_handler(db->conn[c], NULL, NULL);
	rc = sqlite3_wal_checkpoint_v2(db->conn[c], "main", modes[mode], &nlog,
	    &nckpt);
	sqlite3_busy_handler(db->conn[c], busy_handler, NULL);

	*busy = 0;
	if ((rc & 0xff) == SQLITE_BUSY) {
		*busy = WAL_CKPT_LOCKED;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		return lsc_seterr(err, LSC_ESQLITE, rc, "'%s': %s checkpoint: %s",
		    db->path, wal_ckpt_mode_name(mode), sqlite3_errmsg(db->conn[c]));
	if (*busy == 0 && nlog >= 0 && nckpt >= 0 && nckpt < nlog)
		*busy = WAL_CKPT_PARTIAL;
	return LSC_OK;
}

uint32_t
wal_db_page_size(const struct wal_db *db)
{
	return db->page_size;
}

int
wal_db_fd(const struct wal_db *db)
{
	return db->fd;
}

ino_t
wal_db_inode(const struct wal_db *db)
{
	return db->ino;
}

const char *
wal_ckpt_mode_name(enum wal_ckpt_mode mode)
{
	static const char *const names[] = { "PASSIVE", "FULL", "RESTART",
	    "TRUNCATE" };

	return names[mode];
}
