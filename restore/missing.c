/* SPDX-License-Identifier: MIT */
/*
 * Restoring a missing database before replication starts (see missing.h):
 * the steps of cmd_restore with --if-replica-exists, for one [db].
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "replica/replica.h"
#include "restore/catalog.h"
#include "restore/missing.h"
#include "restore/pick.h"
#include "restore/plan.h"
#include "restore/restore.h"
#include "restore/target.h"

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

int
restore_missing(const struct cfg_db *db, const struct cfg_s3 *global_s3,
    volatile sig_atomic_t *stop, struct lsc_err *err)
{
	struct plan_opts po = { 0 };
	struct restore_stats st = { 0 };
	struct target t = { 0 };
	struct pick pk = { 0 };
	char *wal = xasprintf("%s-wal", db->path);
	int64_t t0 = mono_ms();
	int rc;

	if (exists(db->path)) {
		rc = lsc_seterr(err, LSC_EEXIST, EEXIST, "'%s' already exists",
		    db->path);
		goto out;
	}
	/* SQLite would replay a stale WAL into the restored database. */
	if (exists(wal)) {
		rc = lsc_seterr(err, LSC_EEXIST, EEXIST, "'%s' exists without its "
		    "database; SQLite would apply it to the restored one: remove "
		    "it first", wal);
		goto out;
	}
	/* No bounds: the latest state, from the replica that has the newest.
	 * LSC_ENOTFOUND: no backup at all, in any replica that answered (one
	 * that did not makes it a failure: pick.h). */
	target_from_db(&t, db, global_s3);
	if ((rc = pick_replica(&t, &po, stop, &pk, err)) != LSC_OK)
		goto out;
	pk.plan.age_identity_file = db->age_identity_file;
	if ((rc = restore_build(pk.replica, &pk.plan, db->path, stop, &st,
	    err)) != LSC_OK) {
		/* An object gone mid-restore is a failure, never "no backup":
		 * the caller would let the app start on an empty database. */
		if (rc == LSC_ENOTFOUND)
			rc = LSC_EIO;
		goto out;
	}
	log_db(LOG_INFO, db->path, "restored from the replica\treplica=%s "
	    "generation=%s snapshot_index=%08" PRIx32 " segments=%" PRIu64
	    " bytes=%" PRIu64 " elapsed_ms=%" PRId64, pk.replica->url,
	    pk.plan.gen->id, pk.plan.snap->index, st.segments, st.db_bytes,
	    mono_ms() - t0);
out:
	pick_release(&pk);
	target_release(&t);
	free(wal);
	return rc;
}
