/* SPDX-License-Identifier: MIT */
/*
 * inotify for the event loop: one watch per directory that holds a
 * replicated database (not one per file), so that a new commit (the
 * `-wal` file written), a WAL created or removed, and the database file
 * replaced (rename over it) or deleted all wake the loop, and idle
 * databases cost no CPU at all.
 *
 * Watching the directory rather than the files themselves also survives
 * what replaces an inode: a file watch would stay on the old, unlinked
 * file after `mv new.db app.db`.  Writes to the -shm file are made
 * through mmap and raise no event; writes to the database file itself
 * (checkpoints) never carry a new commit: they are reported apart
 * (WATCH_DBWRITE), for a database that is still being created.
 *
 * A lock file (wal/dblock.h) can be watched too, for its holder's close,
 * so that a daemon waiting for the lock takes over at once.
 */
#ifndef LSC_WATCH_H
#define LSC_WATCH_H

#include "common/err.h"

enum watch_what {
	WATCH_WAL = 1,		/* the -wal file was written, made or removed */
	WATCH_DB = 2,		/* the database file was made, moved or removed */
	WATCH_LOST = 4,		/* events were dropped, or the directory went:
				 * treat every database as changed */
	WATCH_DBWRITE = 8,	/* the database file itself was written */
	WATCH_LOCK = 16,	/* a watched lock file was closed by a writer
				 * (its holder let go, or exited), or went */
};

/* Called for each database an event names; `owner` as given to
 * watch_add, or NULL with WATCH_LOST for "all of them". */
typedef void (*watch_fn)(void *ctx, void *owner, int what);

struct watcher;

struct watcher *watch_new(struct lsc_err *err);
void	watch_free(struct watcher *w);
int	watch_fd(const struct watcher *w);
/* Watch `db_path`'s directory for `db_path` and its -wal. */
int	watch_add(struct watcher *w, const char *db_path, void *owner,
	    struct lsc_err *err);
void	watch_remove(struct watcher *w, const char *db_path, void *owner);
/* Watch the file `path` itself (it must exist): each close of it by a
 * process that had it open for writing is reported as WATCH_LOCK to
 * `owner`.  Several owners may watch one file. */
int	watch_add_file(struct watcher *w, const char *path, void *owner,
	    struct lsc_err *err);
/* Stop reporting to `owner` (the watch goes with its last owner). */
void	watch_remove_file(struct watcher *w, void *owner);
/* Read what is pending (non-blocking) and report it. */
void	watch_read(struct watcher *w, watch_fn fn, void *ctx);

#endif
