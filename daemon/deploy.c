/* SPDX-License-Identifier: MIT */
/*
 * Start-up steps for deploys (see deploy.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "daemon/deploy.h"
#include "wal/dblock.h"

static int
missing(const char *path)
{
	struct stat st;

	return stat(path, &st) != 0 && errno == ENOENT;
}

int
deploy_restore_missing(const struct lsc_config *cfg,
    daemon_restore_fn restore, volatile sig_atomic_t *stop,
    struct lsc_err *err)
{
	for (size_t i = 0; i < cfg->ndb; i++) {
		const struct cfg_db *db = &cfg->dbs[i];
		struct lsc_err e = { 0 };
		int rc;

		if (!missing(db->path))
			continue;
		log_db(LOG_INFO, db->path, "database missing: restoring it from "
		    "its replica\treplica=%s", db->replica);
		rc = restore(db, &cfg->s3, stop, &e);
		if (rc == LSC_OK)
			continue;
		if (rc == LSC_ENOTFOUND) {
			log_db(LOG_INFO, db->path, "the replica has no backup: the "
			    "application will create the database\treason=\"%s\"",
			    e.msg);
			continue;
		}
		/* Made meanwhile by someone else: no longer missing, and
		 * never overwritten.  (A stray -wal is also LSC_EEXIST, but
		 * leaves the database missing: a failure.) */
		if (rc == LSC_EEXIST && !missing(db->path)) {
			log_db(LOG_INFO, db->path, "the database appeared during "
			    "the restore: keeping it");
			continue;
		}
		/* Starting the app on an empty database while a backup exists
		 * would fork its history: refuse instead. */
		lsc_seterr(err, rc, e.sys, "cannot restore missing database "
		    "'%s': %s", db->path, e.msg);
		return rc == LSC_ECONFIG ? 2 : 1;
	}
	return 0;
}

int
deploy_lock_check(const struct lsc_config *cfg, struct lsc_err *err)
{
	for (size_t i = 0; i < cfg->ndb; i++) {
		const struct cfg_db *db = &cfg->dbs[i];
		struct dblock l;
		struct dblock_holder h;
		struct lsc_err e = { 0 };
		char who[320];
		int rc;

		if (missing(db->path))
			continue;
		dblock_init(&l);
		rc = dblock_try(&l, db->path, db->meta_path, &h, &e);
		if (rc == LSC_EBUSY)
			lsc_seterr(err, LSC_EBUSY, 0, "database '%s' is replicated "
			    "by another process (%s; lock file '%s'); not waiting "
			    "for it (--no-lock-wait)", db->path,
			    dblock_holder_str(&h, who, sizeof(who)), dblock_path(&l));
		else if (rc != LSC_OK)
			lsc_seterr(err, rc, e.sys, "%s", e.msg);
		dblock_release(&l);
		if (rc != LSC_OK)
			return 1;
	}
	return 0;
}
