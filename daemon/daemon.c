/* SPDX-License-Identifier: MIT */
/* Placeholder: the daemon is being written. */
#include <stdio.h>

#include "daemon/daemon.h"

int
cmd_replicate(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "litestream-c: replicate is not built yet\n");
	return 1;
}
