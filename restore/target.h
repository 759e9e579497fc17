/* SPDX-License-Identifier: MIT */
/*
 * The argument of the read-side commands: DB_PATH (looked up in the
 * config) or REPLICA_URL (no config needed; the [s3] settings of one given
 * with -c are used, or those of the configured replica with that very
 * URL).  The config file is -c, else $LITESTREAM_C_CONFIG, else
 * /etc/litestream-c.ini.  Restores and listings never retry forever: each
 * replica gets its settings' max-retries, else TARGET_DEFAULT_RETRIES.
 *
 * A DB_PATH names every replica of its [db], unless --replica (a name or
 * a URL) picks one of them; the listings show them all, and restore and
 * drill take the one with the newest data (restore/pick.h).
 */
#ifndef LSC_TARGET_H
#define LSC_TARGET_H

#include "common/config.h"
#include "common/err.h"
#include "replica/replica.h"

#define TARGET_DEFAULT_CONFIG	"/etc/litestream-c.ini"
#define TARGET_DEFAULT_RETRIES	5

/* One replica to read. */
struct target_replica {
	char		*name;		/* "file", "s3" or its config name */
	char		*url;
	struct cfg_s3	 s3;		/* the settings it is read with */
	int		 max_retries;
};

struct target {
	struct lsc_config *cfg;		/* NULL when no config was read */
	char		*db_path;	/* absolute; NULL for a URL */
	struct target_replica *reps;	/* at least one */
	size_t		 nreps;
	const char	*age_identity_file;	/* the [db]'s (borrowed from cfg)
						 * or NULL */
};

/* 1 if `arg` looks like scheme://... */
int	target_is_url(const char *arg);
/* -c's value, else $LITESTREAM_C_CONFIG, else the default. */
const char *target_config_path(const char *opt);
/*
 * Resolve `arg`; `config_opt` is -c's value or NULL; `replica` is
 * --replica's (a name or URL of one of the database's replicas) or NULL
 * for all of them.  LSC_ECONFIG (exit 2) for an unreadable or bad config,
 * a DB_PATH the config lacks, a --replica it has not, and --replica with
 * a REPLICA_URL.  On success `t` owns everything (target_release).
 */
int	target_resolve(const char *arg, const char *config_opt,
	    const char *replica, struct target *t, struct lsc_err *err);
/* Every replica of `db` (with `global` as [s3]), as target_resolve
 * makes them; `t` owns copies (target_release). */
void	target_from_db(struct target *t, const struct cfg_db *db,
	    const struct cfg_s3 *global);
/* Open replica `i` of `t`. */
int	target_open(const struct target *t, size_t i, struct replica **out,
	    struct lsc_err *err);
void	target_release(struct target *t);
/* Exit status for an error code: 2 for LSC_ECONFIG, else 1. */
int	target_exit_status(int code);
/* Apply the config's and $LITESTREAM_C_LOG_LEVEL's log level; -1 if bad. */
int	target_log_level(const struct lsc_config *cfg);

/*
 * For the commands: print `usage` and, when `fmt` is not NULL, one line
 * "litestream-c: CMD: message" to stderr.  Returns 2, the exit status of
 * a usage error.
 */
int	cli_usage_error(const char *usage, const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
