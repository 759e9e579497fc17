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
 * (checkpoints) are ignored, since they never carry a new commit.
 */
#ifndef LSC_WATCH_H
#define LSC_WATCH_H

#include "common/err.h"

enum watch_what {
	WATCH_WAL = 1,		/* the -wal file was written, made or removed */
	WATCH_DB = 2,		/* the database file was made, moved or removed */
	WATCH_LOST = 4,		/* events were dropped, or the directory went:
				 * treat every database as changed */
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
/* Read what is pending (non-blocking) and report it. */
void	watch_read(struct watcher *w, watch_fn fn, void *ctx);

#endif
