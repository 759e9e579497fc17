/* SPDX-License-Identifier: MIT */
/*
 * The argument of the read-side commands: DB_PATH (looked up in the
 * config) or REPLICA_URL (no config needed; the [s3] settings of one given
 * with -c are used).  The config file is -c, else $LITESTREAM_C_CONFIG,
 * else /etc/litestream-c.ini.  Restores and listings never retry forever:
 * the replica gets the config's max-retries, else TARGET_DEFAULT_RETRIES.
 */
#ifndef LSC_TARGET_H
#define LSC_TARGET_H

#include "common/config.h"
#include "common/err.h"
#include "replica/replica.h"

#define TARGET_DEFAULT_CONFIG	"/etc/litestream-c.ini"
#define TARGET_DEFAULT_RETRIES	5

struct target {
	struct lsc_config *cfg;		/* NULL when no config was read */
	char		*db_path;	/* absolute; NULL for a URL */
	char		*url;		/* the replica URL */
	struct cfg_s3	 s3;		/* [db] over [s3] settings */
	const char	*age_identity_file;	/* the [db]'s (borrowed from cfg)
						 * or NULL */
	int		 max_retries;
};

/* 1 if `arg` looks like scheme://... */
int	target_is_url(const char *arg);
/* -c's value, else $LITESTREAM_C_CONFIG, else the default. */
const char *target_config_path(const char *opt);
/*
 * Resolve `arg`; `config_opt` is -c's value or NULL.  LSC_ECONFIG (exit 2)
 * for an unreadable or bad config and a DB_PATH the config lacks.  On
 * success `t` owns everything (target_release).
 */
int	target_resolve(const char *arg, const char *config_opt,
	    struct target *t, struct lsc_err *err);
int	target_open(const struct target *t, struct replica **out,
	    struct lsc_err *err);
void	target_release(struct target *t);
/* Exit status for an error code: 2 for LSC_ECONFIG, else 1. */
int	target_exit_status(int code);
/* Apply the config's and $LITESTREAM_C_LOG_LEVEL's log level; -1 if bad. */
int	target_log_level(const struct lsc_config *cfg);

#endif
