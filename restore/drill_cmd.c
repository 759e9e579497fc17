/* SPDX-License-Identifier: MIT */
/*
 * The `drill` command: options, a private work directory, the run, the
 * report, the exit status (0 every check passed, 1 a check failed or
 * could not be done, 2 usage or configuration error).
 *
 * Temp files: everything the drill writes lives in one directory made by
 * mkdtemp under --tmpdir, removed at the end.  On SIGINT or SIGTERM the
 * handler itself empties and removes it, then dies of the same signal:
 * the drill may be blocked in a download or a query, and waiting for that
 * to end could leave files behind if a SIGKILL follows.  Only
 * async-signal-safe calls are used there (getdents64, unlinkat, rmdir,
 * raise), on a descriptor and a path prepared beforehand.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/drill.h"
#include "restore/pick.h"
#include "restore/target.h"
#include "wal/wal_layout.h"

static const char drill_usage[] =
"usage: litestream-c drill [-c CONFIG] [--json] [--targets N]\n"
"           [--max-lag DURATION] [--sql QUERY]... [--tmpdir DIR]\n"
"           [--generation ID] [--prom-file PATH] [--age-identity-file PATH]\n"
"           [--replica NAME|URL] (DB_PATH | REPLICA_URL)\n"
"\n"
"A disaster-recovery drill: prove that the replica restores, and how\n"
"stale (RPO) and how slow (RTO) a restore would be.  Never writes to the\n"
"replica.  Checks, in this order:\n"
"  chain   every object of every generation read and verified\n"
"  latest  the newest state restored, integrity_check; RTO and RPO\n"
"  replay  the same state through the oldest snapshot, identical page\n"
"          for page\n"
"  pitr    N points in time over the retained window, each restored\n"
"  sql     each --sql QUERY on the latest restore must return true\n"
"\n"
"  -c, --config CONFIG   config file (default $LITESTREAM_C_CONFIG, else\n"
"                        /etc/litestream-c.ini); DB_PATH is looked up in it\n"
"  --json                one JSON object on stdout instead of text\n"
"  --targets N           points in time to restore (default 3; 0: none)\n"
"  --max-lag DURATION    fail when the newest restorable state is older,\n"
"                        e.g. 1h, 15m\n"
"  --sql QUERY           passes when the first column of the first row is\n"
"                        true: non-zero, non-NULL, non-empty (repeatable)\n"
"  --tmpdir DIR          where the restored copies go (default $TMPDIR,\n"
"                        else /tmp); needs room for two databases\n"
"  --generation ID       only this generation (16 hex digits)\n"
"  --age-identity-file PATH  age keys for an encrypted replica; default:\n"
"                        the [db]'s age-identity-file\n"
"  --replica NAME|URL    which of the database's replicas to drill;\n"
"                        default: the one with the newest data (logged),\n"
"                        as restore would choose\n"
"  --prom-file PATH      also write the results as Prometheus text to PATH\n"
"                        (atomically; for node_exporter's textfile\n"
"                        collector, e.g. /var/lib/node_exporter/x.prom)\n"
"\n"
"Exit status: 0 every check passed, 1 a check failed, 2 a usage or\n"
"configuration error.  Logs go to stderr.\n";

/* Set up before the handlers are installed, then only read by them. */
static int		wipe_fd = -1;
static char		wipe_path[PATH_MAX];

/* A usage error: the text, the message, exit status 2. */
#define usage_error(...)	cli_usage_error(drill_usage, "drill", __VA_ARGS__)

static int
fail(const struct lsc_err *err)
{
	fprintf(stderr, "litestream-c: drill: %s\n", err->msg);
	return target_exit_status(err->code);
}

/*
 * Unlink every entry of the directory open on `fd` (the drill makes no
 * subdirectories).  Scans until one removes nothing; bounded.
 */
static void
wipe(int fd)
{
	char buf[4096] __attribute__((aligned(8)));

	for (int pass = 0; pass < 100; pass++) {
		int removed = 0;
		ssize_t n;

		if (lseek(fd, 0, SEEK_SET) != 0)
			return;
		while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *d = (struct dirent64 *)(buf + off);
				const char *s = d->d_name;

				off += d->d_reclen;
				if (s[0] == '.' && (s[1] == '\0' ||
				    (s[1] == '.' && s[2] == '\0')))
					continue;
				if (unlinkat(fd, s, 0) == 0)
					removed++;
			}
		}
		if (removed == 0)
			return;
	}
}

static void
on_signal(int sig)
{
	if (wipe_fd >= 0) {
		wipe(wipe_fd);
		rmdir(wipe_path);
	}
	/* SA_RESETHAND restored the default action: die of this signal. */
	raise(sig);
}

static void
block_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(how, &set, NULL);
}

/*
 * Make the work directory and arm the handlers on it.  Signals are held
 * meanwhile, so a handler never sees a directory half set up.
 */
static int
make_workdir(const char *tmpdir, struct lsc_err *err)
{
	struct sigaction sa;
	char *tmpl = xasprintf("%s/lsc-drill-XXXXXX", tmpdir);
	int rc = LSC_OK;

	block_signals(SIG_BLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (strlen(tmpl) >= sizeof(wipe_path)) {
		rc = lsc_seterr(err, LSC_EIO, ENAMETOOLONG, "--tmpdir '%s' is too "
		    "long", tmpdir);
	} else if (mkdtemp(tmpl) == NULL) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot create a directory "
		    "in '%s': %s", tmpdir, strerror(errno));
	} else {
		memcpy(wipe_path, tmpl, strlen(tmpl) + 1);
		wipe_fd = open(wipe_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (wipe_fd < 0) {
			rc = lsc_seterr(err, LSC_EIO, errno, "cannot open '%s': %s",
			    wipe_path, strerror(errno));
			rmdir(wipe_path);
		}
	}
	block_signals(SIG_UNBLOCK);
	free(tmpl);
	return rc;
}

static void
remove_workdir(void)
{
	block_signals(SIG_BLOCK);
	if (wipe_fd >= 0) {
		wipe(wipe_fd);
		close(wipe_fd);
		if (rmdir(wipe_path) != 0)
			log_warn("cannot remove '%s': %s", wipe_path, strerror(errno));
	}
	wipe_fd = -1;
	block_signals(SIG_UNBLOCK);
}

static int
parse_targets(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < 0 ||
	    v > DRILL_MAX_TARGETS)
		return -1;
	*out = (int)v;
	return 0;
}

int
cmd_drill(int argc, char **argv)
{
	enum { O_JSON = 256, O_TARGETS, O_LAG, O_SQL, O_TMP, O_GEN, O_PROM,
	    O_AGE, O_REPLICA };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, O_JSON },
		{ "targets", required_argument, NULL, O_TARGETS },
		{ "max-lag", required_argument, NULL, O_LAG },
		{ "sql", required_argument, NULL, O_SQL },
		{ "tmpdir", required_argument, NULL, O_TMP },
		{ "generation", required_argument, NULL, O_GEN },
		{ "prom-file", required_argument, NULL, O_PROM },
		{ "age-identity-file", required_argument, NULL, O_AGE },
		{ "replica", required_argument, NULL, O_REPLICA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct drill_opts o = { .targets = 3, .max_lag_ms = -1 };
	const char *config = NULL, *tmpdir = NULL, *prom = NULL;
	const char *replica = NULL;
	const char **sql = xcalloc((size_t)argc + 1, sizeof(*sql));
	struct drill_report rep = { 0 };
	struct lsc_err err = { 0 };
	struct target t = { 0 };
	struct replica *r = NULL;
	struct stat st;
	size_t which = 0;
	int json = 0, c, status;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_TARGETS:
			if (parse_targets(optarg, &o.targets) != 0) {
				status = usage_error("invalid --targets '%s': want 0 "
				    "to %d", optarg, DRILL_MAX_TARGETS);
				goto out;
			}
			break;
		case O_LAG:
			if (cfg_parse_duration(optarg, &o.max_lag_ms) != 0 ||
			    o.max_lag_ms < 0) {
				status = usage_error("invalid --max-lag '%s': want a "
				    "duration such as 90s, 15m or 1h", optarg);
				goto out;
			}
			break;
		case O_SQL:
			if (optarg[0] == '\0') {
				status = usage_error("empty --sql");
				goto out;
			}
			sql[o.nsql++] = optarg;
			break;
		case O_TMP:
			tmpdir = optarg;
			break;
		case O_GEN:
			if (!layout_gen_valid(optarg)) {
				status = usage_error("invalid --generation '%s': want "
				    "16 lowercase hex digits", optarg);
				goto out;
			}
			o.generation = optarg;
			break;
		case O_PROM:
			if (optarg[0] == '\0') {
				status = usage_error("empty --prom-file");
				goto out;
			}
			prom = optarg;
			break;
		case O_AGE:
			o.age_identity_file = optarg;
			break;
		case O_REPLICA:
			replica = optarg;
			break;
		case 'h':
			fputs(drill_usage, stdout);
			status = 0;
			goto out;
		default:
			status = usage_error(NULL);
			goto out;
		}
	}
	o.sql = sql;
	if (argc - optind != 1) {
		status = usage_error("want exactly one DB_PATH or REPLICA_URL");
		goto out;
	}
	if (tmpdir == NULL)
		tmpdir = getenv("TMPDIR");
	if (tmpdir == NULL || tmpdir[0] == '\0')
		tmpdir = "/tmp";
	if (stat(tmpdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		status = usage_error("--tmpdir '%s' is not a directory", tmpdir);
		goto out;
	}
	if (target_resolve(argv[optind], config, replica, &t, &err) != LSC_OK) {
		status = fail(&err);
		goto out;
	}
	if (o.age_identity_file == NULL)
		o.age_identity_file = t.age_identity_file;
	if (target_log_level(t.cfg) != 0) {
		fprintf(stderr, "litestream-c: LITESTREAM_C_LOG_LEVEL must be "
		    "debug, info, warn or error\n");
		status = 2;
		goto out;
	}
	if (t.nreps > 1) {
		/* The replica a restore would read; if none can say, the first,
		 * whose drill then reports why. */
		struct plan_opts po = { .generation = o.generation };
		struct pick pk = { 0 };
		struct lsc_err perr = { 0 };

		if (pick_replica(&t, &po, NULL, &pk, &perr) == LSC_OK)
			which = pk.index;
		pick_release(&pk);
	}
	if (target_open(&t, which, &r, &err) != LSC_OK ||
	    make_workdir(tmpdir, &err) != LSC_OK) {
		status = fail(&err);
		goto out;
	}
	drill_run(r, &o, wipe_path, &rep);
	remove_workdir();
	rep.db = t.db_path;
	if (json)
		drill_print_json(&rep, stdout);
	else
		drill_print_text(&rep, stdout);
	status = rep.status == DRILL_PASS ? 0 : 1;
	if (fflush(stdout) != 0) {
		fprintf(stderr, "litestream-c: drill: cannot write the report: "
		    "%s\n", strerror(errno));
		status = 1;
	}
	if (prom != NULL && drill_write_prom(&rep, prom, &err) != LSC_OK) {
		fprintf(stderr, "litestream-c: drill: %s\n", err.msg);
		status = 1;
	}
out:
	remove_workdir();
	drill_report_release(&rep);
	replica_free(r);
	target_release(&t);
	free(sql);
	return status;
}
