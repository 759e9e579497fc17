/* SPDX-License-Identifier: MIT */
/*
 * A small S3 client: SigV4-signed requests over one reused libcurl easy
 * handle, S3 error bodies parsed with libexpat, and retries with
 * full-jitter exponential back-off.  It moves bytes to and from keys and
 * knows nothing of SQLite.
 *
 * Every operation retries transient failures (connection errors, short
 * bodies, 5xx, 408, 429, RequestTimeout, SlowDown) up to `max_retries`
 * extra attempts, or without limit when max_retries is -1, until `*stop`
 * (which may be NULL) is set; then it fails with LSC_ESTOP.  Each attempt
 * is signed afresh just before it is sent.  Refusals that a retry cannot
 * cure (bad signature or key id, access denied, missing bucket, clock
 * skew, wrong region) fail at once with LSC_ES3 (sys = HTTP status) and a
 * one-line message saying what to fix.  A missing object is LSC_ENOTFOUND;
 * a transport failure that outlived its retries is LSC_ENET.
 *
 * Secrets (secret key, session token, the Authorization header) never
 * appear in an error message or a log line; the client logs at debug only.
 * The client is not thread-safe: use one per thread.
 */
#ifndef LSC_S3_H
#define LSC_S3_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/lz4frame.h"

#define S3_MIN_PART_SIZE	(5ULL * 1024 * 1024)
#define S3_MAX_PART_SIZE	(5ULL * 1024 * 1024 * 1024)
#define S3_MAX_PARTS		10000
#define S3_DELETE_BATCH		1000

/* Everything a client needs; strings are copied by s3_client_new. */
struct s3_config {
	const char	*endpoint;	/* "http(s)://host[:port]"; NULL: AWS */
	const char	*region;	/* NULL: us-east-1 */
	const char	*bucket;
	const char	*access_key_id;
	const char	*secret_access_key;
	const char	*session_token;	/* NULL unless temporary credentials */
	const char	*ca_file;	/* NULL: the system store */
	int		 path_style;	/* 1: host/bucket/key; 0: bucket.host */
	int		 skip_verify;	/* 1: no TLS verification (explicit only) */
	int64_t		 connect_timeout_ms;	/* <= 0: 10 s */
	int64_t		 request_timeout_ms;	/* <= 0: 15 min total */
	int64_t		 low_speed_ms;	/* <= 0: 30 s (or the total if less) */
	int		 max_retries;	/* extra attempts; -1: until *stop */
	volatile sig_atomic_t *stop;
};

struct s3_client;

/*
 * A new client for one bucket.  Fails with LSC_ECONFIG for a bad endpoint,
 * bucket or missing credentials, saying which.  No request is made.
 */
struct s3_client *s3_client_new(const struct s3_config *cfg,
	    struct lsc_err *err);
/*
 * A second client with the settings and credentials of `c`, and its own
 * connection: a client serves one thread at a time, so each thread that
 * makes requests needs its own.  NULL (and `err` says why) only if no
 * libcurl handle can be made.
 */
struct s3_client *s3_client_dup(const struct s3_client *c,
	    struct lsc_err *err);
/* Free the client and wipe the secrets it held.  NULL is fine. */
void	s3_client_free(struct s3_client *c);
/* Change the retry policy (e.g. per command). */
void	s3_client_set_retry(struct s3_client *c, int max_retries,
	    volatile sig_atomic_t *stop);

/* PutObject of a whole buffer, with Content-MD5 and the body's SHA-256. */
int	s3_put_object(struct s3_client *c, const char *key, const void *data,
	    size_t len, struct lsc_err *err);

/*
 * GetObject streamed into `sink`: every byte exactly once, in order.  A cut
 * transfer resumes with Range: bytes=N-; a body shorter than its
 * Content-Length is never success.  An error returned by the sink stops
 * the transfer and is returned as is (no retry).
 */
int	s3_get_object(struct s3_client *c, const char *key, lsc_sink_fn sink,
	    void *ctx, struct lsc_err *err);

/* HeadObject: size and LastModified (ns).  LSC_ENOTFOUND if missing. */
int	s3_head_object(struct s3_client *c, const char *key, uint64_t *size,
	    int64_t *mtime_ns, struct lsc_err *err);

/* Called once per listed object; a non-zero return stops the listing. */
typedef int (*s3_list_fn)(void *ctx, const char *key, uint64_t size,
    int64_t mtime_ns, struct lsc_err *err);

/*
 * ListObjectsV2 of every key under `prefix` (flat: no delimiter), all
 * pages, with encoding-type=url.  Keys are full keys, in the store's order
 * (callers sort).
 */
int	s3_list_objects(struct s3_client *c, const char *prefix, s3_list_fn fn,
	    void *ctx, struct lsc_err *err);

/*
 * One ListObjectsV2 of at most one key under `prefix`: proof that the
 * endpoint answers, the TLS certificate is trusted, the bucket exists and
 * the credentials, region and clock are accepted.  LSC_OK; LSC_ENET when
 * the store could not be reached or kept failing transiently (5xx, 429,
 * connection errors) through the retries; otherwise the refusal's code
 * (LSC_ES3, LSC_ECONFIG) and its one-line message.
 */
int	s3_check_bucket(struct s3_client *c, const char *prefix,
	    struct lsc_err *err);

/*
 * DeleteObjects in batches of at most 1000 keys, Content-MD5 on each.
 * Per-key errors in the reply are retried under the same policy; a key
 * that does not exist counts as deleted.
 */
int	s3_delete_objects(struct s3_client *c, const char *const *keys,
	    size_t n, struct lsc_err *err);

/*
 * Multipart upload, step by step (the caller streams; see replica_s3.c).
 * s3_mpu_create returns the upload id (caller frees).  s3_mpu_part stores
 * the part's ETag in *etag (caller frees).  s3_mpu_complete treats a 200
 * reply carrying <Error> as failure.  s3_mpu_abort is best effort.
 */
int	s3_mpu_create(struct s3_client *c, const char *key, char **upload_id,
	    struct lsc_err *err);
int	s3_mpu_part(struct s3_client *c, const char *key, const char *upload_id,
	    int part_no, const void *data, size_t len, char **etag,
	    struct lsc_err *err);
int	s3_mpu_complete(struct s3_client *c, const char *key,
	    const char *upload_id, char *const *etags, int nparts,
	    struct lsc_err *err);
int	s3_mpu_abort(struct s3_client *c, const char *key,
	    const char *upload_id, struct lsc_err *err);

/*
 * Process-wide request counts by operation and HTTP status, kept by every
 * client (s3_stats.c).  code is the HTTP status; S3_STATS_CODE_NONE when
 * no complete reply came (connection refused or reset, timeout);
 * S3_STATS_CODE_OTHER for statuses beyond the first 14 distinct ones an
 * operation has seen.
 */
#define S3_STATS_CODE_NONE	0
#define S3_STATS_CODE_OTHER	(-1)
/* Enough rows for every operation and status the table can hold. */
#define S3_STATS_MAX		150
struct s3_stat {
	const char	*op;	/* "PutObject", ..., "Other"; static storage */
	int		 code;
	uint64_t	 n;	/* requests so far (each retry is one) */
};
/* Copy up to `max` rows into `out`, grouped by operation in a fixed order;
 * returns how many.  Safe from any thread; allocates nothing. */
size_t	s3_stats_read(struct s3_stat *out, size_t max);

/* Requests sent and retries made so far (for tests and metrics). */
uint64_t s3_client_requests(const struct s3_client *c);
uint64_t s3_client_retries(const struct s3_client *c);

/*
 * Decode %XX in place; -1 on a bad escape or %00.  With `plus_is_space`,
 * '+' also becomes a space: S3's encoding-type=url listings are form
 * encoded (a space comes back as '+', a '+' as %2B; botocore decodes them
 * with unquote_plus).  s3:// URL queries keep a '+' as it is.
 */
int	s3_uri_decode(char *s, int plus_is_space);

#endif
