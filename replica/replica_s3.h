/* SPDX-License-Identifier: MIT */
/* The S3 back end: a replica under a bucket prefix (see s3/s3.h). */
#ifndef LSC_REPLICA_S3_H
#define LSC_REPLICA_S3_H

#include "replica/replica.h"

/* `url` is s3://bucket/prefix[?endpoint=..&region=..&path-style=..]. */
int	replica_s3_open(const char *url, const struct cfg_s3 *s3,
	    struct replica **out, struct lsc_err *err);

#endif
