/* SPDX-License-Identifier: MIT */
/* The `replicate` command: the daemon. */
#ifndef LSC_DAEMON_H
#define LSC_DAEMON_H

/* argv[0] is "replicate". Returns the process exit status. */
int	cmd_replicate(int argc, char **argv);

#endif
