/* SPDX-License-Identifier: MIT */
/*
 * Configuration loader: the only file that includes <ini.h>.
 *
 * inih calls our handler once per key, after its reader has fetched the
 * line, so a reader that counts lines gives us the line number Debian's
 * libinih 55 does not pass (it is built without INI_HANDLER_LINENO).  The
 * same reader refuses lines that do not fit inih's 200-byte buffer:
 * otherwise inih would cut the value and parse the rest as a new line.
 *
 * Sections are opened by the reader too, when it sees a "[header]" line,
 * not by the handler: inih reports a section only with its first key (an
 * empty or repeated section would go unseen, or be blamed on a key's
 * line), and it keeps only 49 bytes of a section's name, which would cut
 * a long [db "/path"].  The handler ignores inih's section argument.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"

#define MAX_LINE 200	/* Debian's libinih: INI_MAX_LINE, stack buffer */

enum section_kind { SEC_NONE, SEC_DAEMON, SEC_S3, SEC_DB };

struct parser {
	const char		*name;		/* file name for messages */
	FILE			*fp;		/* NULL when parsing a string */
	const char		*text;		/* string input position */
	int			 line;		/* line the reader returned last */
	int			 too_long;
	int			 group_readable;
	struct lsc_config	*cfg;
	enum section_kind	 kind;		/* the section we are in */
	struct cfg_db		*db;		/* current [db] or NULL */
	struct cfg_s3		*s3;		/* current [s3] or [s3 "NAME"] */
	char			 section[MAX_LINE];	/* its name, for messages */
	int			 s3_line, daemon_line;	/* their headers, or 0 */
	/* keys already set in the current section, "\n"-separated */
	struct buf		 seen;
	struct lsc_err		*err;
	int			 err_line;	/* line of our error in *err */
};

int
cfg_parse_duration(const char *s, int64_t *ms)
{
	int64_t total = 0;

	if (*s == '\0')
		return -1;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s != '\0') {
		int64_t n = 0, unit;

		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			if (n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*s++ - '0');
		}
		if (strncmp(s, "ms", 2) == 0) {
			unit = 1;
			s += 2;
		} else if (*s == 's') {
			unit = 1000;
			s++;
		} else if (*s == 'm') {
			unit = 60 * 1000;
			s++;
		} else if (*s == 'h') {
			unit = 3600 * 1000;
			s++;
		} else {
			return -1;
		}
		if (n > INT64_MAX / unit || total > INT64_MAX - n * unit)
			return -1;
		total += n * unit;
	}
	/* Keep every interval usable as a poll timeout and in sums with now. */
	if (total > (int64_t)100 * 365 * 24 * 3600 * 1000)
		return -1;
	*ms = total;
	return 0;
}

int
cfg_parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 },
		{ "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
		{ "K", 1ULL << 10 }, { "M", 1ULL << 20 }, { "G", 1ULL << 30 },
	};
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s++ - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].suffix) == 0) {
			if (n > UINT64_MAX / units[i].mult)
				return -1;
			*bytes = n * units[i].mult;
			return 0;
		}
	}
	return -1;
}

/*
 * "host:port" or "[v6addr]:port".  The host is required (we bind only to
 * what the operator named, never to every interface) and is a DNS name or
 * an IPv4 literal, or an IPv6 literal in brackets; the port is 1..65535.
 */
int
cfg_parse_hostport(const char *s, char *host, size_t host_len, uint16_t *port)
{
	const char *colon = strrchr(s, ':'), *h = s, *p;
	size_t hl;
	unsigned long n = 0;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		/* [v6]: brackets round the host, removed in the result */
		if (hl < 3 || s[hl - 1] != ']')
			return -1;
		h = s + 1;
		hl -= 2;
		for (size_t i = 0; i < hl; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				return -1;
	} else {
		if (hl == 0)
			return -1;
		for (size_t i = 0; i < hl; i++)
			if (!isalnum((unsigned char)h[i]) && h[i] != '.' &&
			    h[i] != '-')
				return -1;
	}
	for (p = colon + 1; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || n > 65535)
			return -1;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n == 0 || n > 65535 || hl >= host_len)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)n;
	return 0;
}

int
cfg_parse_bool(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 ||
	    strcmp(s, "1") == 0 || strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 ||
	    strcmp(s, "0") == 0 || strcmp(s, "off") == 0)
		return 0;
	return -1;
}

void
cfg_s3_init(struct cfg_s3 *s3)
{
	memset(s3, 0, sizeof(*s3));
	s3->path_style = -1;
	s3->skip_verify = -1;
	s3->connect_timeout_ms = -1;
	s3->request_timeout_ms = -1;
	s3->max_retries = -1;
}

static void
free_secret(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
cfg_s3_release(struct cfg_s3 *s3)
{
	free(s3->endpoint);
	free(s3->region);
	free(s3->access_key_id);
	free_secret(s3->secret_access_key);
	free_secret(s3->session_token);
	free(s3->ca_file);
	cfg_s3_init(s3);
}

static char *
dup_or_null(const char *a, const char *b)
{
	const char *s = a != NULL ? a : b;

	return s == NULL ? NULL : xstrdup(s);
}

void
cfg_s3_merge(const struct cfg_s3 *db, const struct cfg_s3 *global,
    struct cfg_s3 *out)
{
	static struct cfg_s3 none = { .path_style = -1, .skip_verify = -1,
	    .connect_timeout_ms = -1, .request_timeout_ms = -1, .max_retries = -1 };

	if (db == NULL)
		db = &none;
	if (global == NULL)
		global = &none;
	out->endpoint = dup_or_null(db->endpoint, global->endpoint);
	out->region = dup_or_null(db->region, global->region);
	out->access_key_id = dup_or_null(db->access_key_id, global->access_key_id);
	out->secret_access_key = dup_or_null(db->secret_access_key,
	    global->secret_access_key);
	out->session_token = dup_or_null(db->session_token, global->session_token);
	out->ca_file = dup_or_null(db->ca_file, global->ca_file);
	out->path_style = db->path_style >= 0 ? db->path_style : global->path_style;
	out->skip_verify = db->skip_verify >= 0 ? db->skip_verify :
	    global->skip_verify;
	out->part_size = db->part_size ? db->part_size : global->part_size;
	out->connect_timeout_ms = db->connect_timeout_ms >= 0 ?
	    db->connect_timeout_ms : global->connect_timeout_ms;
	out->request_timeout_ms = db->request_timeout_ms >= 0 ?
	    db->request_timeout_ms : global->request_timeout_ms;
	out->max_retries = db->max_retries >= 0 ? db->max_retries :
	    global->max_retries;
}

void
cfg_db_defaults(struct cfg_db *db)
{
	memset(db, 0, sizeof(*db));
	db->sync_interval_ms = CFG_DEFAULT_SYNC_INTERVAL_MS;
	db->snapshot_interval_ms = CFG_DEFAULT_SNAPSHOT_INTERVAL_MS;
	db->retention_ms = CFG_DEFAULT_RETENTION_MS;
	db->retention_check_interval_ms = CFG_DEFAULT_RETENTION_CHECK_MS;
	db->retention_grace_ms = CFG_DEFAULT_RETENTION_GRACE_MS;
	db->max_pending = CFG_DEFAULT_MAX_PENDING;
	db->checkpoint_interval_ms = CFG_DEFAULT_CHECKPOINT_INTERVAL_MS;
	db->min_checkpoint_page_count = CFG_DEFAULT_MIN_CHECKPOINT_PAGES;
	db->max_checkpoint_page_count = CFG_DEFAULT_MAX_CHECKPOINT_PAGES;
	cfg_s3_init(&db->s3);
}

void
cfg_free(struct lsc_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->ndb; i++) {
		free(cfg->dbs[i].path);
		for (size_t k = 0; k < cfg->dbs[i].nreplicas; k++) {
			free(cfg->dbs[i].replicas[k].name);
			free(cfg->dbs[i].replicas[k].url);
		}
		free(cfg->dbs[i].replicas);
		free(cfg->dbs[i].meta_path);
		free(cfg->dbs[i].age_recipients);
		free(cfg->dbs[i].age_identity_file);
		cfg_s3_release(&cfg->dbs[i].s3);
	}
	free(cfg->dbs);
	for (size_t i = 0; i < cfg->ns3_sections; i++) {
		free(cfg->s3_sections[i].name);
		cfg_s3_release(&cfg->s3_sections[i].s3);
	}
	free(cfg->s3_sections);
	cfg_s3_release(&cfg->s3);
	free(cfg->log_level);
	free(cfg->metrics);
	free(cfg->file);
	free(cfg);
}

const struct cfg_db *
cfg_find_db(const struct lsc_config *cfg, const char *path)
{
	char *abs = fs_abspath(path);
	const struct cfg_db *found = NULL;

	for (size_t i = 0; cfg != NULL && i < cfg->ndb; i++)
		if (strcmp(cfg->dbs[i].path, abs) == 0)
			found = &cfg->dbs[i];
	free(abs);
	return found;
}

int
cfg_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n <= CFG_REPLICA_NAME_MAX && strspn(name,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

void
cfg_db_add_replica(struct cfg_db *db, const char *name, const char *url,
    int line)
{
	struct cfg_replica *rep;

	db->replicas = xreallocarray(db->replicas, db->nreplicas + 1,
	    sizeof(*db->replicas));
	rep = &db->replicas[db->nreplicas++];
	memset(rep, 0, sizeof(*rep));
	rep->url = xstrdup(url);
	rep->name = xstrdup(name != NULL ? name :
	    strncmp(url, "s3://", 5) == 0 ? "s3" : "file");
	rep->line = line;
	/* The array may have moved; the strings have not. */
	db->replica = db->replicas[0].url;
	db->replica_line = db->replicas[0].line;
}

const struct cfg_replica *
cfg_db_find_replica(const struct cfg_db *db, const char *sel)
{
	for (size_t i = 0; i < db->nreplicas; i++)
		if (strcmp(db->replicas[i].name, sel) == 0)
			return &db->replicas[i];
	for (size_t i = 0; i < db->nreplicas; i++)
		if (strcmp(db->replicas[i].url, sel) == 0)
			return &db->replicas[i];
	return NULL;
}

void
cfg_replica_s3(const struct cfg_db *db, const struct cfg_replica *rep,
    const struct cfg_s3 *global, struct cfg_s3 *out)
{
	/* A named section stands alone: another provider's settings never
	 * mix with [s3]'s (a key from one, a secret from the other). */
	if (rep != NULL && rep->s3 != NULL)
		cfg_s3_merge(rep->s3, NULL, out);
	else
		cfg_s3_merge(&db->s3, global, out);
}

static int
fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record "FILE:LINE: message" and return 0, which stops inih's handler. */
static int
fail(struct parser *p, const char *fmt, ...)
{
	char msg[LSC_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err->code == LSC_OK)
		p->err_line = p->line;
	lsc_seterr(p->err, LSC_ECONFIG, 0, "%s:%d: %s", p->name, p->line, msg);
	return 0;
}

/*
 * Expand ${VAR} from the environment into a new string.  Returns NULL
 * (and records the error) when a variable is unset or a brace unclosed.
 */
static char *
expand_env(struct parser *p, const char *in, int *expanded)
{
	struct buf out;

	buf_init(&out, 1 << 16);
	*expanded = 0;
	while (*in != '\0') {
		const char *end, *val;
		char name[128];

		if (in[0] != '$' || in[1] != '{') {
			buf_append(&out, in++, 1, NULL);
			continue;
		}
		end = strchr(in + 2, '}');
		if (end == NULL || end == in + 2 ||
		    (size_t)(end - in - 2) >= sizeof(name)) {
			fail(p, "malformed ${...} reference");
			buf_release(&out);
			return NULL;
		}
		memcpy(name, in + 2, (size_t)(end - in - 2));
		name[end - in - 2] = '\0';
		val = getenv(name);
		if (val == NULL) {
			fail(p, "environment variable '%s' is not set", name);
			buf_release(&out);
			return NULL;
		}
		buf_append(&out, val, strlen(val), NULL);
		*expanded = 1;
		in = end + 1;
	}
	if (out.data == NULL)
		return xstrdup("");
	return (char *)buf_detach(&out, NULL);
}

static int
set_duration(struct parser *p, const char *key, const char *v, int64_t *dst)
{
	if (cfg_parse_duration(v, dst) != 0)
		return fail(p, "%s: bad duration '%s' (use e.g. 500ms, 1s, 5m, 24h)",
		    key, v);
	return 1;
}

static int
set_count(struct parser *p, const char *key, const char *v, int64_t *dst)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < 0 || n > INT32_MAX)
		return fail(p, "%s: bad count '%s' (a whole number 0..%d)", key, v,
		    INT32_MAX);
	*dst = n;
	return 1;
}

static int
set_string(struct parser *p, const char *key, const char *v, char **dst)
{
	(void)key;
	(void)p;
	free(*dst);
	*dst = xstrdup(v);
	return 1;
}

/* An [s3] key, in [s3] or as an override in [db]. 1 ok, 0 error, -1 unknown. */
static int
set_s3_key(struct parser *p, struct cfg_s3 *s3, const char *key,
    const char *v, int expanded)
{
	uint64_t size;
	int b;

	if (strcmp(key, "endpoint") == 0) {
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			return fail(p, "endpoint: '%s' must start with http:// or https://",
			    v);
		if (strpbrk(v, " \t\r\n@") != NULL)
			return fail(p, "endpoint: '%s' must not contain spaces or user info",
			    v);
		return set_string(p, key, v, &s3->endpoint);
	}
	if (strcmp(key, "region") == 0) {
		if (*v == '\0' || strpbrk(v, " \t/") != NULL)
			return fail(p, "region: bad region '%s'", v);
		return set_string(p, key, v, &s3->region);
	}
	if (strcmp(key, "access-key-id") == 0)
		return set_string(p, key, v, &s3->access_key_id);
	if (strcmp(key, "secret-access-key") == 0 ||
	    strcmp(key, "session-token") == 0) {
		/* A secret written into a file others can read is refused. */
		if (!expanded && *v != '\0' && p->group_readable)
			return fail(p, "%s is written in a file readable by group or "
			    "others: chmod 600 it, or use ${VAR}", key);
		if (strcmp(key, "secret-access-key") == 0) {
			free_secret(s3->secret_access_key);
			s3->secret_access_key = xstrdup(v);
		} else {
			free_secret(s3->session_token);
			s3->session_token = xstrdup(v);
		}
		return 1;
	}
	if (strcmp(key, "ca-file") == 0)
		return set_string(p, key, v, &s3->ca_file);
	if (strcmp(key, "path-style") == 0 || strcmp(key, "skip-verify") == 0) {
		if ((b = cfg_parse_bool(v)) < 0)
			return fail(p, "%s: bad boolean '%s' (true or false)", key, v);
		if (key[0] == 'p')
			s3->path_style = b;
		else
			s3->skip_verify = b;
		return 1;
	}
	if (strcmp(key, "part-size") == 0) {
		if (cfg_parse_size(v, &size) != 0)
			return fail(p, "part-size: bad size '%s' (e.g. 8MiB)", v);
		if (size < 5ULL << 20 || size > 5ULL << 30)
			return fail(p, "part-size: %s is outside S3's 5MiB..5GiB", v);
		s3->part_size = size;
		return 1;
	}
	if (strcmp(key, "connect-timeout") == 0)
		return set_duration(p, key, v, &s3->connect_timeout_ms);
	if (strcmp(key, "request-timeout") == 0)
		return set_duration(p, key, v, &s3->request_timeout_ms);
	if (strcmp(key, "max-retries") == 0) {
		int64_t n;

		if (!set_count(p, key, v, &n))
			return 0;
		if (n > 1000)
			return fail(p, "max-retries: %s is more than 1000", v);
		s3->max_retries = (int)n;
		return 1;
	}
	return -1;
}

static int
check_replica_url(struct parser *p, const char *v)
{
	if (strncmp(v, "file://", 7) == 0) {
		if (v[7] != '/')
			return fail(p, "replica: '%s' must be file:///absolute/dir", v);
		return 1;
	}
	if (strncmp(v, "s3://", 5) == 0) {
		if (v[5] == '\0' || v[5] == '/')
			return fail(p, "replica: '%s' has no bucket", v);
		return 1;
	}
	return fail(p, "replica: '%s' must be file:///dir or s3://bucket/prefix", v);
}

/* `age-recipient` may be repeated: each adds a key (never twice). */
static int
add_age_recipient(struct parser *p, struct cfg_db *db, const char *v)
{
	unsigned char pk[AGE_KEY_LEN];
	struct lsc_err e = { 0 };

	if (age_recipient_parse(v, pk, &e) != LSC_OK)
		return fail(p, "age-recipient: %s", e.msg);
	for (size_t i = 0; i < db->nage_recipients; i++)
		if (memcmp(db->age_recipients[i], pk, AGE_KEY_LEN) == 0)
			return fail(p, "age-recipient '%s' is listed twice", v);
	db->age_recipients = xreallocarray(db->age_recipients,
	    db->nage_recipients + 1, AGE_KEY_LEN);
	memcpy(db->age_recipients[db->nage_recipients++], pk, AGE_KEY_LEN);
	return 1;
}

static int
set_db_key(struct parser *p, struct cfg_db *db, const char *key, const char *v,
    int expanded)
{
	int rc;

	if (strcmp(key, "replica") == 0 || strncmp(key, "replica.", 8) == 0) {
		const char *name = key[7] == '.' ? key + 8 : NULL;

		if (name != NULL && !cfg_name_valid(name))
			return fail(p, "%s: bad replica name '%s' (1 to %d letters, "
			    "digits, '-' or '_')", key, name, CFG_REPLICA_NAME_MAX);
		if (!check_replica_url(p, v))
			return 0;
		if (db->nreplicas == CFG_MAX_REPLICAS)
			return fail(p, "[db \"%s\"] has more than %d replicas",
			    db->path, CFG_MAX_REPLICAS);
		cfg_db_add_replica(db, name, v, p->line);
		return 1;
	}
	if (strcmp(key, "meta-path") == 0) {
		if (v[0] != '/')
			return fail(p, "meta-path: '%s' must be absolute", v);
		return set_string(p, key, v, &db->meta_path);
	}
	if (strcmp(key, "age-recipient") == 0)
		return add_age_recipient(p, db, v);
	if (strcmp(key, "age-identity-file") == 0) {
		if (v[0] != '/')
			return fail(p, "age-identity-file: '%s' must be absolute", v);
		return set_string(p, key, v, &db->age_identity_file);
	}
	if (strcmp(key, "sync-interval") == 0)
		return set_duration(p, key, v, &db->sync_interval_ms);
	if (strcmp(key, "snapshot-interval") == 0)
		return set_duration(p, key, v, &db->snapshot_interval_ms);
	if (strcmp(key, "retention") == 0)
		return set_duration(p, key, v, &db->retention_ms);
	if (strcmp(key, "retention-check-interval") == 0)
		return set_duration(p, key, v, &db->retention_check_interval_ms);
	if (strcmp(key, "retention-grace") == 0)
		return set_duration(p, key, v, &db->retention_grace_ms);
	if (strcmp(key, "checkpoint-interval") == 0)
		return set_duration(p, key, v, &db->checkpoint_interval_ms);
	if (strcmp(key, "min-checkpoint-page-count") == 0) {
		if (!set_count(p, key, v, &db->min_checkpoint_page_count))
			return 0;
		if (db->min_checkpoint_page_count == 0)
			return fail(p, "min-checkpoint-page-count must be at least 1");
		return 1;
	}
	if (strcmp(key, "max-checkpoint-page-count") == 0)
		return set_count(p, key, v, &db->max_checkpoint_page_count);
	if (strcmp(key, "max-pending") == 0) {
		if (cfg_parse_size(v, &db->max_pending) != 0)
			return fail(p, "max-pending: bad size '%s' (e.g. 512MiB, 2GiB, "
			    "0 for no bound)", v);
		return 1;
	}
	if (strcmp(key, "on-pending-full") == 0) {
		if (strcmp(v, "keep") != 0 && strcmp(v, "release") != 0)
			return fail(p, "on-pending-full: '%s' is not keep or release",
			    v);
		db->pending_release = strcmp(v, "release") == 0;
		return 1;
	}
	rc = set_s3_key(p, &db->s3, key, v, expanded);
	if (rc >= 0)
		return rc;
	return fail(p, "unknown key '%s' in [db \"%s\"]", key, db->path);
}

/* Parse `db "PATH"` into a new [db]; 0 with an error when malformed. */
static int
open_db_section(struct parser *p, const char *section)
{
	const char *q = section + 2;
	size_t n;
	char *path;
	int expanded;
	struct cfg_db *db;

	while (*q == ' ' || *q == '\t')
		q++;
	n = strlen(q);
	if (q == section + 2 || n < 3 || q[0] != '"' || q[n - 1] != '"')
		return fail(p, "bad section [%s]: write [db \"/path/to/app.db\"]",
		    section);
	{
		char *raw = xstrndup(q + 1, n - 2);

		path = expand_env(p, raw, &expanded);
		free(raw);
	}
	if (path == NULL)
		return 0;
	if (path[0] != '/') {
		fail(p, "database path '%s' must be absolute", path);
		free(path);
		return 0;
	}
	for (size_t i = 0; i < p->cfg->ndb; i++) {
		if (strcmp(p->cfg->dbs[i].path, path) == 0) {
			fail(p, "database '%s' is already configured at line %d", path,
			    p->cfg->dbs[i].line);
			free(path);
			return 0;
		}
	}
	p->cfg->dbs = xreallocarray(p->cfg->dbs, p->cfg->ndb + 1,
	    sizeof(*p->cfg->dbs));
	db = &p->cfg->dbs[p->cfg->ndb++];
	cfg_db_defaults(db);
	db->path = path;
	db->line = p->line;	/* the header's line */
	p->db = db;
	return 1;
}

/* Parse `s3 "NAME"` into a new named S3 section; 0 with an error. */
static int
open_s3_section(struct parser *p, const char *section)
{
	const char *q = section + 2;
	struct cfg_s3_section *sec;
	size_t n;
	char *name;

	while (*q == ' ' || *q == '\t')
		q++;
	n = strlen(q);
	if (q == section + 2 || n < 3 || q[0] != '"' || q[n - 1] != '"')
		return fail(p, "bad section [%s]: write [s3 \"NAME\"]", section);
	name = xstrndup(q + 1, n - 2);
	if (!cfg_name_valid(name)) {
		fail(p, "bad section [%s]: the name must be 1 to %d letters, "
		    "digits, '-' or '_'", section, CFG_REPLICA_NAME_MAX);
		free(name);
		return 0;
	}
	for (size_t i = 0; i < p->cfg->ns3_sections; i++) {
		if (strcmp(p->cfg->s3_sections[i].name, name) == 0) {
			fail(p, "section [s3 \"%s\"] appears twice (first at line "
			    "%d)", name, p->cfg->s3_sections[i].line);
			free(name);
			return 0;
		}
	}
	p->cfg->s3_sections = xreallocarray(p->cfg->s3_sections,
	    p->cfg->ns3_sections + 1, sizeof(*p->cfg->s3_sections));
	sec = &p->cfg->s3_sections[p->cfg->ns3_sections++];
	sec->name = name;
	cfg_s3_init(&sec->s3);
	sec->line = p->line;
	/* Replicas point at their sections only once the file is read. */
	p->s3 = NULL;
	p->db = NULL;
	return 1;
}

/*
 * Begin a new section at its header line (p->line); 1 ok, 0 error.
 * [daemon] and [s3] may appear once, each database and [s3 "NAME"] once.
 */
static int
open_section(struct parser *p, const char *section)
{
	if (strncmp(section, "s3", 2) == 0 &&
	    (section[2] == ' ' || section[2] == '\t' || section[2] == '"')) {
		if (!open_s3_section(p, section))
			return 0;
		p->kind = SEC_S3;
	} else if (strncmp(section, "db", 2) == 0 &&
	    (section[2] == ' ' || section[2] == '\t' || section[2] == '"')) {
		if (!open_db_section(p, section))
			return 0;
		p->kind = SEC_DB;
	} else if (strcmp(section, "s3") == 0 || strcmp(section, "daemon") == 0) {
		int *first = section[0] == 's' ? &p->s3_line : &p->daemon_line;

		if (*first != 0)
			return fail(p, "section [%s] appears twice (first at line "
			    "%d)", section, *first);
		*first = p->line;
		p->kind = section[0] == 's' ? SEC_S3 : SEC_DAEMON;
		p->db = NULL;
		p->s3 = &p->cfg->s3;
	} else if (section[0] == '\0') {
		return fail(p, "empty section name []");
	} else {
		return fail(p, "unknown section [%s] (expected [daemon], [s3], "
		    "[s3 \"NAME\"] or [db \"/path\"])", section);
	}
	snprintf(p->section, sizeof(p->section), "%s", section);
	buf_reset(&p->seen);
	return 1;
}

static int
set_daemon_key(struct parser *p, const char *key, const char *v)
{
	if (strcmp(key, "log-level") == 0) {
		if (strcmp(v, "debug") && strcmp(v, "info") && strcmp(v, "warn") &&
		    strcmp(v, "error"))
			return fail(p, "log-level: '%s' is not debug, info, warn or "
			    "error", v);
		return set_string(p, key, v, &p->cfg->log_level);
	}
	if (strcmp(key, "metrics") == 0) {
		char host[256];
		uint16_t port;

		if (cfg_parse_hostport(v, host, sizeof(host), &port) != 0)
			return fail(p, "metrics: '%s' must be host:port (an address "
			    "to bind, such as 127.0.0.1:9090 or [::1]:9090; port "
			    "1-65535)", v);
		return set_string(p, key, v, &p->cfg->metrics);
	}
	return fail(p, "unknown key '%s' in [daemon]", key);
}

/*
 * inih handler.  NB: inih wants non-zero for success, zero for failure.
 * `section` is inih's (possibly cut) copy of the name: p->kind, set by the
 * reader at the header line, is the truth.
 */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	char *v, *needle;
	int expanded, rc, dup;

	(void)section;
	if (p->err->code != LSC_OK)
		return 0;
	/* Above the first header: not a [daemon] key, whatever its name. */
	if (p->kind == SEC_NONE)
		return fail(p, "key '%s' is outside any section (put it under "
		    "[daemon], [s3] or [db \"/path\"])", name);
	/* A key may be set once per section: `seen` holds "\nkey\n" entries.
	 * Only age-recipient and replica are lists, one value per line. */
	needle = xasprintf("\n%s\n", name);
	dup = p->seen.data != NULL && strstr((char *)p->seen.data, needle) != NULL &&
	    !(p->kind == SEC_DB && (strcmp(name, "age-recipient") == 0 ||
	    strcmp(name, "replica") == 0));
	free(needle);
	if (dup)
		return fail(p, "key '%s' is set twice in [%s]", name, p->section);
	buf_appendf(&p->seen, NULL, "\n%s\n", name);

	if ((v = expand_env(p, value, &expanded)) == NULL)
		return 0;
	if (p->kind == SEC_DB) {
		rc = set_db_key(p, p->db, name, v, expanded);
	} else if (p->kind == SEC_S3) {
		struct cfg_s3 *s3 = p->s3 != NULL ? p->s3 :
		    &p->cfg->s3_sections[p->cfg->ns3_sections - 1].s3;

		rc = set_s3_key(p, s3, name, v, expanded);
		if (rc < 0)
			rc = fail(p, "unknown key '%s' in [%s]", name, p->section);
	} else {
		rc = set_daemon_key(p, name, v);
	}
	explicit_bzero(v, strlen(v));	/* it may have been a secret */
	free(v);
	return rc;
}

/*
 * If `line` is a "[section]" header as inih reads one (leading blanks
 * skipped, a UTF-8 BOM allowed on line 1, the name running to the first
 * ']'), open that section now, at the header's own line.  Anything else
 * is left to inih, which also reports a '[' without ']'.  Returns 0 after
 * recording an error.
 */
static int
note_section(struct parser *p, const char *line)
{
	const char *s = line, *end;
	char name[MAX_LINE];

	if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '[')
		return 1;
	end = strchr(s + 1, ']');
	if (end == NULL)
		return 1;
	snprintf(name, sizeof(name), "%.*s", (int)(end - s - 1), s + 1);
	return open_section(p, name);
}

/*
 * fgets-style reader for inih that counts lines, refuses long ones and
 * opens sections (see the top of the file).
 */
static char *
reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t n = 0;

	if (p->too_long)
		return NULL;
	if (p->fp != NULL) {
		if (fgets(str, num, p->fp) == NULL)
			return NULL;
		n = strlen(str);
		if (n > 0 && str[n - 1] != '\n' && !feof(p->fp))
			p->too_long = 1;
	} else {
		const char *nl;

		if (*p->text == '\0')
			return NULL;
		nl = strchr(p->text, '\n');
		n = nl != NULL ? (size_t)(nl - p->text + 1) : strlen(p->text);
		if (n > (size_t)num - 1) {
			p->too_long = 1;
			n = (size_t)num - 1;
		}
		memcpy(str, p->text, n);
		str[n] = '\0';
		p->text += n;
	}
	p->line++;
	/* inih needs room for "\r\n\0" after the longest line it can take. */
	if (p->too_long || n >= MAX_LINE - 2) {
		p->too_long = 1;
		fail(p, "line is longer than %d bytes", MAX_LINE - 3);
		return NULL;
	}
	if (!note_section(p, str))
		return NULL;
	return str;
}

/*
 * Where a replica URL puts its objects, as a string in which one store
 * contains another exactly when one string is a prefix of the other:
 * "file|/clean/dir/" or "s3|<endpoint>|bucket/clean/prefix/".  The
 * endpoint is the URL's, else the one its settings give (its [s3 "NAME"]
 * section, or the [db]'s, or [s3]'s); the environment's is the same for
 * all.  Lexical only: nothing is looked up.
 */
static char *
replica_place(const struct lsc_config *cfg, const struct cfg_db *db,
    const struct cfg_replica *rep)
{
	int is_file = strncmp(rep->url, "file://", 7) == 0;
	const char *u = rep->url + (is_file ? 7 : 5), *q = strchr(u, '?');
	const char *ep = "", *set = NULL;
	size_t plen = q != NULL ? (size_t)(q - u) : strlen(u), elen = 0;
	char *path = xmalloc(plen + 2), *w = path, *out;

	/* The path, with "//" collapsed and "." parts dropped. */
	for (size_t i = 0; i < plen; i++) {
		if (u[i] == '/' && (w == path || w[-1] == '/'))
			continue;
		if (u[i] == '.' && (i + 1 == plen || u[i + 1] == '/') &&
		    (w == path || w[-1] == '/'))
			continue;
		*w++ = u[i];
	}
	while (w > path && w[-1] == '/')
		w--;
	*w++ = '/';
	*w = '\0';
	if (!is_file) {
		for (const char *a = q; a != NULL; a = strchr(a + 1, '&'))
			if (strncmp(a + 1, "endpoint=", 9) == 0) {
				ep = a + 10;
				elen = strcspn(ep, "&");
			}
		if (rep->s3 != NULL)
			set = rep->s3->endpoint;
		else
			set = db->s3.endpoint != NULL ? db->s3.endpoint :
			    cfg->s3.endpoint;
		if (elen == 0 && set != NULL)
			ep = set, elen = strlen(ep);
	}
	out = xasprintf("%s|%.*s|%s", is_file ? "file" : "s3", (int)elen, ep,
	    path);
	free(path);
	return out;
}

/*
 * Two replicas in one store, or one inside the other: each one's
 * retention would delete the other's generations and their positions
 * would collide, whether they belong to two databases or to one (a
 * store listed twice is also no second copy).  Every replica of every
 * [db] is compared with every other.
 */
static int
check_replicas_apart(struct parser *p)
{
	struct place { const struct cfg_db *db; const struct cfg_replica *rep;
	    char *where; } *v = NULL;
	size_t n = 0;
	int rc = LSC_OK;

	for (size_t i = 0; i < p->cfg->ndb; i++)
		n += p->cfg->dbs[i].nreplicas;
	v = xcalloc(n ? n : 1, sizeof(*v));
	n = 0;
	for (size_t i = 0; i < p->cfg->ndb; i++)
		for (size_t k = 0; k < p->cfg->dbs[i].nreplicas; k++) {
			v[n].db = &p->cfg->dbs[i];
			v[n].rep = &p->cfg->dbs[i].replicas[k];
			v[n].where = replica_place(p->cfg, v[n].db, v[n].rep);
			n++;
		}
	for (size_t j = 0; j < n && rc == LSC_OK; j++)
		for (size_t i = 0; i < j && rc == LSC_OK; i++) {
			const struct place *a = &v[i], *b = &v[j];
			size_t la = strlen(a->where), lb = strlen(b->where);
			const char *rel = la == lb ? "is" : la < lb ? "is inside" :
			    "contains";

			if (strncmp(a->where, b->where, la < lb ? la : lb) != 0)
				continue;
			if (a->db == b->db)
				rc = lsc_seterr(p->err, LSC_ECONFIG, 0, "%s:%d: "
				    "replica '%s' of [db \"%s\"] %s its replica "
				    "'%s' at line %d: each replica needs a store "
				    "of its own", p->name, b->rep->line, b->rep->url,
				    b->db->path, la == lb ? "is the same store as" :
				    la < lb ? "is inside" : "contains", a->rep->url,
				    a->rep->line);
			else
				rc = lsc_seterr(p->err, LSC_ECONFIG, 0, "%s:%d: "
				    "replica '%s' of [db \"%s\"] %s the replica of "
				    "[db \"%s\"] at line %d: each database needs a "
				    "replica of its own", p->name, b->rep->line,
				    b->rep->url, b->db->path, rel, a->db->path,
				    a->rep->line);
		}
	for (size_t i = 0; i < n; i++)
		free(v[i].where);
	free(v);
	return rc;
}

/*
 * Each replica's name is unique in its [db], and an s3 replica named like
 * an [s3 "NAME"] section takes its settings from it; a section that no
 * replica takes is refused (a misspelt name would otherwise send the
 * replica to [s3]'s store with [s3]'s credentials, unnoticed).
 */
static int
check_replica_names(struct parser *p)
{
	struct lsc_config *cfg = p->cfg;
	size_t ns = cfg->ns3_sections;
	int *used = xcalloc(ns ? ns : 1, sizeof(*used)), rc = LSC_OK;

	for (size_t i = 0; i < cfg->ndb && rc == LSC_OK; i++) {
		struct cfg_db *db = &cfg->dbs[i];

		for (size_t k = 0; k < db->nreplicas && rc == LSC_OK; k++) {
			struct cfg_replica *rep = &db->replicas[k];

			for (size_t j = 0; j < k; j++)
				if (strcmp(db->replicas[j].name, rep->name) == 0) {
					rc = lsc_seterr(p->err, LSC_ECONFIG, 0,
					    "%s:%d: [db \"%s\"] already has a "
					    "replica named '%s' (line %d): name "
					    "each one (replica.NAME = URL)",
					    p->name, rep->line, db->path,
					    rep->name, db->replicas[j].line);
					break;
				}
			if (strncmp(rep->url, "s3://", 5) != 0)
				continue;
			for (size_t s = 0; s < ns; s++)
				if (strcmp(cfg->s3_sections[s].name, rep->name) == 0) {
					rep->s3 = &cfg->s3_sections[s].s3;
					used[s] = 1;
				}
		}
	}
	for (size_t s = 0; s < ns && rc == LSC_OK; s++)
		if (!used[s])
			rc = lsc_seterr(p->err, LSC_ECONFIG, 0, "%s:%d: [s3 \"%s\"] "
			    "is used by no replica: an s3 replica named '%s' "
			    "takes its settings (replica.%s = s3://...)", p->name,
			    cfg->s3_sections[s].line, cfg->s3_sections[s].name,
			    cfg->s3_sections[s].name, cfg->s3_sections[s].name);
	free(used);
	return rc;
}

static int
validate(struct parser *p)
{
	int rc;

	for (size_t i = 0; i < p->cfg->ndb; i++) {
		struct cfg_db *db = &p->cfg->dbs[i];

		if (db->nreplicas == 0)
			return lsc_seterr(p->err, LSC_ECONFIG, 0,
			    "%s:%d: [db \"%s\"] has no 'replica' key", p->name, db->line,
			    db->path);
		if (db->max_checkpoint_page_count != 0 &&
		    db->max_checkpoint_page_count < db->min_checkpoint_page_count)
			return lsc_seterr(p->err, LSC_ECONFIG, 0,
			    "%s:%d: max-checkpoint-page-count is below "
			    "min-checkpoint-page-count in [db \"%s\"]", p->name,
			    db->line, db->path);
	}
	if ((rc = check_replica_names(p)) != LSC_OK)
		return rc;
	return check_replicas_apart(p);
}

static int
parse(struct parser *p, struct lsc_config **out)
{
	int line;

	/* Values are taken verbatim: ';' may be part of a secret. */
	ini_allow_inline_comments = false;
	ini_allow_multiline = false;
	p->cfg = xcalloc(1, sizeof(*p->cfg));
	cfg_s3_init(&p->cfg->s3);
	p->cfg->file = xstrdup(p->name);
	buf_init(&p->seen, 1 << 20);
	line = ini_parse_stream(reader, p, handler, p);
	/*
	 * inih goes on after a line it cannot parse and returns the first bad
	 * line, while our own error may come from a later line: the earliest
	 * one is the one to fix first, and later ones may be its echoes.
	 */
	if (line > 0 && (p->err->code == LSC_OK || line < p->err_line)) {
		lsc_err_clear(p->err);
		lsc_seterr(p->err, LSC_ECONFIG, 0,
		    "%s:%d: cannot parse line (expected [section] or key = value)",
		    p->name, line);
	}
	/* Whole-file checks only on a file that parsed. */
	if (p->err->code == LSC_OK)
		validate(p);
	buf_release(&p->seen);
	if (p->err->code != LSC_OK) {
		cfg_free(p->cfg);
		return p->err->code;
	}
	*out = p->cfg;
	return LSC_OK;
}

int
cfg_load(const char *path, struct lsc_config **out, struct lsc_err *err)
{
	struct lsc_err local = { 0 };
	struct parser p;
	struct stat st;
	int rc;

	if (err == NULL)
		err = &local;
	memset(&p, 0, sizeof(p));
	p.name = path;
	p.err = err;
	p.fp = fopen(path, "r");
	if (p.fp == NULL)
		return lsc_seterr(err, LSC_ECONFIG, errno, "cannot read config '%s': %s",
		    path, strerror(errno));
	if (fstat(fileno(p.fp), &st) == 0)
		p.group_readable = (st.st_mode & 077) != 0;
	rc = parse(&p, out);
	fclose(p.fp);
	return rc;
}

int
cfg_load_string(const char *text, const char *name, struct lsc_config **out,
    struct lsc_err *err)
{
	struct lsc_err local = { 0 };
	struct parser p;

	if (err == NULL)
		err = &local;
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.text = text;
	p.err = err;
	return parse(&p, out);
}
