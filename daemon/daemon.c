/* SPDX-License-Identifier: MIT */
/*
 * The `replicate` command: load the config, check that every database
 * can start, then hand over to the event loop (daemon/loop.c) until
 * SIGTERM or SIGINT (or the --exec application's end), then a final sync.
 *
 * Exit status: 0 after a clean shutdown with everything shipped; 1 when
 * the final sync could not ship everything (the log says how much is left:
 * it stays in the shadow WAL and ships at the next start); 2 for usage
 * and configuration errors; with --exec, the application's status.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/daemon.h"
#include "daemon/deploy.h"
#include "daemon/loop.h"
#include "daemon/metrics.h"
#include "daemon/notify.h"
#include "replica/replica.h"
#include "wal/wal_db.h"

#define DEFAULT_CONFIG	"/etc/litestream-c.ini"
#define PREFLIGHT_RETRIES	2	/* start-up check: a few quick tries */

/* Worker threads for database steps (see daemon/pool.h): enough that a
 * few slow uploads do not hold up the rest, few enough to stay small. */
#define DEFAULT_WORKERS	4
/* Descriptors one database costs: our own handle on the database file,
 * two SQLite connections with the database and -wal each, the shared
 * -shm and the shadow WAL: 6, measured by bench/idle_dbs.sh; plus a
 * socket for an S3 replica, and room for a spare. */
#define FDS_PER_DB	8
#define FDS_RESERVED	64

static int
usage_to(FILE *f, int status)
{
	fprintf(f, "usage: litestream-c replicate [-c CONFIG] [--exec CMD] "
	    "[--restore-if-missing] [--no-lock-wait]\n"
	    "       litestream-c replicate [options] DB_PATH REPLICA_URL\n");
	return status;
}

static int
usage(void)
{
	return usage_to(stderr, 2);
}

/* One replica of `db`: usable, or an exit status and `err`. */
static int
preflight_replica(const struct lsc_config *cfg, const struct cfg_db *db,
    const struct cfg_replica *rep, struct lsc_err *err)
{
	struct replica *r = NULL;
	struct cfg_s3 s3;
	int rc;

	/* The settings it replicates with (shipper.c). */
	cfg_s3_init(&s3);
	cfg_replica_s3(db, rep, &cfg->s3, &s3);
	rc = replica_open(rep->url, &s3, PREFLIGHT_RETRIES, &r, err);
	/* One request proves credentials, bucket, region, clock and TLS:
	 * a refusal would otherwise repeat every sync interval forever.
	 * A store that is merely down now is the loop's to retry. */
	if (rc == LSC_OK)
		rc = replica_check(r, err);
	cfg_s3_release(&s3);
	replica_free(r);
	if (rc == LSC_ENET) {
		log_db(LOG_WARN, db->path, "replica cannot be reached yet (will "
		    "retry)\treplica=%s error=\"%s\"", rep->name, err->msg);
		lsc_err_clear(err);
	} else if (rc != LSC_OK) {
		return rc == LSC_ECONFIG ? 2 : 1;
	}
	if (strncmp(rep->url, "file://", 7) == 0) {
		const char *dir = rep->url + 7;
		struct lsc_err e = { 0 };
		struct stat dst;
		/* As private as the database (0700 if unknown). */
		mode_t mode = fs_copy_dir_mode(stat(db->path, &dst) == 0 ?
		    dst.st_mode : 0600);

		if (fs_mkdir_p(dir, mode, &e) != LSC_OK ||
		    access(dir, W_OK | X_OK) != 0) {
			lsc_seterr(err, LSC_EIO, errno, "replica directory "
			    "'%s' is not writable: %s", dir, e.msg[0] ?
			    e.msg : strerror(errno));
			return 1;
		}
	}
	return 0;
}

int
daemon_preflight(const struct lsc_config *cfg, struct lsc_err *err)
{
	for (size_t i = 0; i < cfg->ndb; i++) {
		const struct cfg_db *db = &cfg->dbs[i];
		struct stat st;

		if (stat(db->path, &st) != 0 && errno == ENOENT) {
			/* Not created yet: waited for (daemon/await.c), as
			 * long as there is a directory to watch. */
			char *dir = fs_dirname(db->path);
			int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);

			if (!ok)
				lsc_seterr(err, LSC_ENOTFOUND, errno, "directory "
				    "'%s' of database '%s' does not exist", dir,
				    db->path);
			free(dir);
			if (!ok)
				return 1;
		} else if (!S_ISREG(st.st_mode)) {
			lsc_seterr(err, LSC_ENOTFOUND, errno, "database '%s' is "
			    "not a regular file", db->path);
			return 1;
		}
		for (size_t k = 0; k < db->nreplicas; k++) {
			int status = preflight_replica(cfg, db, &db->replicas[k],
			    err);

			if (status != 0)
				return status;
		}
	}
	return 0;
}

/*
 * Thousands of databases need thousands of descriptors: take the hard
 * limit, and refuse to start (rather than fail one open at a time later)
 * when even that is too low.
 */
static int
raise_fd_limit(const struct lsc_config *cfg)
{
	struct rlimit rl;
	size_t ndb = cfg->ndb;
	unsigned long long need = (unsigned long long)ndb * FDS_PER_DB +
	    FDS_RESERVED;

	/* Each further replica may hold a connection of its own. */
	for (size_t i = 0; i < ndb; i++)
		need += cfg->dbs[i].nreplicas - 1;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		fprintf(stderr, "litestream-c: %zu databases need about %llu open "
		    "files (%d each), but the limit is %llu: raise it (ulimit -n, "
		    "or LimitNOFILE= in the unit)\n", ndb, need, FDS_PER_DB,
		    (unsigned long long)rl.rlim_cur);
		return 1;
	}
	return 0;
}

/* Set by SIGTERM/SIGINT while --restore-if-missing restores, before the
 * event loop reads signals from its signalfd. */
static volatile sig_atomic_t restore_stop;

static void
on_restore_signal(int sig)
{
	(void)sig;
	restore_stop = 1;
}

/*
 * --restore-if-missing, before anything else touches the databases.  A
 * signal must be able to cut a long restore short, also as a container's
 * PID 1, which the default action would not stop: a handler sets the
 * flag the restore checks.  The loop then blocks the signals; one that
 * came after the restores is seen through the flag.
 */
static int
restore_step(const struct lsc_config *cfg, daemon_restore_fn restore,
    struct lsc_err *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_restore_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return deploy_restore_missing(cfg, restore, &restore_stop, err);
}

int
cmd_replicate(int argc, char **argv, daemon_restore_fn restore)
{
	enum { O_RESTORE = 256, O_NOWAIT };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "exec", required_argument, NULL, 'e' },
		{ "restore-if-missing", no_argument, NULL, O_RESTORE },
		{ "no-lock-wait", no_argument, NULL, O_NOWAIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *exec_cmd = NULL;
	int restore_if_missing = 0, no_lock_wait = 0;
	struct loop_opts lo = { 0 };
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	struct cfg_db single;
	int c, status;

	/* "+": options stop at the first operand, so --exec's command is
	 * never mistaken for ours. */
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'e':
			exec_cmd = optarg;
			break;
		case O_RESTORE:
			if (restore == NULL)
				return usage();
			restore_if_missing = 1;
			break;
		case O_NOWAIT:
			no_lock_wait = 1;
			break;
		case 'h':
			return usage_to(stdout, 0);
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
		cfg_db_add_replica(&single, NULL, argv[1], 0);
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
	if ((status = daemon_preflight(cfg, &err)) != 0 ||
	    (status = raise_fd_limit(cfg)) != 0 ||
	    (restore_if_missing && (status = restore_step(cfg, restore,
	    &err)) != 0) ||
	    (no_lock_wait && (status = deploy_lock_check(cfg, &err)) != 0)) {
		if (err.msg[0])
			fprintf(stderr, "litestream-c: %s\n", err.msg);
		cfg_free(cfg);
		return status;
	}
	wal_db_global_init();
	/*
	 * Big buffers (an upload part, a WAL copy batch) straight from mmap
	 * and back to the system when freed.  glibc would otherwise raise its
	 * mmap threshold after the first such free and keep later ones in
	 * each worker thread's arena, where the memory stays resident: the
	 * daemon's peak RSS grew by one part per worker (t5200 measures it).
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (cfg->metrics != NULL && (status = metrics_start(cfg->metrics,
	    &err)) != LSC_OK) {
		fprintf(stderr, "litestream-c: %s\n", err.msg);
		cfg_free(cfg);
		return status == LSC_ECONFIG ? 2 : 1;
	}
	notify_init();		/* systemd: NOTIFY_SOCKET, WATCHDOG_USEC */
	/* The --exec app must not speak for our unit (read above already). */
	if (exec_cmd != NULL)
		notify_forget_env();
	/* Before any thread: every thread inherits the blocked set. */
	loop_block_signals();
	if (restore_stop) {
		log_info("stopped by a signal before replication started");
		metrics_stop();
		cfg_free(cfg);
		return 0;
	}
	lo.config_path = argc == 0 ? config_path : NULL;
	lo.exec_cmd = exec_cmd;
	lo.no_lock_wait = no_lock_wait;
	lo.workers = DEFAULT_WORKERS;
	status = loop_run(cfg, &lo);
	metrics_stop();
	return status;
}
