/* SPDX-License-Identifier: MIT */
/*
 * The `restore` command: options, the output checks, then catalog, plan
 * and build.  Exit status: 0 restored (or skipped by an --if-* option),
 * 1 runtime failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/catalog.h"
#include "restore/pick.h"
#include "restore/plan.h"
#include "restore/restore.h"
#include "restore/restore_cmd.h"
#include "restore/target.h"
#include "wal/wal_layout.h"

static volatile sig_atomic_t restore_stop;

static const char restore_usage[] =
"usage: litestream-c restore [-c CONFIG] [-o PATH] [--timestamp RFC3339]\n"
"           [--generation ID] [--index N] [--if-db-not-exists]\n"
"           [--if-replica-exists] [--age-identity-file PATH]\n"
"           [--replica NAME|URL] (DB_PATH | REPLICA_URL)\n"
"\n"
"Rebuild a database from its replica: the newest snapshot within the\n"
"bounds, then every WAL segment after it up to the bound.\n"
"\n"
"  -c, --config CONFIG   config file (default $LITESTREAM_C_CONFIG, else\n"
"                        /etc/litestream-c.ini); DB_PATH is looked up in it\n"
"  -o, --output PATH     where to write (default DB_PATH; required for a URL)\n"
"  --timestamp T         the newest state whose objects are all no newer\n"
"                        than T, e.g. 2026-01-02T03:04:05Z\n"
"  --generation ID       only this generation (16 hex digits)\n"
"  --index N             up to and including WAL index N, in HEX as in\n"
"                        Litestream 0.3.13 (--index 1f is index 31; the\n"
"                        listings print indexes in decimal)\n"
"  --if-db-not-exists    exit 0 if the output already exists\n"
"  --if-replica-exists   exit 0 if no backup matches\n"
"  --age-identity-file PATH  age keys (age-keygen's file) for an encrypted\n"
"                        replica; default: the [db]'s age-identity-file\n"
"  --replica NAME|URL    which of the database's replicas to read; default:\n"
"                        the one with the newest data (logged)\n"
"\n"
"--index and --timestamp cannot be combined.  An existing output is never\n"
"overwritten.\n";

/* A usage error: the text, the message, exit status 2. */
#define usage_error(...)	cli_usage_error(restore_usage, "restore", __VA_ARGS__)

static void
on_signal(int sig)
{
	(void)sig;
	restore_stop = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int
fail(const struct lsc_err *err)
{
	fprintf(stderr, "litestream-c: restore: %s\n", err->msg);
	return target_exit_status(err->code);
}

/* Strict hex, as Litestream's strconv.ParseUint(s, 16, 32). */
static int
parse_index(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] == '\0' || strspn(s, "0123456789abcdefABCDEF") != strlen(s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno != 0 || *end != '\0' || v >= INDEX_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 || errno != ENOENT;
}

int
cmd_restore(int argc, char **argv)
{
	enum { O_TS = 256, O_GEN, O_INDEX, O_IFDB, O_IFREP, O_AGE, O_REPLICA };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "timestamp", required_argument, NULL, O_TS },
		{ "generation", required_argument, NULL, O_GEN },
		{ "index", required_argument, NULL, O_INDEX },
		{ "if-db-not-exists", no_argument, NULL, O_IFDB },
		{ "if-replica-exists", no_argument, NULL, O_IFREP },
		{ "age-identity-file", required_argument, NULL, O_AGE },
		{ "replica", required_argument, NULL, O_REPLICA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *output = NULL, *age_ids = NULL;
	const char *replica = NULL;
	struct plan_opts po = { 0 };
	int if_db = 0, if_rep = 0, c, status = 1;
	struct lsc_err err = { 0 };
	struct target t = { 0 };
	struct pick pk = { 0 };
	struct restore_stats st = { 0 };
	char *wal = NULL;
	int64_t t0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case O_TS:
			if (parse_rfc3339(optarg, &po.ts_ns) != 0)
				return usage_error("invalid --timestamp '%s': want "
				    "RFC3339, e.g. 2026-01-02T03:04:05Z", optarg);
			po.has_ts = 1;
			break;
		case O_GEN:
			if (!layout_gen_valid(optarg))
				return usage_error("invalid --generation '%s': want 16 "
				    "lowercase hex digits", optarg);
			po.generation = optarg;
			break;
		case O_INDEX:
			if (parse_index(optarg, &po.index) != 0)
				return usage_error("invalid --index '%s': want a hex "
				    "WAL index below 7fffffff", optarg);
			po.has_index = 1;
			break;
		case O_IFDB:
			if_db = 1;
			break;
		case O_IFREP:
			if_rep = 1;
			break;
		case O_AGE:
			age_ids = optarg;
			break;
		case O_REPLICA:
			replica = optarg;
			break;
		case 'h':
			fputs(restore_usage, stdout);
			return 0;
		default:
			return usage_error(NULL);
		}
	}
	if (argc - optind != 1)
		return usage_error("want exactly one DB_PATH or REPLICA_URL");
	if (po.has_ts && po.has_index)
		return usage_error("--index and --timestamp cannot be combined");
	if (output != NULL && output[0] == '\0')
		return usage_error("empty --output");
	if (target_is_url(argv[optind]) && output == NULL)
		return usage_error("restoring from a URL needs -o PATH");
	if (target_resolve(argv[optind], config, replica, &t, &err) != LSC_OK)
		return fail(&err);
	if (target_log_level(t.cfg) != 0) {
		fprintf(stderr, "litestream-c: LITESTREAM_C_LOG_LEVEL must be "
		    "debug, info, warn or error\n");
		target_release(&t);
		return 2;
	}
	if (output == NULL)
		output = t.db_path;

	if (exists(output)) {
		if (if_db) {
			log_info("database already exists, skipping\tpath=%s", output);
			status = 0;
		} else {
			lsc_seterr(&err, LSC_EEXIST, EEXIST, "'%s' already exists; "
			    "not overwriting it (restore to another path with -o)",
			    output);
			status = fail(&err);
		}
		goto out;
	}
	/* SQLite would replay a stale WAL into the new database on open. */
	wal = xasprintf("%s-wal", output);
	if (exists(wal)) {
		lsc_seterr(&err, LSC_EEXIST, EEXIST, "'%s' exists without its "
		    "database; SQLite would apply it to the restored one: remove "
		    "it first", wal);
		status = fail(&err);
		goto out;
	}

	install_signals();
	t0 = mono_ms();
	if (pick_replica(&t, &po, &restore_stop, &pk, &err) != LSC_OK) {
		/* One replica, or all: its URL; else the database. */
		const char *what = t.nreps == 1 ? t.reps[0].url : t.db_path;

		if (!pk.planned) {
			status = fail(&err);
		} else if (err.code == LSC_ENOTFOUND && if_rep) {
			log_info("no matching backups found, skipping\treplica=%s "
			    "reason=\"%s\"", what, err.msg);
			status = 0;
		} else {
			fprintf(stderr, "litestream-c: restore: %s: %s\n", what,
			    err.msg);
			status = 1;
		}
		goto out;
	}
	pk.plan.age_identity_file = age_ids != NULL ? age_ids :
	    t.age_identity_file;
	if (restore_build(pk.replica, &pk.plan, output, &restore_stop, &st,
	    &err) != LSC_OK) {
		status = fail(&err);
		goto out;
	}
	log_info("restored\tpath=%s generation=%s snapshot_index=%08" PRIx32
	    " wal_indexes=%" PRIu64 " segments=%" PRIu64 " commits=%" PRIu64
	    " bytes=%" PRIu64 " elapsed_ms=%" PRId64, output, pk.plan.gen->id,
	    pk.plan.snap->index, st.indexes, st.segments, st.commits,
	    st.db_bytes, mono_ms() - t0);
	status = 0;
out:
	pick_release(&pk);
	target_release(&t);
	free(wal);
	return status;
}
