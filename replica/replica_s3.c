/* SPDX-License-Identifier: MIT */
/* Placeholder until the S3 back end lands (issue: S3-compatible replicas). */
#include "replica/replica_s3.h"

int
replica_s3_open(const char *url, const struct cfg_s3 *s3, struct replica **out,
    struct lsc_err *err)
{
	(void)s3;
	(void)out;
	return lsc_seterr(err, LSC_ECONFIG, 0,
	    "replica '%s': S3 replicas are not built yet", url);
}
