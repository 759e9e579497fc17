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
	struct restore_plan plan = { 0 };
	struct restore_stats st = { 0 };
	struct catalog cat = { 0 };
	struct replica *r = NULL;
	struct cfg_s3 s3;
	char *wal = xasprintf("%s-wal", db->path);
	int64_t t0 = mono_ms();
	int rc;

	cfg_s3_init(&s3);
	cfg_s3_merge(&db->s3, global_s3, &s3);
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
	if ((rc = replica_open(db->replica, &s3, s3.max_retries >= 0 ?
	    s3.max_retries : TARGET_DEFAULT_RETRIES, &r, err)) != LSC_OK)
		goto out;
	r->stop = stop;
	if ((rc = catalog_load(r, &cat, err)) != LSC_OK)
		goto out;
	/* No bounds: the latest state.  LSC_ENOTFOUND: no backup at all. */
	if ((rc = plan_make(&cat, &po, &plan, err)) != LSC_OK)
		goto out;
	plan.age_identity_file = db->age_identity_file;
	if ((rc = restore_build(r, &plan, db->path, stop, &st, err)) != LSC_OK) {
		/* An object gone mid-restore is a failure, never "no backup":
		 * the caller would let the app start on an empty database. */
		if (rc == LSC_ENOTFOUND)
			rc = LSC_EIO;
		goto out;
	}
	log_db(LOG_INFO, db->path, "restored from the replica\treplica=%s "
	    "generation=%s snapshot_index=%08" PRIx32 " segments=%" PRIu64
	    " bytes=%" PRIu64 " elapsed_ms=%" PRId64, r->url, plan.gen->id,
	    plan.snap->index, st.segments, st.db_bytes, mono_ms() - t0);
out:
	plan_release(&plan);
	catalog_release(&cat);
	replica_free(r);
	cfg_s3_release(&s3);
	free(wal);
	return rc;
}
