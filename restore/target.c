/* SPDX-License-Identifier: MIT */
/* Resolving DB_PATH or REPLICA_URL (see target.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
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

static void
add_replica(struct target *t, const char *name, const char *url,
    const struct cfg_s3 *s3)
{
	struct target_replica *r;

	t->reps = xreallocarray(t->reps, t->nreps + 1, sizeof(*t->reps));
	r = &t->reps[t->nreps++];
	r->name = xstrdup(name);
	r->url = xstrdup(url);
	cfg_s3_init(&r->s3);
	cfg_s3_merge(s3, NULL, &r->s3);
	r->max_retries = r->s3.max_retries >= 0 ? r->s3.max_retries :
	    TARGET_DEFAULT_RETRIES;
}

/* Add `rep` of `db`, with the settings replicate uses for it. */
static void
add_db_replica(struct target *t, const struct cfg_db *db,
    const struct cfg_replica *rep, const struct cfg_s3 *global)
{
	struct cfg_s3 s3;

	cfg_s3_init(&s3);
	cfg_replica_s3(db, rep, global, &s3);
	add_replica(t, rep->name, rep->url, &s3);
	cfg_s3_release(&s3);
}

void
target_from_db(struct target *t, const struct cfg_db *db,
    const struct cfg_s3 *global)
{
	for (size_t i = 0; i < db->nreplicas; i++)
		add_db_replica(t, db, &db->replicas[i], global);
	t->age_identity_file = db->age_identity_file;
}

/* A URL that a [db] of the config names: read it with that replica's
 * settings (its own [s3 "NAME"] section, say). */
static int
add_known_url(struct target *t, const char *url)
{
	for (size_t i = 0; t->cfg != NULL && i < t->cfg->ndb; i++) {
		const struct cfg_db *db = &t->cfg->dbs[i];

		for (size_t k = 0; k < db->nreplicas; k++) {
			if (strcmp(db->replicas[k].url, url) != 0)
				continue;
			add_db_replica(t, db, &db->replicas[k], &t->cfg->s3);
			/* Its name is the URL's type, as for any URL. */
			free(t->reps[t->nreps - 1].name);
			t->reps[t->nreps - 1].name = xstrdup(strncmp(url, "s3://",
			    5) == 0 ? "s3" : "file");
			return 1;
		}
	}
	return 0;
}

int
target_resolve(const char *arg, const char *config_opt, const char *replica,
    struct target *t, struct lsc_err *err)
{
	const struct cfg_db *db;
	const struct cfg_replica *rep;
	const char *path;
	int rc;

	memset(t, 0, sizeof(*t));
	if (target_is_url(arg)) {
		if (replica != NULL)
			return lsc_seterr(err, LSC_ECONFIG, 0, "--replica picks "
			    "one replica of a DB_PATH, not of a REPLICA_URL");
		/* A URL needs no config, but uses -c's settings if given. */
		if (config_opt != NULL &&
		    (rc = cfg_load(config_opt, &t->cfg, err)) != LSC_OK) {
			target_release(t);
			return rc;
		}
		if (!add_known_url(t, arg))
			add_replica(t, strncmp(arg, "s3://", 5) == 0 ? "s3" :
			    "file", arg, t->cfg != NULL ? &t->cfg->s3 : NULL);
		return LSC_OK;
	}
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
	if (replica == NULL) {
		target_from_db(t, db, &t->cfg->s3);
		return LSC_OK;
	}
	if ((rep = cfg_db_find_replica(db, replica)) == NULL) {
		char names[256] = "";
		size_t n = 0;

		for (size_t i = 0; i < db->nreplicas && n < sizeof(names); i++)
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
			    i ? ", " : "", db->replicas[i].name);
		rc = lsc_seterr(err, LSC_ECONFIG, 0, "database '%s' has no "
		    "replica '%s' (its replicas: %s)", t->db_path, replica, names);
		target_release(t);
		return rc;
	}
	add_db_replica(t, db, rep, &t->cfg->s3);
	t->age_identity_file = db->age_identity_file;
	return LSC_OK;
}

int
target_open(const struct target *t, size_t i, struct replica **out,
    struct lsc_err *err)
{
	return replica_open(t->reps[i].url, &t->reps[i].s3,
	    t->reps[i].max_retries, out, err);
}

void
target_release(struct target *t)
{
	if (t == NULL)
		return;
	cfg_free(t->cfg);
	free(t->db_path);
	for (size_t i = 0; i < t->nreps; i++) {
		free(t->reps[i].name);
		free(t->reps[i].url);
		cfg_s3_release(&t->reps[i].s3);
	}
	free(t->reps);
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

int
cli_usage_error(const char *usage, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs(usage, stderr);
	if (fmt != NULL) {
		fprintf(stderr, "litestream-c: %s: ", cmd);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	return 2;
}
