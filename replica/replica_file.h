/* SPDX-License-Identifier: MIT */
/* The file back end: a replica in a local directory (Litestream's tree). */
#ifndef LSC_REPLICA_FILE_H
#define LSC_REPLICA_FILE_H

#include "replica/replica.h"

/* `dir` is absolute; it is created on the first put if missing. */
int	replica_file_open(const char *dir, struct replica **out,
	    struct lsc_err *err);

#endif
