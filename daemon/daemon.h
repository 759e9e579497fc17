/* SPDX-License-Identifier: MIT */
/* The `replicate` command: the daemon. */
#ifndef LSC_DAEMON_H
#define LSC_DAEMON_H

#include <signal.h>

#include "common/config.h"
#include "common/err.h"

/*
 * Restore the missing database `db` from its replica (for --restore-if-
 * missing).  daemon/ and restore/ never include each other, so main.c
 * passes restore/missing.h's restore_missing, whose contract this is:
 * LSC_OK restored; LSC_ENOTFOUND the replica has no backup; LSC_EEXIST
 * something is in the way; else a failure, with `err` set.
 */
typedef int (*daemon_restore_fn)(const struct cfg_db *db,
    const struct cfg_s3 *global_s3, volatile sig_atomic_t *stop,
    struct lsc_err *err);

/* argv[0] is "replicate"; `restore` serves --restore-if-missing (NULL:
 * the option is refused).  Returns the process exit status. */
int	cmd_replicate(int argc, char **argv, daemon_restore_fn restore);

/* Check that every database of `cfg` can start: it exists, or at least its
 * directory does and it is waited for (else 1), its
 * replica URL is usable (else 2), the replica accepts us (S3 credentials,
 * bucket, region, clock: else 1; an untrusted TLS certificate: 2; a store
 * that is only down is warned about and retried later), a file replica's
 * directory is writable (else 1).  Returns 0, or the exit status to use
 * with `err` set to the one-line reason. */
int	daemon_preflight(const struct lsc_config *cfg, struct lsc_err *err);

#endif
