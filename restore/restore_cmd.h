/* SPDX-License-Identifier: MIT */
/*
 * The read-side commands: restore and the listings.  Each takes argv with
 * argv[0] the command name and returns the process exit status (0 ok,
 * 1 runtime failure, 2 usage or configuration error).
 */
#ifndef LSC_RESTORE_CMD_H
#define LSC_RESTORE_CMD_H

int	cmd_restore(int argc, char **argv);
int	cmd_generations(int argc, char **argv);
int	cmd_snapshots(int argc, char **argv);
int	cmd_wal(int argc, char **argv);
int	cmd_databases(int argc, char **argv);

#endif
