/* SPDX-License-Identifier: MIT */
/* The `replicate` command: the daemon. */
#ifndef LSC_DAEMON_H
#define LSC_DAEMON_H

#include "common/config.h"
#include "common/err.h"

/* argv[0] is "replicate". Returns the process exit status. */
int	cmd_replicate(int argc, char **argv);

/* Check that every database of `cfg` can start (it exists, its replica
 * URL is usable, a file replica's directory is writable).  Returns 0, or
 * the exit status to use (1 runtime, 2 config) with `err` set. */
int	daemon_preflight(const struct lsc_config *cfg, struct lsc_err *err);

#endif
