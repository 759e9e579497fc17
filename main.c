/* SPDX-License-Identifier: MIT */
/*
 * litestream-c: one binary, subcommands.  Exit status: 0 success, 1 a
 * runtime failure, 2 a usage or configuration error.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "restore/drill.h"
#include "restore/missing.h"
#include "restore/restore_cmd.h"

#ifndef LSC_VERSION
#define LSC_VERSION "0.1.0"
#endif

static const char usage_text[] =
"usage: litestream-c <command> [options]\n"
"\n"
"commands:\n"
"  replicate [-c CONFIG]            replicate the configured databases\n"
"  replicate DB_PATH REPLICA_URL    replicate one database, no config\n"
"            [--exec CMD] [--restore-if-missing] [--no-lock-wait]\n"
"  restore [-c CONFIG] [-o PATH] [--timestamp RFC3339] [--generation ID]\n"
"          [--index N] [--if-db-not-exists] [--if-replica-exists]\n"
"          (DB_PATH | REPLICA_URL)  rebuild a database from its replica\n"
"  generations [-c CONFIG] [--json] (DB_PATH | REPLICA_URL)\n"
"  snapshots   [-c CONFIG] [--json] (DB_PATH | REPLICA_URL)\n"
"  wal         [-c CONFIG] [--json] (DB_PATH | REPLICA_URL)\n"
"  databases   [-c CONFIG] [--json] list the configured databases\n"
"  drill [-c CONFIG] [--json] [--targets N] [--max-lag DURATION]\n"
"        [--sql QUERY]... [--tmpdir DIR] [--generation ID]\n"
"        [--prom-file PATH] (DB_PATH | REPLICA_URL)\n"
"                                   prove that the replica restores\n"
"                                   (see 'litestream-c drill --help')\n"
"  version                          print the version\n"
"  help                             print this text\n"
"\n"
"CONFIG defaults to $LITESTREAM_C_CONFIG, else /etc/litestream-c.ini.\n"
"REPLICA_URL is file:///abs/dir or s3://bucket/prefix[?endpoint=URL&region=R].\n";

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (strcmp(cmd, "replicate") == 0)
		/* The daemon reaches restore/ only through this hook. */
		return cmd_replicate(argc - 1, argv + 1, restore_missing);
	if (strcmp(cmd, "restore") == 0)
		return cmd_restore(argc - 1, argv + 1);
	if (strcmp(cmd, "generations") == 0)
		return cmd_generations(argc - 1, argv + 1);
	if (strcmp(cmd, "snapshots") == 0)
		return cmd_snapshots(argc - 1, argv + 1);
	if (strcmp(cmd, "wal") == 0)
		return cmd_wal(argc - 1, argv + 1);
	if (strcmp(cmd, "databases") == 0)
		return cmd_databases(argc - 1, argv + 1);
	if (strcmp(cmd, "drill") == 0)
		return cmd_drill(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("litestream-c %s\n", LSC_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (cmd[0] == '\0')
		fputs(usage_text, stderr);
	else
		fprintf(stderr, "litestream-c: unknown command '%s' (see "
		    "'litestream-c help')\n", cmd);
	return 2;
}
