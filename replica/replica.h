/* SPDX-License-Identifier: MIT */
/*
 * A replica is a flat store of objects by key (relative to its root):
 * put (streamed), get (streamed), list by prefix, delete.  It moves bytes
 * and knows nothing of SQLite, WAL or LZ4.  Back ends: file (file:///dir)
 * and s3 (s3://bucket/prefix).
 *
 * Contracts shared by every back end:
 *  - A put is all or nothing: until put_commit returns LSC_OK the object
 *    does not exist under its key (file: temp + fsync + rename + dir fsync;
 *    S3: PutObject or a completed multipart upload).
 *  - get streams the whole object into the sink or fails; it never
 *    reports success for a short object.  A missing key is LSC_ENOTFOUND.
 *  - list returns every object under the prefix, sorted by key (never
 *    trust a store's order), each key once, with its stored size and
 *    modification time.
 *  - Transient failures are retried inside the back end (S3: up to
 *    `max_retries`, -1 meaning until `stop` is set).
 */
#ifndef LSC_REPLICA_H
#define LSC_REPLICA_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/err.h"
#include "common/lz4frame.h"

struct replica_obj {
	char		*key;		/* relative to the replica root */
	uint64_t	 size;		/* stored (compressed) bytes */
	int64_t		 mtime_ns;	/* file mtime, or S3 LastModified */
};

struct replica_list {
	struct replica_obj *v;
	size_t		 n;
	size_t		 cap;
};

struct replica;
struct replica_put;		/* one upload in progress */

struct replica_ops {
	const char *type;	/* "file" or "s3" */
	int	(*put_begin)(struct replica *r, const char *key,
		    struct replica_put **out, struct lsc_err *err);
	int	(*put_write)(struct replica_put *p, const void *data, size_t len,
		    struct lsc_err *err);
	/* Finish the upload; frees `p` whatever the outcome. */
	int	(*put_commit)(struct replica_put *p, struct lsc_err *err);
	/* Give up the upload; frees `p`; nothing is left behind. */
	void	(*put_abort)(struct replica_put *p);
	int	(*get)(struct replica *r, const char *key, lsc_sink_fn sink,
		    void *ctx, struct lsc_err *err);
	int	(*list)(struct replica *r, const char *prefix,
		    struct replica_list *out, struct lsc_err *err);
	/* Delete keys; deleting a missing key is not an error. */
	int	(*del)(struct replica *r, const char *const *keys, size_t n,
		    struct lsc_err *err);
	void	(*free)(struct replica *r);
	/* Optional (NULL: nothing to check); see replica_check. */
	int	(*check)(struct replica *r, struct lsc_err *err);
	/* A second handle on the same store; see replica_dup. */
	int	(*dup)(struct replica *r, struct replica **out,
		    struct lsc_err *err);
};

struct replica {
	const struct replica_ops *ops;
	char		*url;		/* for messages; never holds secrets */
	int		 max_retries;	/* per operation; -1: until *stop */
	volatile sig_atomic_t *stop;	/* set on shutdown; may be NULL */
	/* Mode of the files a back end that creates files (file://) makes,
	 * its directories getting x where r; the daemon sets the database's
	 * own (fs_copy_file_mode).  0 means 0600. */
	mode_t		 file_mode;
};

/*
 * Open a replica from its URL: file:///abs/dir, or s3://bucket/prefix with
 * optional ?endpoint=&region=&path-style= query (S3 settings come from
 * `s3`, which may be NULL, then the environment).  `max_retries` as above.
 */
int	replica_open(const char *url, const struct cfg_s3 *s3, int max_retries,
	    struct replica **out, struct lsc_err *err);
void	replica_free(struct replica *r);

/*
 * Prove that the replica can be used, with one cheap request and the
 * replica's retry policy: S3 lists at most one key under the prefix (the
 * endpoint answers, its certificate is trusted, the bucket exists, the
 * credentials, region and clock are accepted).  LSC_OK; LSC_ENET when the
 * store could not be reached (a daemon should carry on and retry later);
 * any other code is a refusal that only a configuration or clock fix
 * cures, with a one-line message saying which.
 */
int	replica_check(struct replica *r, struct lsc_err *err);

/*
 * A second handle on the same replica, with the same settings, retry
 * policy and stop flag, for another thread: a handle serves one thread at
 * a time (an S3 handle holds one connection).  *out is for replica_free.
 */
int	replica_dup(struct replica *r, struct replica **out,
	    struct lsc_err *err);

/* Convenience wrappers over the ops. */
int	replica_put_begin(struct replica *r, const char *key,
	    struct replica_put **out, struct lsc_err *err);
int	replica_put_write(struct replica *r, struct replica_put *p,
	    const void *data, size_t len, struct lsc_err *err);
int	replica_put_commit(struct replica *r, struct replica_put *p,
	    struct lsc_err *err);
void	replica_put_abort(struct replica *r, struct replica_put *p);
/* Put a whole buffer under `key`. */
int	replica_put_buf(struct replica *r, const char *key, const void *data,
	    size_t len, struct lsc_err *err);
int	replica_get(struct replica *r, const char *key, lsc_sink_fn sink,
	    void *ctx, struct lsc_err *err);
int	replica_list(struct replica *r, const char *prefix,
	    struct replica_list *out, struct lsc_err *err);
int	replica_delete(struct replica *r, const char *const *keys, size_t n,
	    struct lsc_err *err);

/* List helpers for back ends and callers. */
void	replica_list_add(struct replica_list *l, const char *key, uint64_t size,
	    int64_t mtime_ns);
void	replica_list_sort(struct replica_list *l);
/* Drop repeats of a key from a sorted list (a broken store may list an
 * object twice, e.g. on two pages); one of them stays. */
void	replica_list_dedup(struct replica_list *l);
void	replica_list_free(struct replica_list *l);

#endif
