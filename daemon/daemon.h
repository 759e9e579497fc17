/* SPDX-License-Identifier: MIT */
/* The `replicate` command: the daemon. */
#ifndef LSC_DAEMON_H
#define LSC_DAEMON_H

#include "common/config.h"
#include "common/err.h"

/* argv[0] is "replicate". Returns the process exit status. */
int	cmd_replicate(int argc, char **argv);

/* Check that every database of `cfg` can start: it exists (else 1), its
 * replica URL is usable (else 2), the replica accepts us (S3 credentials,
 * bucket, region, clock: else 1; an untrusted TLS certificate: 2; a store
 * that is only down is warned about and retried later), a file replica's
 * directory is writable (else 1).  Returns 0, or the exit status to use
 * with `err` set to the one-line reason. */
int	daemon_preflight(const struct lsc_config *cfg, struct lsc_err *err);

#endif
