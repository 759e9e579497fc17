/* SPDX-License-Identifier: MIT */
/*
 * `replicate --exec CMD`: the application as our child, started once
 * every database has made its first sync, so that it never writes
 * anything the replica could not have.
 */
#ifndef LSC_EXEC_H
#define LSC_EXEC_H

#include <sys/types.h>

/* Start `/bin/sh -c cmd` with the default signal mask and dispositions
 * and none of our descriptors.  Returns its pid, or -1 (errno). */
pid_t	exec_start(const char *cmd);
/* The exit status to pass on for a wait status: the code, or 128 + the
 * signal, as a shell reports it. */
int	exec_exit_status(int wstatus);

#endif
