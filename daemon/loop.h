/* SPDX-License-Identifier: MIT */
/*
 * The replicate daemon's event loop: inotify wakes it when a database's
 * WAL is written, timers drive checkpoints, snapshots and retention, a
 * worker pool runs each database's steps (daemon/pool.h), a signalfd
 * brings SIGTERM/SIGINT (final sync and exit), SIGHUP (reload the
 * config) and SIGCHLD (the --exec child ended).
 */
#ifndef LSC_LOOP_H
#define LSC_LOOP_H

#include "common/config.h"

struct loop_opts {
	const char	*config_path;	/* reloaded on SIGHUP; NULL: none */
	const char	*exec_cmd;	/* --exec: run after the first sync */
	int		 no_lock_wait;	/* --no-lock-wait: a database another
					 * process holds stops us (exit 1) */
	int		 workers;	/* size of the worker pool */
};

/* The signals the loop reads from its signalfd.  The caller blocks them
 * (before any thread starts, so that every thread inherits the mask). */
void	loop_block_signals(void);

/* Run until shutdown; takes ownership of `cfg`.  Returns the exit status:
 * 0, 1 if the final sync left data unshipped, or the --exec child's. */
int	loop_run(struct lsc_config *cfg, const struct loop_opts *o);

#endif
