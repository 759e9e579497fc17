/* SPDX-License-Identifier: MIT */
/*
 * What a database waits for before it can be opened (repl_await, repl.h).
 *
 * Its file.  A configured database that does not exist yet (a first boot,
 * where the application creates it) is waited for, not refused: the loop's
 * watch on its directory (daemon/watch.c) wakes it when the file appears,
 * and it starts with a new generation at once.  No timer runs meanwhile.
 * An empty file counts as not there yet: it is an application in the
 * middle of creating it, and opening it first (switching it to WAL, adding
 * our tables) would fix its page size before the application set one.
 *
 * Its lock.  Only one process may replicate a database: two would both
 * append to the shadow WAL and ship, and break the replica's chain.  The
 * lock (wal/dblock.h) is taken after the file is seen and before anything
 * touches the database or its shadow WAL, and kept until repl_release,
 * across reopens.  A second daemon therefore never opens the database,
 * captures, ships, checkpoints or prunes; it waits, and takes over when
 * the first exits: the loop retries as soon as the holder's close of the
 * lock file is seen (daemon/loop.c), and every LOCK_POLL_MS besides (a
 * holder on another host of a network file system raises no event here).
 * The shadow WAL the first daemon left lets the second resume its
 * generation.  With --no-lock-wait the loop gives up instead.
 *
 * Each wait is logged once, when it begins, and its end once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "daemon/repl.h"

/* A lock held by a process whose close we cannot see: look this often. */
#define LOCK_POLL_MS	1000

/* 1 when there is no database to open yet: missing, or empty. */
static int
not_there_yet(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT;
	/* Anything else that is wrong (a directory, no permission) is for
	 * the open to report: it is a failure, not a wait. */
	return S_ISREG(st.st_mode) && st.st_size == 0;
}

static void
begin_wait(struct repl *r, enum repl_wait what, const struct dblock_holder *h)
{
	char who[320], *dir;

	if (r->waiting == what)
		return;		/* logged when it began */
	r->waiting = what;
	r->wait_since_ms = mono_ms();
	atomic_store_explicit(&r->st.waiting, (int)what, memory_order_relaxed);
	if (what == REPL_WAIT_FILE) {
		dir = fs_dirname(r->path);
		log_db(LOG_INFO, r->path, "waiting for the database to be "
		    "created\tdir=%s", dir);
		free(dir);
		return;
	}
	dblock_holder_str(h, who, sizeof(who));
	if (r->no_lock_wait)
		log_db(LOG_ERROR, r->path, "another process replicates this "
		    "database; not waiting for it (--no-lock-wait)\tholder=\"%s\" "
		    "lock=%s", who, dblock_path(&r->lock));
	else if (dblock_holder_is_self(h))
		log_db(LOG_ERROR, r->path, "waiting for the lock, which this "
		    "process holds: does another [db] share its meta-path?\t"
		    "lock=%s", dblock_path(&r->lock));
	else
		log_db(LOG_WARN, r->path, "waiting: another process replicates "
		    "this database\tholder=\"%s\" lock=%s", who,
		    dblock_path(&r->lock));
}

static void
end_wait(struct repl *r)
{
	long long waited = (long long)(mono_ms() - r->wait_since_ms);

	if (r->waiting == REPL_WAIT_NONE)
		return;		/* was not waiting: nothing ends */
	if (r->waiting == REPL_WAIT_FILE)
		log_db(LOG_INFO, r->path, "the database appeared\twaited_ms=%lld",
		    waited);
	else if (r->waiting == REPL_WAIT_LOCK)
		log_db(LOG_INFO, r->path, "lock acquired: the other process is "
		    "gone, taking over\twaited_ms=%lld", waited);
	r->waiting = REPL_WAIT_NONE;
	atomic_store_explicit(&r->st.waiting, REPL_WAIT_NONE,
	    memory_order_relaxed);
	/* Nothing was ours to ship before now: the lag (notify.c) counts
	 * from here, not from the start of the wait. */
	r->synced_ms = mono_ms();
}

int
repl_await(struct repl *r, struct lsc_err *err)
{
	struct dblock_holder h;
	int rc;

	if (not_there_yet(r->path)) {
		begin_wait(r, REPL_WAIT_FILE, NULL);
		return LSC_ENOTFOUND;
	}
	rc = dblock_try(&r->lock, r->path, r->cfg.meta_path, &h, err);
	if (rc == LSC_EBUSY) {
		begin_wait(r, REPL_WAIT_LOCK, &h);
		return LSC_EBUSY;
	}
	/* Held, or a real failure (the meta directory cannot be made): in
	 * both cases no longer a wait. */
	if (rc == LSC_OK) {
		end_wait(r);
	} else {
		r->waiting = REPL_WAIT_NONE;
		atomic_store_explicit(&r->st.waiting, REPL_WAIT_NONE,
		    memory_order_relaxed);
	}
	return rc;
}

int64_t
repl_await_next_ms(const struct repl *r)
{
	/* A missing file: the directory watch wakes us (the loop polls a
	 * database it could not watch). */
	if (r->waiting == REPL_WAIT_LOCK)
		return mono_ms() + LOCK_POLL_MS;
	return INT64_MAX;
}
