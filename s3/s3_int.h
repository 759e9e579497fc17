/* SPDX-License-Identifier: MIT */
/*
 * Internals of the S3 client shared between its files and its unit tests:
 * SigV4 (s3_sigv4.c), XML replies (s3_xml.c), one HTTP exchange
 * (s3_http.c), retry policy (s3_retry.c) and request building
 * (s3_client.c).  Nothing here is for use outside s3/ and tests.
 */
#ifndef LSC_S3_INT_H
#define LSC_S3_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/lz4frame.h"
#include "s3/s3.h"

/* ---- s3_sigv4.c: pure signing code ---- */

struct s3_hdr {
	const char	*name;
	const char	*value;
};

struct s3_param {
	const char	*name;		/* raw (not yet encoded) */
	const char	*value;		/* raw; NULL or "" for a bare key */
};

/* Credentials and the signing key cached per day and region. */
struct s3_sigv4 {
	char		*access_key_id;
	char		*secret;		/* wiped on release */
	char		*token;			/* NULL or session token */
	char		 key_date[9];		/* YYYYMMDD of the cached key */
	char		 key_region[64];
	unsigned char	 key[32];
	int		 key_ok;
	unsigned	 key_derivations;	/* for tests of the cache */
};

void	s3_sigv4_init(struct s3_sigv4 *sv, const char *akid, const char *secret,
	    const char *token);
void	s3_sigv4_release(struct s3_sigv4 *sv);

/*
 * Append `s` (n bytes) %-encoded as SigV4 wants: every byte but
 * A-Za-z0-9-_.~ becomes %XX (upper-case hex), once; '/' is kept when
 * keep_slash is set (paths) and encoded otherwise (query values).
 */
void	s3_uri_encode(struct buf *out, const char *s, size_t n, int keep_slash);

/* The canonical query string: names and values encoded, sorted. */
void	s3_canonical_query(struct buf *out, const struct s3_param *p, size_t n);

/* Hex SHA-256 of data (65 bytes with the NUL). */
void	s3_sha256_hex(const void *data, size_t len, char out[65]);
/* Base64 MD5 of data (25 bytes with the NUL). */
void	s3_md5_base64(const void *data, size_t len, char out[25]);
/* "YYYYMMDDTHHMMSSZ" for t (17 bytes with the NUL). */
void	s3_amz_date(time_t t, char out[17]);

/*
 * The canonical request: method, canonical URI (already encoded), query
 * (canonical), headers (lower-cased, trimmed, sorted), signed header list,
 * payload hash.  `signed_out` receives "host;x-amz-date;...".
 */
void	s3_sigv4_canonical_request(struct buf *out, struct buf *signed_out,
	    const char *method, const char *uri, const char *query,
	    const struct s3_hdr *h, size_t nh, const char *payload_hash);

/*
 * Sign: build the canonical request and string to sign, derive (or reuse)
 * the signing key and write the Authorization header value into `authz`.
 * `creq` and `sts` may be NULL; if not they receive those texts (tests).
 */
void	s3_sigv4_sign(struct s3_sigv4 *sv, const char *region,
	    const char *service, const char *amz_date, const char *method,
	    const char *uri, const char *query, const struct s3_hdr *h, size_t nh,
	    const char *payload_hash, struct buf *authz, struct buf *creq,
	    struct buf *sts);

/* ---- s3_xml.c: replies parsed with libexpat ---- */

struct s3_error_info {
	char	code[64];
	char	message[192];
	char	region[64];
	char	request_time[40];
	char	server_time[40];
	char	endpoint[128];
};

/* 1 if body is an <Error> document (filled in), 0 if not, -1 if not XML. */
int	s3_xml_error(const char *body, size_t len, struct s3_error_info *out);

struct s3_list_page {
	int	 truncated;
	char	*next_token;		/* owned; NULL if none */
	int	 url_encoded;		/* <EncodingType>url</EncodingType> */
};

/*
 * Parse a ListBucketResult (v2): fn is called for each <Contents> with its
 * key decoded when the reply says EncodingType url (a key that does not
 * decode, e.g. with %00, is passed as listed, still encoded).  LSC_ECORRUPT
 * on XML that is not a ListBucketResult, an empty key, or an error from fn.
 */
int	s3_xml_list(const char *body, size_t len, s3_list_fn fn, void *ctx,
	    struct s3_list_page *page, struct lsc_err *err);
int	s3_xml_initiate(const char *body, size_t len, char **upload_id,
	    struct lsc_err *err);
/* OK only for a CompleteMultipartUploadResult; <Error> goes to *einfo. */
int	s3_xml_complete(const char *body, size_t len, struct s3_error_info *einfo,
	    struct lsc_err *err);

typedef void (*s3_delerr_fn)(void *ctx, const char *key, const char *code,
    const char *message);
/* Parse a DeleteResult: fn for each per-key <Error>. */
int	s3_xml_delete_result(const char *body, size_t len, s3_delerr_fn fn,
	    void *ctx, struct lsc_err *err);

/* Append s with & < > " ' escaped. */
void	s3_xml_escape(struct buf *out, const char *s);

/* ISO 8601 "2009-10-12T17:50:30.000Z" -> ns since the epoch; -1 if bad
 * or outside what int64_t nanoseconds hold (years 1678 to 2261). */
int	s3_parse_iso8601(const char *s, int64_t *ns);
/* RFC 7231 "Sun, 06 Nov 1994 08:49:37 GMT" -> seconds; -1 if bad. */
int	s3_parse_http_date(const char *s, int64_t *sec);

/* ---- s3_retry.c ---- */

/* 1 when an attempt that failed this way may be tried again. */
int	s3_retryable(int code, int http_status, const char *s3_code);
/* Full jitter: uniform in [0, min(cap, base * 2^attempt)] ms. */
int64_t	s3_backoff_ms(int attempt, uint64_t rnd);
#define S3_BACKOFF_BASE_MS	100
#define S3_BACKOFF_CAP_MS	30000

/* ---- s3_http.c: one exchange over a reused easy handle ---- */

struct s3_http;

struct s3_http_opts {
	const char	*ca_file;
	int		 skip_verify;
	int64_t		 connect_timeout_ms;
	int64_t		 request_timeout_ms;
	int64_t		 low_speed_ms;
};

struct s3_http_req {
	const char	*method;	/* GET PUT POST DELETE HEAD */
	const char	*url;
	const char *const *headers;	/* "Name: value" lines, NULL-ended */
	const void	*body;		/* PUT/POST */
	size_t		 body_len;
	/* Receives a 2xx body; may be NULL (collect into ok_body then). */
	lsc_sink_fn	 sink;
	void		*sink_ctx;
	struct buf	*ok_body;	/* 2xx body when sink is NULL */
	struct buf	*err_body;	/* non-2xx body (capped) */
};

struct s3_http_resp {
	long		 status;
	int64_t		 content_length;	/* -1 if absent */
	int64_t		 range_start;		/* Content-Range; -1 if absent */
	int64_t		 range_total;
	int64_t		 retry_after_s;		/* -1 if absent */
	int64_t		 date_s;		/* Date header; -1 if absent */
	int64_t		 last_modified_s;	/* -1 if absent */
	uint64_t	 body_bytes;		/* body bytes received */
	char		 etag[128];
	char		 bucket_region[64];	/* x-amz-bucket-region */
	int		 sink_failed;		/* the sink returned an error */
};

struct s3_http *s3_http_new(const struct s3_http_opts *o, struct lsc_err *err);
/* A new handle with the options of `h` (for another thread). */
struct s3_http *s3_http_dup(const struct s3_http *h, struct lsc_err *err);
void	s3_http_free(struct s3_http *h);
/*
 * One request.  LSC_OK when an HTTP reply arrived (any status; the body
 * may still be short: compare body_bytes with content_length), LSC_ENET
 * for a transport failure, or the sink's own error.
 */
int	s3_http_do(struct s3_http *h, const struct s3_http_req *req,
	    struct s3_http_resp *resp, struct lsc_err *err);

/* ---- s3_client.c: building and signing requests (pure part) ---- */

struct s3_prepared {
	char		*url;
	char		*host;		/* as signed: host[:port] */
	char		*headers[16];	/* "Name: value" lines, NULL-ended */
	int		 nheaders;
	char		*signed_headers;	/* for tests */
};

struct s3_reqspec {
	const char	*method;
	const char	*key;		/* NULL: the bucket itself */
	const struct s3_param *params;
	size_t		 nparams;
	const struct s3_hdr *extra;	/* signed too: content-md5, range */
	size_t		 nextra;
	const char	*payload_hash;	/* hex SHA-256 or UNSIGNED-PAYLOAD */
};

struct s3_client {
	char		*scheme;	/* "http" or "https" */
	char		*host;		/* endpoint host[:port], lower case */
	char		*bucket;
	char		*region;
	int		 path_style;
	struct s3_sigv4	 sv;
	struct s3_http	*http;
	int		 max_retries;
	volatile sig_atomic_t *stop;
	uint64_t	 rng;
	uint64_t	 nrequests;
	uint64_t	 nretries;
	char		 where[192];	/* s3_where's result */
};

/* Build URL and signed headers for `spec` at time `now`. */
void	s3_prepare(struct s3_client *c, const struct s3_reqspec *spec,
	    time_t now, struct s3_prepared *out);
void	s3_prepared_release(struct s3_prepared *p);

/* One operation with its retries (s3_client.c). */
struct s3_call {
	const char	*op;		/* "PutObject", for messages */
	struct s3_reqspec spec;
	const char	*subject;	/* named in messages when spec.key is
					 * NULL (a listing's prefix) */
	const void	*body;
	size_t		 body_len;
	lsc_sink_fn	 sink;		/* 2xx body; or collect in ok_body */
	void		*sink_ctx;
	struct buf	*ok_body;	/* reset before each attempt */
	int		 get;		/* GetObject: resume with Range */
	/* Checks a 2xx reply in ok_body; an LSC_ES3 code with a retryable
	 * S3 code (in *s3code) is retried like an HTTP error. */
	int		(*check)(struct s3_call *call, const struct buf *body,
			    char *s3code, size_t s3code_len,
			    struct lsc_err *err);
	void		*check_ctx;
	struct s3_http_resp resp;	/* the last reply */
	/* GetObject state, kept across attempts. */
	uint64_t	 delivered;
	int64_t		 total;		/* -1 until known */
	char		 etag[128];
	uint64_t	 skip;
	int		 first_chunk;
	lsc_sink_fn	 user_sink;
	void		*user_ctx;
};

int	s3_call(struct s3_client *c, struct s3_call *call, struct lsc_err *err);
/* Count one request of operation `op` that ended with HTTP `status` (0: no
 * reply) in the process-wide table (s3_stats.c).  Thread-safe. */
void	s3_stats_count(const char *op, long status);
/* Sleep a full-jitter back-off for `attempt`; 1 if *stop was set. */
int	s3_backoff_nap(struct s3_client *c, int attempt);
/* "s3://bucket/key" for messages (in c->where; key cut at 100 bytes). */
const char *s3_where(struct s3_client *c, const char *key);

#endif
