/* SPDX-License-Identifier: MIT */
/*
 * The start-up steps of `replicate` that deploys need (README "Deploys"),
 * run by cmd_replicate after the preflight and before the event loop:
 *
 *	--restore-if-missing	each configured database that does not exist
 *				is restored from its replica when that holds a
 *				backup, else left for the application to create;
 *				all before --exec starts the application.
 *	--no-lock-wait		a database that another process replicates
 *				(its lock, wal/dblock.h, is held) makes the
 *				start fail at once, naming the holder, instead
 *				of being waited for (daemon/await.c).
 */
#ifndef LSC_DEPLOY_H
#define LSC_DEPLOY_H

#include <signal.h>

#include "common/config.h"
#include "common/err.h"
#include "daemon/daemon.h"

/*
 * Restore every database of `cfg` that does not exist, one after the
 * other, through `restore`; `stop` (set by SIGTERM/SIGINT) cuts a restore
 * short.  Logs what it does for each.  Returns 0 when every database is
 * there or has no backup to restore; else the exit status (1; 2 for a
 * configuration error) with `err` set to one line naming the database.
 */
int	deploy_restore_missing(const struct lsc_config *cfg,
	    daemon_restore_fn restore, volatile sig_atomic_t *stop,
	    struct lsc_err *err);

/*
 * For --no-lock-wait: try each existing database's lock and let it go at
 * once (the event loop takes it for good a moment later; a process that
 * takes it in between is caught there, see daemon/loop.c).  Returns 0, or
 * 1 with `err` naming the first database held by another process and its
 * holder.  A database that does not exist yet holds no lock: skipped.
 */
int	deploy_lock_check(const struct lsc_config *cfg, struct lsc_err *err);

#endif
