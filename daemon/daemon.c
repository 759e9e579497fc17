/* SPDX-License-Identifier: MIT */
/*
 * The `replicate` command: load the config, then run every database's
 * step on its sync interval until SIGTERM or SIGINT, then a final sync.
 *
 * Exit status: 0 after a clean shutdown with everything shipped; 1 when
 * the final sync could not ship everything (the log says how much is left:
 * it stays in the shadow WAL and ships at the next start); 2 for usage
 * and configuration errors.  Signal handlers only set a flag.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/repl.h"
#include "replica/replica.h"

#define DEFAULT_CONFIG	"/etc/litestream-c.ini"
#define PREFLIGHT_RETRIES	2	/* start-up check: a few quick tries */

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a signal must cut our sleep short. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int
usage(void)
{
	fprintf(stderr, "usage: litestream-c replicate [-c CONFIG]\n"
	    "       litestream-c replicate DB_PATH REPLICA_URL\n");
	return 2;
}

/*
 * Refuse to start on what cannot work, with one line naming it: a database
 * that does not exist (exit 1), a replica URL that cannot be used (exit 2),
 * a replica that refuses us (S3 credentials, bucket, region, clock: exit
 * 1; an untrusted TLS certificate: exit 2), a replica directory we cannot
 * write (exit 1).  Transient failures, now or later, are retried instead.
 */
static int
preflight(const struct lsc_config *cfg)
{
	for (size_t i = 0; i < cfg->ndb; i++) {
		const struct cfg_db *db = &cfg->dbs[i];
		struct lsc_err err = { 0 };
		struct replica *r = NULL;
		struct cfg_s3 s3;
		struct stat st;
		int rc;

		if (stat(db->path, &st) != 0 || !S_ISREG(st.st_mode)) {
			fprintf(stderr, "litestream-c: database '%s' %s\n", db->path,
			    errno == ENOENT ? "does not exist" : "is not a regular file");
			return 1;
		}
		/* The [db] section's S3 keys override [s3], as in repl.c. */
		cfg_s3_init(&s3);
		cfg_s3_merge(&db->s3, &cfg->s3, &s3);
		rc = replica_open(db->replica, &s3, PREFLIGHT_RETRIES, &r, &err);
		/* One request proves credentials, bucket, region, clock and TLS:
		 * a refusal would otherwise repeat every sync interval forever.
		 * A store that is merely down now is the loop's to retry. */
		if (rc == LSC_OK)
			rc = replica_check(r, &err);
		cfg_s3_release(&s3);
		replica_free(r);
		if (rc == LSC_ENET) {
			log_db(LOG_WARN, db->path, "replica cannot be reached yet (will "
			    "retry)\terror=\"%s\"", err.msg);
		} else if (rc != LSC_OK) {
			fprintf(stderr, "litestream-c: %s\n", err.msg);
			return rc == LSC_ECONFIG ? 2 : 1;
		}
		if (strncmp(db->replica, "file://", 7) == 0) {
			const char *dir = db->replica + 7;

			if (fs_mkdir_p(dir, 0755, &err) != LSC_OK ||
			    access(dir, W_OK | X_OK) != 0) {
				fprintf(stderr, "litestream-c: replica directory '%s' is not "
				    "writable: %s\n", dir, err.msg[0] ? err.msg :
				    strerror(errno));
				return 1;
			}
		}
	}
	return 0;
}

static int
run(struct repl *repls, size_t n)
{
	int64_t *next = xcalloc(n, sizeof(*next));
	uint64_t left = 0;

	while (!stop_requested) {
		int64_t now = mono_ms(), wake = now + 1000;

		for (size_t i = 0; i < n && !stop_requested; i++) {
			if (now >= next[i]) {
				repl_step(&repls[i]);
				/* Fixed rate, not "interval after the step ended": a
				 * commit then waits at most one interval to ship. */
				next[i] += repls[i].cfg.sync_interval_ms;
				if (next[i] <= mono_ms())
					next[i] = mono_ms() + (repls[i].cfg.sync_interval_ms ?
					    0 : 1);
			}
			if (next[i] < wake)
				wake = next[i];
		}
		now = mono_ms();
		if (!stop_requested && wake > now)
			poll(NULL, 0, (int)(wake - now));
	}
	log_info("shutting down: final sync");
	for (size_t i = 0; i < n; i++) {
		/* The final sync must end: bounded retries from here on. */
		if (repls[i].replica != NULL && repls[i].replica->max_retries < 0)
			repls[i].replica->max_retries = 5;
		left += repl_final(&repls[i]);
	}
	free(next);
	if (left > 0) {
		log_error("exiting with %llu bytes not shipped (kept in the shadow "
		    "WAL for the next start)", (unsigned long long)left);
		return 1;
	}
	log_info("litestream-c shut down");
	return 0;
}

int
cmd_replicate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL;
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	struct cfg_db single;
	struct repl *repls;
	size_t n;
	int c, status;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		default:
			return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 2 && config_path == NULL) {
		/* Quick use: one database, one replica, defaults for the rest. */
		cfg = xcalloc(1, sizeof(*cfg));
		cfg_s3_init(&cfg->s3);
		cfg_db_defaults(&single);
		single.path = fs_abspath(argv[0]);
		single.replica = xstrdup(argv[1]);
		cfg->dbs = xmalloc(sizeof(single));
		cfg->dbs[0] = single;
		cfg->ndb = 1;
		if (strncmp(argv[1], "file://", 7) != 0 &&
		    strncmp(argv[1], "s3://", 5) != 0) {
			fprintf(stderr, "litestream-c: replica URL '%s' must be "
			    "file:///dir or s3://bucket/prefix\n", argv[1]);
			cfg_free(cfg);
			return 2;
		}
	} else if (argc == 0) {
		if (config_path == NULL)
			config_path = getenv("LITESTREAM_C_CONFIG");
		if (config_path == NULL)
			config_path = DEFAULT_CONFIG;
		if (cfg_load(config_path, &cfg, &err) != LSC_OK) {
			fprintf(stderr, "litestream-c: %s\n", err.msg);
			return 2;
		}
		if (cfg->ndb == 0) {
			fprintf(stderr, "litestream-c: %s: no [db \"...\"] section\n",
			    config_path);
			cfg_free(cfg);
			return 2;
		}
	} else {
		return usage();
	}
	if (cfg->log_level != NULL)
		log_set_level_name(cfg->log_level);
	if (getenv("LITESTREAM_C_LOG_LEVEL") != NULL &&
	    log_set_level_name(getenv("LITESTREAM_C_LOG_LEVEL")) != 0) {
		fprintf(stderr, "litestream-c: LITESTREAM_C_LOG_LEVEL must be debug, "
		    "info, warn or error\n");
		cfg_free(cfg);
		return 2;
	}
	if ((status = preflight(cfg)) != 0) {
		cfg_free(cfg);
		return status;
	}
	install_signals();
	n = cfg->ndb;
	repls = xcalloc(n, sizeof(*repls));
	for (size_t i = 0; i < n; i++)
		repl_init(&repls[i], &cfg->dbs[i], &cfg->s3, &stop_requested);
	log_info("litestream-c starting\tdatabases=%zu", n);
	status = run(repls, n);
	for (size_t i = 0; i < n; i++)
		repl_release(&repls[i]);
	free(repls);
	cfg_free(cfg);
	return status;
}
