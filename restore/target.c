/* SPDX-License-Identifier: MIT */
/* Resolving DB_PATH or REPLICA_URL (see target.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/target.h"

int
target_is_url(const char *arg)
{
	const char *p = arg;

	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return p > arg && strncmp(p, "://", 3) == 0;
}

const char *
target_config_path(const char *opt)
{
	const char *env = getenv("LITESTREAM_C_CONFIG");

	if (opt != NULL)
		return opt;
	if (env != NULL && env[0] != '\0')
		return env;
	return TARGET_DEFAULT_CONFIG;
}

int
target_resolve(const char *arg, const char *config_opt, struct target *t,
    struct lsc_err *err)
{
	const struct cfg_db *db;
	const char *path;
	int rc;

	memset(t, 0, sizeof(*t));
	cfg_s3_init(&t->s3);
	t->max_retries = TARGET_DEFAULT_RETRIES;
	if (target_is_url(arg)) {
		/* A URL needs no config, but uses -c's [s3] settings if given. */
		if (config_opt != NULL) {
			if ((rc = cfg_load(config_opt, &t->cfg, err)) != LSC_OK) {
				target_release(t);
				return rc;
			}
			cfg_s3_release(&t->s3);
			cfg_s3_merge(NULL, &t->cfg->s3, &t->s3);
		}
		t->url = xstrdup(arg);
	} else {
		path = target_config_path(config_opt);
		if ((rc = cfg_load(path, &t->cfg, err)) != LSC_OK) {
			target_release(t);
			return rc;
		}
		t->db_path = fs_abspath(arg);
		if ((db = cfg_find_db(t->cfg, t->db_path)) == NULL) {
			rc = lsc_seterr(err, LSC_ECONFIG, 0,
			    "database '%s' is not in %s", t->db_path, path);
			target_release(t);
			return rc;
		}
		t->url = xstrdup(db->replica);
		t->age_identity_file = db->age_identity_file;
		cfg_s3_release(&t->s3);
		cfg_s3_merge(&db->s3, &t->cfg->s3, &t->s3);
	}
	if (t->s3.max_retries >= 0)
		t->max_retries = t->s3.max_retries;
	return LSC_OK;
}

int
target_open(const struct target *t, struct replica **out, struct lsc_err *err)
{
	return replica_open(t->url, &t->s3, t->max_retries, out, err);
}

void
target_release(struct target *t)
{
	if (t == NULL)
		return;
	cfg_free(t->cfg);
	free(t->db_path);
	free(t->url);
	cfg_s3_release(&t->s3);
	memset(t, 0, sizeof(*t));
}

int
target_exit_status(int code)
{
	return code == LSC_ECONFIG ? 2 : 1;
}

int
target_log_level(const struct lsc_config *cfg)
{
	const char *env = getenv("LITESTREAM_C_LOG_LEVEL");

	if (cfg != NULL && cfg->log_level != NULL)
		log_set_level_name(cfg->log_level);
	if (env != NULL && log_set_level_name(env) != 0)
		return -1;
	return 0;
}
