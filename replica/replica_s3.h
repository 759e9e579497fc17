/* SPDX-License-Identifier: MIT */
/* The S3 back end: a replica under a bucket prefix (see s3/s3.h). */
#ifndef LSC_REPLICA_S3_H
#define LSC_REPLICA_S3_H

#include "replica/replica.h"

/* The parts of an s3:// replica URL, as written in it. */
struct replica_s3_url {
	char	*bucket;	/* never empty */
	char	*prefix;	/* "" or "a/b": no leading, trailing or double '/' */
	char	*endpoint;	/* %-decoded; NULL if the URL has none */
	char	*region;	/* %-decoded; NULL if the URL has none */
	int	 path_style;	/* -1 if the URL does not say */
};

/*
 * Split s3://bucket/prefix[?endpoint=..&region=..&path-style=..] into *u
 * (replica_s3_url_release, also after a failure).  Unknown parameters, a
 * bad %-escape or %00, and anything that looks like a credential are
 * refused with LSC_ECONFIG.  Nothing is checked beyond the URL's shape:
 * s3_client_new judges the bucket, endpoint and region.  Pure.
 */
int	replica_s3_parse_url(const char *url, struct replica_s3_url *u,
	    struct lsc_err *err);
void	replica_s3_url_release(struct replica_s3_url *u);

/* `url` is s3://bucket/prefix[?endpoint=..&region=..&path-style=..]. */
int	replica_s3_open(const char *url, const struct cfg_s3 *s3,
	    struct replica **out, struct lsc_err *err);

#endif
