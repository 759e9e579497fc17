/* SPDX-License-Identifier: MIT */
/*
 * `replicate --restore-if-missing`: restore one configured database that
 * does not exist from its replica, as `restore --if-replica-exists` would
 * (latest state, the same plan, build and checks: restore/restore.h).
 *
 * daemon/ never includes restore/ (STYLE.md), so main.c hands this
 * function to the daemon as its daemon_restore_fn (daemon/daemon.h).
 */
#ifndef LSC_MISSING_H
#define LSC_MISSING_H

#include <signal.h>

#include "common/config.h"
#include "common/err.h"

/*
 * Restore `db->path` from `db->replica`, with `db`'s S3 settings over
 * `global_s3` and restore's bounded retries (max-retries, else 5).  `stop`
 * (may be NULL) aborts with LSC_ESTOP.  Logs the restore's outcome.
 *
 * LSC_OK: restored and in place.  LSC_ENOTFOUND: the replica holds no
 * backup (nothing was written); only then.  LSC_EEXIST: the database (or a -wal file
 * without it) is there; a database is never overwritten.  Anything else:
 * the replica could not be read or the restore failed, with `err` naming
 * the object at fault; nothing is left at `db->path`.
 */
int	restore_missing(const struct cfg_db *db, const struct cfg_s3 *global_s3,
	    volatile sig_atomic_t *stop, struct lsc_err *err);

#endif
