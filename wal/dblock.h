/* SPDX-License-Identifier: MIT */
/*
 * One replicating process per database: an exclusive flock(2) on
 *
 *	<meta dir>/lock		(<dir>/.<name>-litestream/lock by default)
 *
 * the directory that holds the shadow WAL (wal/shadow.h), so the lock
 * guards exactly the state two daemons would otherwise both write: the
 * shadow WAL, the generation file and, through them, the replica.  A lock
 * on a file of a shared volume holds across containers of one host, which
 * share its kernel.  The kernel drops it when its holder exits, however it
 * exits: there is no stale lock to clean up, and the file is never removed
 * (removing it would let a waiter lock an inode nobody else can find).
 *
 * The holder writes "<pid> <hostname>\n" into the file, so that a process
 * that finds the lock taken can say who holds it.  That text is only a
 * hint: it is read while another process holds the lock and may still be
 * its predecessor's for the moment between flock and write.
 *
 * Why a file of its own: SQLite locks the database with POSIX (fcntl)
 * locks, which a process loses on *every* descriptor of that file as soon
 * as it closes any one of them; an flock on a separate file can neither
 * drop nor be dropped by those, so this lock never gets in SQLite's way.
 * The descriptor is close-on-exec, so a --exec application never inherits
 * it (it would keep the lock after we exit).
 *
 * `restore` needs no lock: it writes only a new file beside the database.
 */
#ifndef LSC_DBLOCK_H
#define LSC_DBLOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

struct dblock {
	int	 fd;		/* the lock file, open; -1 before dblock_try */
	int	 held;		/* 1: the exclusive lock is ours */
	char	*path;		/* the lock file's path (owned) */
};

/* Who holds a lock, as its holder wrote it; pid 0 and host "" if unknown. */
struct dblock_holder {
	long	 pid;
	char	 host[256];
};

/* Storage starts unlocked, with nothing open (cannot fail). */
void	dblock_init(struct dblock *l);

/*
 * Try once, without waiting, to lock the database `db_path`, whose meta
 * directory is `meta_dir` (NULL: <dir>/.<name>-litestream, as the shadow
 * WAL's).  Creates the directory and the lock file if missing.  The file
 * stays open between tries (so a waiter makes no open/close noise that
 * others would see) until dblock_release.
 *
 * LSC_OK: the lock is ours (l->held), and our pid and hostname are in the
 * file.  LSC_EBUSY: another open file holds it; `holder` (may be NULL) is
 * filled from the file.  LSC_EIO: the directory or file cannot be made or
 * opened, with `err` naming it.  Calling it again while held is a no-op.
 */
int	dblock_try(struct dblock *l, const char *db_path, const char *meta_dir,
	    struct dblock_holder *holder, struct lsc_err *err);

/* The lock file's path once dblock_try has run, else NULL; valid until
 * dblock_release. */
const char *dblock_path(const struct dblock *l);

/* Describe `h` in `buf`: "pid 1234 on host web-1", or "an unknown process"
 * when the file said nothing usable.  Returns buf. */
const char *dblock_holder_str(const struct dblock_holder *h, char *buf,
	    size_t len);

/* 1 if `h` names this very process (same pid and hostname). */
int	dblock_holder_is_self(const struct dblock_holder *h);

/* Unlock (if held) and close.  Unlocking comes first, before the close
 * that waiters watch for (see daemon/loop.c), so a waiter woken by the
 * close finds the lock free.  Safe on storage never tried, and twice. */
void	dblock_release(struct dblock *l);

#endif
