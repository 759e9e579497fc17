/* SPDX-License-Identifier: MIT */
/* Placeholder: the read-side commands are being written. */
#include <stdio.h>

#include "restore/restore_cmd.h"

static int
todo(const char *what)
{
	fprintf(stderr, "litestream-c: %s is not built yet\n", what);
	return 1;
}

int cmd_restore(int argc, char **argv) { (void)argc; (void)argv; return todo("restore"); }
int cmd_generations(int argc, char **argv) { (void)argc; (void)argv; return todo("generations"); }
int cmd_snapshots(int argc, char **argv) { (void)argc; (void)argv; return todo("snapshots"); }
int cmd_wal(int argc, char **argv) { (void)argc; (void)argv; return todo("wal"); }
int cmd_databases(int argc, char **argv) { (void)argc; (void)argv; return todo("databases"); }
