/* SPDX-License-Identifier: MIT */
/*
 * Configuration: an INI file read through inih into a validated, immutable
 * struct lsc_config.  Every problem is reported as "FILE:LINE: what is
 * wrong" with LSC_ECONFIG.  See litestream-c.ini for every key.
 *
 *	[daemon]                 log-level, metrics
 *	[s3]                     S3 settings shared by every database
 *	[s3 "NAME"]              the S3 settings of the replicas named NAME
 *	                         (another endpoint, region, credentials)
 *	[db "/abs/path/app.db"]  one database: its replicas (`replica = URL`,
 *	                         `replica.NAME = URL`, repeatable), intervals,
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

/*
 * One replica of a database.  Its name is what listings, metrics, logs
 * and --replica call it: NAME for `replica.NAME = URL`, else the URL's
 * type ("file" or "s3", Litestream's default name); unique in its [db].
 */
struct cfg_replica {
	char		*name;
	char		*url;		/* file:///dir or s3://bucket/prefix */
	int		 line;		/* where it is set */
	/* Its [s3 "NAME"] section (borrowed from the same config), whose
	 * settings it takes alone; NULL: the [db]'s keys over [s3]. */
	const struct cfg_s3 *s3;
};

/* More would be a config mistake; each costs a worker's time and a
 * listing per retention pass. */
#define CFG_MAX_REPLICAS	16
#define CFG_REPLICA_NAME_MAX	32

struct cfg_db {
	char		*path;		/* absolute database path */
	/* Every replica, in config order (at least one once validated). */
	struct cfg_replica *replicas;
	size_t		 nreplicas;
	/* The first replica's URL (borrowed from replicas[0]), for messages
	 * and code that knows of one replica only. */
	char		*replica;
	char		*meta_path;	/* NULL: <dir>/.<name>-litestream */
	int64_t		 sync_interval_ms;
	int64_t		 snapshot_interval_ms;	/* 0: only at new generations */
	int64_t		 retention_ms;		/* 0: keep everything */
	int64_t		 retention_check_interval_ms;	/* 0: = retention */
	int64_t		 retention_grace_ms;	/* see daemon/retention.h */
	int64_t		 checkpoint_interval_ms;	/* 0: off */
	int64_t		 min_checkpoint_page_count;
	int64_t		 max_checkpoint_page_count;	/* 0: no RESTART */
	/* The local bytes a replica may still need before on-pending-full
	 * applies (daemon/repl.c prune_and_count); 0: no bound. */
	uint64_t	 max_pending;
	int		 pending_release;	/* on-pending-full = release */
	struct cfg_s3	 s3;		/* overrides of [s3] */
	/* age encryption: the keys of every `age-recipient` (none: objects
	 * are plain), and `age-identity-file`, which only what reads
	 * objects (restore) opens; NULL when not set. */
	unsigned char	(*age_recipients)[AGE_KEY_LEN];
	size_t		 nage_recipients;
	char		*age_identity_file;
	int		 line;		/* where the section starts */
	int		 replica_line;	/* where the first replica is set */
};

/* A named set of S3 settings: [s3 "NAME"]. */
struct cfg_s3_section {
	char		*name;
	struct cfg_s3	 s3;
	int		 line;
};

struct lsc_config {
	char		*file;		/* path it was read from */
	char		*log_level;	/* NULL: info */
	char		*metrics;	/* host:port or NULL */
	struct cfg_s3	 s3;
	struct cfg_s3_section *s3_sections;	/* [s3 "NAME"], in file order */
	size_t		 ns3_sections;
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
#define CFG_DEFAULT_MAX_PENDING			((uint64_t)1 << 30)
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
/*
 * Add a replica to `db` (copies of `url` and `name`; NULL name: the URL's
 * type).  For code that builds a cfg_db by hand (replicate DB URL, tests);
 * the loader checks names and counts, this does not.
 */
void	cfg_db_add_replica(struct cfg_db *db, const char *name, const char *url,
	    int line);
/* The replica of `db` named `sel`, else the one whose URL is `sel`; NULL
 * when none is. */
const struct cfg_replica *cfg_db_find_replica(const struct cfg_db *db,
	    const char *sel);
/*
 * The S3 settings replica `rep` of `db` uses: its [s3 "NAME"] section
 * alone, else the [db]'s keys over `global` ([s3]).  The URL's own query
 * and the environment come after, in replica_open.  `out` owns copies
 * (cfg_s3_release).
 */
void	cfg_replica_s3(const struct cfg_db *db, const struct cfg_replica *rep,
	    const struct cfg_s3 *global, struct cfg_s3 *out);
/* 1 if `name` is a valid replica or [s3 "NAME"] name: 1 to 32 of
 * [A-Za-z0-9_-]. */
int	cfg_name_valid(const char *name);

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
