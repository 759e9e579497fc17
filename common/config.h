/* SPDX-License-Identifier: MIT */
/*
 * Configuration: an INI file read through inih into a validated, immutable
 * struct lsc_config.  Every problem is reported as "FILE:LINE: what is
 * wrong" with LSC_ECONFIG.  See litestream-c.ini for every key.
 *
 *	[daemon]                 log-level, metrics
 *	[s3]                     S3 settings shared by every database
 *	[db "/abs/path/app.db"]  one database: replica URL, intervals,
 *	                         checkpoint thresholds, age keys, any [s3] key
 *
 * `${VAR}` in a section name or value is replaced from the environment (an
 * unset variable is an error).  Lines of 200 bytes or more are refused,
 * since Debian's libinih would silently cut them.
 */
#ifndef LSC_CONFIG_H
#define LSC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/age.h"
#include "common/err.h"

/* S3 settings; NULL / -1 / 0 mean "not set here" so a [db] section can
 * override the [s3] section key by key (cfg_s3_merge). */
struct cfg_s3 {
	char		*endpoint;
	char		*region;
	char		*access_key_id;
	char		*secret_access_key;	/* never logged */
	char		*session_token;		/* never logged */
	char		*ca_file;
	int		 path_style;		/* -1 unset, 0, 1 */
	int		 skip_verify;		/* -1 unset, 0, 1 */
	uint64_t	 part_size;		/* 0 unset */
	int64_t		 connect_timeout_ms;	/* -1 unset */
	int64_t		 request_timeout_ms;	/* -1 unset */
	int		 max_retries;		/* -1 unset: restore's limit */
};

struct cfg_db {
	char		*path;		/* absolute database path */
	char		*replica;	/* replica URL: file:///dir or s3://... */
	char		*meta_path;	/* NULL: <dir>/.<name>-litestream */
	int64_t		 sync_interval_ms;
	int64_t		 snapshot_interval_ms;	/* 0: only at new generations */
	int64_t		 retention_ms;		/* 0: keep everything */
	int64_t		 retention_check_interval_ms;	/* 0: = retention */
	int64_t		 retention_grace_ms;	/* see daemon/retention.h */
	int64_t		 checkpoint_interval_ms;	/* 0: off */
	int64_t		 min_checkpoint_page_count;
	int64_t		 max_checkpoint_page_count;	/* 0: no RESTART */
	struct cfg_s3	 s3;		/* overrides of [s3] */
	/* age encryption: the keys of every `age-recipient` (none: objects
	 * are plain), and `age-identity-file`, which only what reads
	 * objects (restore) opens; NULL when not set. */
	unsigned char	(*age_recipients)[AGE_KEY_LEN];
	size_t		 nage_recipients;
	char		*age_identity_file;
	int		 line;		/* where the section starts */
	int		 replica_line;	/* where `replica` is set */
};

struct lsc_config {
	char		*file;		/* path it was read from */
	char		*log_level;	/* NULL: info */
	char		*metrics;	/* host:port or NULL */
	struct cfg_s3	 s3;
	struct cfg_db	*dbs;
	size_t		 ndb;
};

/* Defaults, shared with the no-config code paths. */
#define CFG_DEFAULT_SYNC_INTERVAL_MS		1000
#define CFG_DEFAULT_SNAPSHOT_INTERVAL_MS	(24LL * 3600 * 1000)
#define CFG_DEFAULT_RETENTION_MS		(24LL * 3600 * 1000)
#define CFG_DEFAULT_RETENTION_CHECK_MS		(3600LL * 1000)
/* Longer than a restore of a large database over a slow link, and than any
 * sane clock skew between us and the store (litestream-c.ini). */
#define CFG_DEFAULT_RETENTION_GRACE_MS		(3600LL * 1000)
#define CFG_DEFAULT_CHECKPOINT_INTERVAL_MS	(60LL * 1000)
#define CFG_DEFAULT_MIN_CHECKPOINT_PAGES	1000
#define CFG_DEFAULT_MAX_CHECKPOINT_PAGES	10000

/* Load and validate `path`; on success *out owns everything (cfg_free). */
int	cfg_load(const char *path, struct lsc_config **out, struct lsc_err *err);
/* Parse INI text as if read from `name` (for tests). */
int	cfg_load_string(const char *text, const char *name,
	    struct lsc_config **out, struct lsc_err *err);
void	cfg_free(struct lsc_config *cfg);

/* A database section with the defaults filled in (for `replicate DB URL`). */
void	cfg_db_defaults(struct cfg_db *db);
/* Find the [db] whose path equals the absolute form of `path`; NULL if none. */
const struct cfg_db *cfg_find_db(const struct lsc_config *cfg, const char *path);

/* out = db's value where set, else global's; out owns copies (cfg_s3_release). */
void	cfg_s3_merge(const struct cfg_s3 *db, const struct cfg_s3 *global,
	    struct cfg_s3 *out);
void	cfg_s3_init(struct cfg_s3 *s3);
void	cfg_s3_release(struct cfg_s3 *s3);

/* "1s", "500ms", "1h30m", "0" -> milliseconds. 0 ok, -1 bad. */
int	cfg_parse_duration(const char *s, int64_t *ms);
/* "8MiB", "5242880", "64KiB", "1GB" -> bytes. 0 ok, -1 bad. */
int	cfg_parse_size(const char *s, uint64_t *bytes);
/* "127.0.0.1:9090", "localhost:9090", "[::1]:9090" -> host (no brackets)
 * and port.  The host is required; the port is 1..65535.  0 ok, -1 bad. */
int	cfg_parse_hostport(const char *s, char *host, size_t host_len,
	    uint16_t *port);
/* "true"/"false"/"yes"/"no"/"1"/"0" -> 1/0; -1 bad. */
int	cfg_parse_bool(const char *s);

#endif
