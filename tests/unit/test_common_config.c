/* SPDX-License-Identifier: MIT */
/*
 * Config: every refusal is "FILE:LINE: what" with LSC_ECONFIG and the line
 * that is wrong; defaults, ${VAR} expansion, the secret-file permission
 * rule, verbatim values, the value parsers, [s3] merging, cfg_find_db, and
 * that the shipped litestream-c.ini loads (as is, and with every
 * commented-out setting enabled).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "common/config.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"

#define NAME "t.ini"

static char tmpdir[] = "/tmp/lsc-t-config.XXXXXX";

/* A minimal valid [db] section body, to prefix the interesting lines. */
#define DB "[db \"/data/a.db\"]\nreplica = file:///backup/a\n"
/* age keys: the spec's example pair (C2SP age) and another recipient. */
#define RCPT_A "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
#define RCPT_B "age1upnsylavk5vgklc7deldn43vztv244r2u3c5p22ts9alqm5ne4psc865a3"
#define SECRET "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"

/*
 * Load `text`; expect an LSC_ECONFIG "t.ini:LINE: ...SUBSTR..." error.
 * An error about a whole section names the line of its [header].
 */
static void
expect_error(const char *text, int line, const char *substr, int src_line)
{
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	char prefix[64];
	int rc, at_line;

	rc = cfg_load_string(text, NAME, &cfg, &err);
	snprintf(prefix, sizeof(prefix), NAME ":%d: ", line);
	at_line = strncmp(err.msg, prefix, strlen(prefix)) == 0;
	if (rc == LSC_ECONFIG && err.code == LSC_ECONFIG && cfg == NULL &&
	    at_line &&
	    strstr(err.msg, substr) != NULL && strchr(err.msg, '\n') == NULL) {
		t_passed++;
		return;
	}
	t_failed++;
	printf("FAIL %s:%d: rc=%d want \"%s...%s\" got \"%s\"\n", __FILE__,
	    src_line, rc, prefix, substr, err.msg);
	cfg_free(cfg);
}

static struct lsc_config *
load_ok(const char *text, int src_line)
{
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	int rc = cfg_load_string(text, NAME, &cfg, &err);

	if (rc == LSC_OK && cfg != NULL) {
		t_passed++;
		return cfg;
	}
	t_failed++;
	printf("FAIL %s:%d: load failed: %s\n", __FILE__, src_line, err.msg);
	return NULL;
}

static const struct {
	int		 src_line;
	const char	*text;
	int		 line;
	const char	*substr;
} bad[] = {
	/* sections: refused at the header's line, with or without keys */
	{ __LINE__, "[foo]\nx = 1\n", 1, "unknown section [foo]" },
	{ __LINE__, "[foo]\n", 1, "unknown section [foo]" },
	{ __LINE__, DB "\n  [foo]  \n", 4, "unknown section [foo]" },
	{ __LINE__, "[db]\nreplica = file:///r\n", 1, "unknown section [db]" },
	{ __LINE__, "[db /a.db]\nreplica = file:///r\n", 1, "bad section" },
	{ __LINE__, "[db \"\"]\nreplica = file:///r\n", 1, "bad section" },
	{ __LINE__, "[db \"\"]\n", 1, "bad section" },
	{ __LINE__, "[S3]\nregion = x\n", 1, "unknown section [S3]" },
	{ __LINE__, "[]\nregion = a\n", 1, "empty section name" },
	/* a repeated section is named at its second header */
	{ __LINE__, "[s3]\nregion = a\n[daemon]\nlog-level = info\n"
	    "[s3]\nendpoint = http://x\n", 5,
	    "section [s3] appears twice (first at line 1)" },
	{ __LINE__, "[daemon]\nlog-level = info\n[s3]\nregion = a\n"
	    "[daemon]\nmetrics = :9090\n", 5, "[daemon] appears twice" },
	/* back to back, empty, or at the end of the file */
	{ __LINE__, "[daemon]\nlog-level = info\n[daemon]\nmetrics = :9090\n", 3,
	    "[daemon] appears twice" },
	{ __LINE__, "[daemon]\n[daemon]\nlog-level = info\n", 2,
	    "[daemon] appears twice" },
	{ __LINE__, "[s3]\n\n; nothing\n[s3]\n", 4, "[s3] appears twice" },
	{ __LINE__, DB "[s3]\nregion = a\n[daemon]\n[s3]\n", 6,
	    "[s3] appears twice (first at line 3)" },
	/* unknown keys in each section type */
	{ __LINE__, "[daemon]\nbogus = 1\n", 2, "unknown key 'bogus' in [daemon]" },
	{ __LINE__, "[s3]\nregion = a\nbogus = 1\n", 3,
	    "unknown key 'bogus' in [s3]" },
	{ __LINE__, "[s3]\nreplica = file:///r\n", 2,
	    "unknown key 'replica' in [s3]" },
	{ __LINE__, DB "bogus = 1\n", 3,
	    "unknown key 'bogus' in [db \"/data/a.db\"]" },
	{ __LINE__, DB "log-level = info\n", 3, "unknown key 'log-level'" },
	{ __LINE__, DB "Sync-Interval = 1s\n", 3, "unknown key 'Sync-Interval'" },
	/* a line that is neither a section nor key = value */
	{ __LINE__, "[s3]\nregion = a\njust words\n", 3, "cannot parse line" },
	{ __LINE__, "[s3\n", 1, "cannot parse line" },
	{ __LINE__, "[s3]\nregion\n", 2, "cannot parse line" },
	/* ... and it is reported even when a later line has another error */
	{ __LINE__, "[s3]\njust words\nregion = us east\n", 2,
	    "cannot parse line" },
	{ __LINE__, "[s3]\nregion = a\nendpoint\n\nbogus = 1\n", 3,
	    "cannot parse line" },
	{ __LINE__, "[db \"/a.db\"\nreplica = file:///r\n", 1,
	    "cannot parse line" },
	{ __LINE__, "[s3]\nwords\n[s3]\n", 2, "cannot parse line" },
	{ __LINE__, "[s3]\nwords\n[nope]\n", 2, "cannot parse line" },
	{ __LINE__, "[s3]\nwords\nregion = ${LSC_T_UNSET_VAR}\n", 2,
	    "cannot parse line" },
	/* a syntax error also beats a whole-file check (no replica) */
	{ __LINE__, "[db \"/a.db\"]\nreplica\n", 2, "cannot parse line" },
	/* while an earlier key error still comes first */
	{ __LINE__, "[s3]\nregion = us east\nwords\n", 2, "bad region" },
	{ __LINE__, "[s3]\n[s3]\nwords\n", 2, "[s3] appears twice" },
	/* bad durations */
	{ __LINE__, DB "sync-interval = 1d\n", 3, "sync-interval: bad duration '1d'" },
	{ __LINE__, DB "snapshot-interval = \n", 3, "snapshot-interval: bad duration" },
	{ __LINE__, DB "retention = -1h\n", 3, "retention: bad duration" },
	{ __LINE__, DB "retention-check-interval = 1 h\n", 3, "bad duration" },
	{ __LINE__, DB "retention-grace = -5m\n", 3, "retention-grace: bad duration" },
	{ __LINE__, DB "checkpoint-interval = 10\n", 3,
	    "checkpoint-interval: bad duration '10'" },
	{ __LINE__, "[s3]\nconnect-timeout = 5sec\n", 2,
	    "connect-timeout: bad duration" },
	{ __LINE__, "[s3]\nrequest-timeout = 99999999999999999999s\n", 2,
	    "request-timeout: bad duration" },
	/* bad sizes */
	{ __LINE__, "[s3]\npart-size = 8XB\n", 2, "part-size: bad size '8XB'" },
	{ __LINE__, "[s3]\npart-size = MiB\n", 2, "part-size: bad size" },
	{ __LINE__, "[s3]\npart-size = 1MiB\n", 2, "outside S3's 5MiB..5GiB" },
	{ __LINE__, "[s3]\npart-size = 6GiB\n", 2, "outside S3's 5MiB..5GiB" },
	{ __LINE__, DB "part-size = 4MiB\n", 3, "outside S3's" },
	/* bad booleans */
	{ __LINE__, "[s3]\npath-style = maybe\n", 2,
	    "path-style: bad boolean 'maybe'" },
	{ __LINE__, DB "skip-verify = TRUE\n", 3, "skip-verify: bad boolean" },
	/* bad counts */
	{ __LINE__, DB "min-checkpoint-page-count = -1\n", 3,
	    "min-checkpoint-page-count: bad count '-1'" },
	{ __LINE__, DB "min-checkpoint-page-count = 1k\n", 3, "bad count" },
	{ __LINE__, DB "max-checkpoint-page-count = 99999999999\n", 3,
	    "max-checkpoint-page-count: bad count" },
	{ __LINE__, DB "max-checkpoint-page-count = \n", 3, "bad count" },
	{ __LINE__, DB "min-checkpoint-page-count = 0\n", 3, "at least 1" },
	{ __LINE__, "[s3]\nmax-retries = 1001\n", 2, "more than 1000" },
	{ __LINE__, "[s3]\nmax-retries = three\n", 2, "max-retries: bad count" },
	/* other value checks */
	{ __LINE__, "[daemon]\nlog-level = verbose\n", 2, "log-level: 'verbose'" },
	{ __LINE__, "[daemon]\nmetrics = 9090\n", 2, "must be host:port" },
	{ __LINE__, "[daemon]\nmetrics = :9090\n", 2, "metrics: ':9090' must be" },
	{ __LINE__, "[daemon]\nmetrics = 127.0.0.1:0\n", 2, "must be host:port" },
	{ __LINE__, "[daemon]\nmetrics = 127.0.0.1:65536\n", 2, "port 1-65535" },
	{ __LINE__, "[daemon]\nmetrics = ::1:9090\n", 2, "must be host:port" },
	{ __LINE__, "[s3]\nendpoint = ftp://x\n", 2, "http:// or https://" },
	{ __LINE__, "[s3]\nendpoint = http://u:p@x\n", 2, "user info" },
	{ __LINE__, "[s3]\nregion = us east\n", 2, "bad region" },
	{ __LINE__, "[db \"/a.db\"]\nreplica = file://rel/dir\n", 2,
	    "file:///absolute/dir" },
	{ __LINE__, "[db \"/a.db\"]\nreplica = s3:///x\n", 2, "has no bucket" },
	{ __LINE__, "[db \"/a.db\"]\nreplica = s3://\n", 2, "has no bucket" },
	{ __LINE__, "[db \"/a.db\"]\nreplica = /backup\n", 2, "must be file:///" },
	{ __LINE__, DB "meta-path = meta\n", 3, "meta-path: 'meta' must be absolute" },
	/* age keys */
	{ __LINE__, DB "age-recipient = age1bad\n", 3,
	    "age-recipient: 'age1bad' is not an age X25519 recipient" },
	{ __LINE__, DB "age-recipient = " RCPT_A "\nage-recipient = " RCPT_B
	    "\nage-recipient = " RCPT_A "\n", 5, "is listed twice" },
	{ __LINE__, DB "age-recipient = " SECRET "\n", 3,
	    "age-recipient: a secret key (AGE-SECRET-KEY-1...) was given" },
	{ __LINE__, DB "age-recipient =\n", 3, "not an age X25519 recipient" },
	{ __LINE__, DB "age-identity-file = key.txt\n", 3,
	    "age-identity-file: 'key.txt' must be absolute" },
	{ __LINE__, DB "age-identity-file = /a\nage-identity-file = /b\n", 4,
	    "key 'age-identity-file' is set twice" },
	{ __LINE__, "[s3]\nage-recipient = " RCPT_A "\n", 2,
	    "unknown key 'age-recipient' in [s3]" },
	/* duplicates */
	{ __LINE__, DB "[s3]\nregion = a\n[db \"/data/a.db\"]\nreplica = file:///b\n",
	    5, "database '/data/a.db' is already configured at line 1" },
	{ __LINE__, DB "[db \"/data/b.db\"]\nreplica = file:///b\n"
	    "[db \"/data/a.db\"]\nreplica = file:///c\n", 5,
	    "already configured at line 1" },
	/* the same [db] twice in a row is two sections, not one */
	{ __LINE__, DB DB, 3, "already configured at line 1" },
	{ __LINE__, DB "[db \"/data/a.db\"]\nsync-interval = 5s\n", 3,
	    "already configured at line 1" },
	{ __LINE__, "[db \"/data/a.db\"]\n" DB, 2, "already configured at line 1" },
	{ __LINE__, "[s3]\nregion = a\nregion = b\n", 3,
	    "key 'region' is set twice in [s3]" },
	{ __LINE__, DB "sync-interval = 1s\nsync-interval = 2s\n", 4,
	    "key 'sync-interval' is set twice" },
	/* several replicas: each named apart, each store apart */
	{ __LINE__, DB "replica = file:///other\n", 3,
	    "[db \"/data/a.db\"] already has a replica named 'file' (line 2)" },
	{ __LINE__, DB "replica.x = file:///o\nreplica.x = file:///p\n", 4,
	    "key 'replica.x' is set twice" },
	{ __LINE__, DB "replica.file = file:///other\n", 3,
	    "already has a replica named 'file'" },
	{ __LINE__, DB "replica.a.b = file:///o\n", 3, "bad replica name 'a.b'" },
	{ __LINE__, DB "replica. = file:///o\n", 3, "bad replica name ''" },
	{ __LINE__, DB "replica.x = /o\n", 3, "must be file:///" },
	{ __LINE__, DB "replica.x = file:///backup/a/\n", 3,
	    "replica 'file:///backup/a/' of [db \"/data/a.db\"] is the same "
	    "store as its replica 'file:///backup/a' at line 2" },
	{ __LINE__, DB "replica.x = file:///backup/a/sub\n", 3,
	    "is inside its replica 'file:///backup/a'" },
	{ __LINE__, "[db \"/a.db\"]\nreplica = s3://b/p/q\nreplica.x = s3://b/p\n",
	    3, "contains its replica 's3://b/p/q'" },
	{ __LINE__, "[db \"/a.db\"]\nreplica = s3://b/p\nreplica.x = s3://b/p\n"
	    "[s3 \"x\"]\nregion = r\n", 3, "is the same store as" },
	/* [s3 "NAME"] sections */
	{ __LINE__, DB "[s3 \"x\"]\nregion = r\n", 3,
	    "[s3 \"x\"] is used by no replica: an s3 replica named 'x'" },
	{ __LINE__, DB "replica.x = file:///b\n[s3 \"x\"]\nregion = r\n", 4,
	    "is used by no replica" },
	{ __LINE__, DB "[s3 \"x\"]\n[s3 \"x\"]\n", 4,
	    "section [s3 \"x\"] appears twice (first at line 3)" },
	{ __LINE__, DB "[s3 \"a b\"]\n", 3, "bad section [s3 \"a b\"]" },
	{ __LINE__, DB "[s3 x]\n", 3, "bad section [s3 x]: write [s3 \"NAME\"]" },
	{ __LINE__, DB "[s3 \"x\"]\nreplica = s3://b/p\n", 4,
	    "unknown key 'replica' in [s3 \"x\"]" },
	{ __LINE__, DB "[s3 \"x\"]\nregion = r\nregion = s\n", 5,
	    "key 'region' is set twice in [s3 \"x\"]" },
	{ __LINE__, "[daemon]\nlog-level = info\nlog-level = debug\n", 3,
	    "set twice in [daemon]" },
	/* database sections */
	{ __LINE__, "[db \"data/a.db\"]\nreplica = file:///r\n", 1,
	    "database path 'data/a.db' must be absolute" },
	{ __LINE__, "[s3]\nregion = a\n\n[db \"/a.db\"]\nsync-interval = 1s\n", 4,
	    "[db \"/a.db\"] has no 'replica' key" },
	{ __LINE__, DB "[db \"/b.db\"]\n\n; comment\nretention = 1h\n", 3,
	    "[db \"/b.db\"] has no 'replica' key" },
	/* an empty [db] section: at the end, or followed by another */
	{ __LINE__, "[db \"/a.db\"]\n", 1, "[db \"/a.db\"] has no 'replica' key" },
	{ __LINE__, DB "\n[db \"/b.db\"]\n", 4, "[db \"/b.db\"] has no 'replica'" },
	{ __LINE__, "[db \"/b.db\"]\n; later\n" DB, 1,
	    "[db \"/b.db\"] has no 'replica'" },
	{ __LINE__, "[db \"/b.db\"]\n[s3]\nregion = a\n", 1, "has no 'replica'" },
	{ __LINE__, DB "min-checkpoint-page-count = 100\n"
	    "max-checkpoint-page-count = 50\n", 1,
	    "max-checkpoint-page-count is below min-checkpoint-page-count" },
	{ __LINE__, "[s3]\nregion = a\n[db \"/a.db\"]\nreplica = file:///r\n"
	    "max-checkpoint-page-count = 999\n", 3, "is below" },
	/* environment references */
	{ __LINE__, "[s3]\nregion = a\nendpoint = ${LSC_T_UNSET_VAR}\n", 3,
	    "environment variable 'LSC_T_UNSET_VAR' is not set" },
	{ __LINE__, "[s3]\nregion = ${LSC_T_REGION\n", 2, "malformed ${...}" },
	{ __LINE__, "[s3]\nregion = ${}\n", 2, "malformed ${...}" },
	{ __LINE__, "[db \"${LSC_T_UNSET_VAR}/a.db\"]\nreplica = file:///r\n", 1,
	    "environment variable 'LSC_T_UNSET_VAR' is not set" },
	{ __LINE__, "[db \"${LSC_T_REL}/a.db\"]\nreplica = file:///r\n", 1,
	    "database path 'rel/a.db' must be absolute" },
	/* a key before any section is refused, even one [daemon] knows */
	{ __LINE__, "bogus = 1\n[s3]\nregion = a\n", 1,
	    "key 'bogus' is outside any section" },
	{ __LINE__, "log-level = debug\n[s3]\nregion = a\n", 1,
	    "key 'log-level' is outside any section" },
	{ __LINE__, "; comment\n\nmetrics = 127.0.0.1:9090\n" DB, 3,
	    "key 'metrics' is outside any section" },
	{ __LINE__, "replica = file:///r\n" DB, 1,
	    "key 'replica' is outside any section" },
};

static void
test_errors(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error(bad[i].text, bad[i].line, bad[i].substr,
		    bad[i].src_line);
}

/* Lines that do not fit libinih's 200-byte buffer are refused, at the
 * long line's own number, whether it ends in a newline or not. */
static void
test_long_lines(void)
{
	char text[1024], value[512];
	struct lsc_config *cfg;

	/* 196 bytes of text + "\n" is the longest line accepted. */
	memset(value, 'x', sizeof(value));
	snprintf(text, sizeof(text), "[s3]\nregion = a\naccess-key-id = %.*s\n",
	    196 - 16, value);
	cfg = load_ok(text, __LINE__);
	if (cfg != NULL)
		T_EQ_INT(strlen(cfg->s3.access_key_id), 180);
	cfg_free(cfg);

	snprintf(text, sizeof(text), "[s3]\nregion = a\naccess-key-id = %.*s\n",
	    197 - 16, value);
	expect_error(text, 3, "line is longer than 197 bytes", __LINE__);
	snprintf(text, sizeof(text), "[s3]\nregion = a\n\n\naccess-key-id = %.*s\n"
	    "endpoint = http://x\n", 250, value);
	expect_error(text, 5, "line is longer than", __LINE__);
	/* 600 bytes: libinih would cut it at 192 and see a "line 3" */
	snprintf(text, sizeof(text), "[s3]\nendpoint = http://%.*s\n", 470, value);
	expect_error(text, 2, "line is longer than", __LINE__);
	/* the last line, without a newline */
	snprintf(text, sizeof(text), "[s3]\nregion = a\nendpoint = http://%.*s",
	    300, value);
	expect_error(text, 3, "line is longer than", __LINE__);
	/* a syntax error above a long line is the one reported */
	snprintf(text, sizeof(text), "[s3]\nwords\nendpoint = http://%.*s\n",
	    300, value);
	expect_error(text, 2, "cannot parse line", __LINE__);
	/* a long comment is refused too: inih would parse its tail */
	snprintf(text, sizeof(text), "; %.*s\n[s3]\nregion = a\n", 300, value);
	expect_error(text, 1, "line is longer than", __LINE__);
}

/* The same through cfg_load, which reads with fgets. */
static void
test_long_line_file(void)
{
	char *path = fs_join(tmpdir, "long.ini");
	char value[400];
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	char *want;
	FILE *fp;

	memset(value, 'y', sizeof(value));
	fp = fopen(path, "w");
	T_CHECK(fp != NULL);
	if (fp == NULL) {
		free(path);
		return;
	}
	fprintf(fp, "[s3]\nregion = a\n; fine\naccess-key-id = %.*s\n"
	    "endpoint = http://x\n", 300, value);
	fclose(fp);
	chmod(path, 0600);
	T_EQ_INT(cfg_load(path, &cfg, &err), LSC_ECONFIG);
	T_CHECK(cfg == NULL);
	want = xasprintf("%s:4: line is longer than 197 bytes", path);
	T_EQ_STR(err.msg, want);
	free(want);

	/* 198 bytes with its newline: one too many */
	fp = fopen(path, "w");
	fprintf(fp, "[s3]\naccess-key-id = %.*s\n", 198 - 17, value);
	fclose(fp);
	lsc_err_clear(&err);
	T_EQ_INT(cfg_load(path, &cfg, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, ":2: line is longer") != NULL);

	fp = fopen(path, "w");
	fprintf(fp, "[s3]\naccess-key-id = %.*s\n", 197 - 17, value);
	fclose(fp);
	lsc_err_clear(&err);
	T_EQ_INT(cfg_load(path, &cfg, &err), LSC_OK);
	if (cfg != NULL)
		T_EQ_INT(strlen(cfg->s3.access_key_id), 180);
	cfg_free(cfg);
	free(path);
}

static void
test_defaults(void)
{
	struct lsc_config *cfg = load_ok(DB, __LINE__);
	const struct cfg_db *db;

	if (cfg == NULL)
		return;
	T_EQ_STR(cfg->file, NAME);
	T_CHECK(cfg->log_level == NULL);
	T_CHECK(cfg->metrics == NULL);
	T_EQ_INT(cfg->ndb, 1);
	db = &cfg->dbs[0];
	T_EQ_STR(db->path, "/data/a.db");
	T_EQ_STR(db->replica, "file:///backup/a");
	T_CHECK(db->meta_path == NULL);
	T_EQ_INT(db->line, 1);
	T_EQ_INT(db->sync_interval_ms, 1000);
	T_EQ_INT(db->snapshot_interval_ms, 24LL * 3600 * 1000);
	T_EQ_INT(db->retention_ms, 24LL * 3600 * 1000);
	T_EQ_INT(db->retention_check_interval_ms, 3600 * 1000);
	T_EQ_INT(db->retention_grace_ms, 3600 * 1000);
	T_EQ_INT(db->checkpoint_interval_ms, 60 * 1000);
	T_EQ_INT(db->min_checkpoint_page_count, 1000);
	T_EQ_INT(db->max_checkpoint_page_count, 10000);
	/* nothing set in [s3] or as an override */
	T_CHECK(cfg->s3.endpoint == NULL && cfg->s3.region == NULL);
	T_CHECK(cfg->s3.secret_access_key == NULL);
	T_EQ_INT(cfg->s3.path_style, -1);
	T_EQ_INT(cfg->s3.skip_verify, -1);
	T_EQ_INT(cfg->s3.part_size, 0);
	T_EQ_INT(cfg->s3.connect_timeout_ms, -1);
	T_EQ_INT(cfg->s3.request_timeout_ms, -1);
	T_EQ_INT(cfg->s3.max_retries, -1);
	T_EQ_INT(db->s3.path_style, -1);
	T_EQ_INT(db->s3.max_retries, -1);
	T_CHECK(db->s3.region == NULL);
	cfg_free(cfg);

	/* cfg_db_defaults gives the same numbers */
	{
		struct cfg_db d;

		cfg_db_defaults(&d);
		T_EQ_INT(d.sync_interval_ms, CFG_DEFAULT_SYNC_INTERVAL_MS);
		T_EQ_INT(d.max_checkpoint_page_count, 10000);
		T_EQ_INT(d.s3.connect_timeout_ms, -1);
		T_CHECK(d.path == NULL && d.replica == NULL);
	}

	/* empty input, comments only */
	cfg = load_ok("", __LINE__);
	if (cfg != NULL)
		T_EQ_INT(cfg->ndb, 0);
	cfg_free(cfg);
	cfg = load_ok("; nothing\n# here\n\n", __LINE__);
	if (cfg != NULL)
		T_EQ_INT(cfg->ndb, 0);
	cfg_free(cfg);
}

static void
test_all_keys(void)
{
	const char *text =
	    "[daemon]\n"
	    "log-level = debug\n"
	    "metrics = 127.0.0.1:9090\n"
	    "\n"
	    "[s3]\n"
	    "endpoint = https://s3.example.com:9000\n"
	    "region = eu-west-1\n"
	    "path-style = true\n"
	    "access-key-id = AKID\n"
	    "secret-access-key = se;cr#et\n"
	    "session-token = tok\n"
	    "ca-file = /etc/ssl/ca.pem\n"
	    "skip-verify = no\n"
	    "part-size = 8MiB\n"
	    "connect-timeout = 5s\n"
	    "request-timeout = 2m\n"
	    "max-retries = 7\n"
	    "\n"
	    "  [db \"/data/a.db\"]  \n"
	    "replica = s3://bucket/a\n"
	    "meta-path = /var/lib/meta\n"
	    "sync-interval = 250ms\n"
	    "snapshot-interval = 1h30m\n"
	    "retention = 72h\n"
	    "retention-check-interval = 10m\n"
	    "retention-grace = 250ms\n"
	    "checkpoint-interval = 0\n"
	    "min-checkpoint-page-count = 10\n"
	    "max-checkpoint-page-count = 0\n"
	    "region = us-east-2\n"
	    "path-style = 0\n"
	    "part-size = 5242880\n"
	    "max-retries = 0\n"
	    "[db \"/data/b.db\"]\n"
	    "  replica   =   file:///backup/b  \n"
	    "access-key-id = a;b ; c\n";
	struct lsc_config *cfg = load_ok(text, __LINE__);
	const struct cfg_db *a, *b;

	if (cfg == NULL)
		return;
	T_EQ_STR(cfg->log_level, "debug");
	T_EQ_STR(cfg->metrics, "127.0.0.1:9090");
	T_EQ_STR(cfg->s3.endpoint, "https://s3.example.com:9000");
	T_EQ_STR(cfg->s3.region, "eu-west-1");
	T_EQ_INT(cfg->s3.path_style, 1);
	T_EQ_STR(cfg->s3.access_key_id, "AKID");
	/* inline comments are not a thing: values are verbatim */
	T_EQ_STR(cfg->s3.secret_access_key, "se;cr#et");
	T_EQ_STR(cfg->s3.session_token, "tok");
	T_EQ_STR(cfg->s3.ca_file, "/etc/ssl/ca.pem");
	T_EQ_INT(cfg->s3.skip_verify, 0);
	T_EQ_INT(cfg->s3.part_size, 8 << 20);
	T_EQ_INT(cfg->s3.connect_timeout_ms, 5000);
	T_EQ_INT(cfg->s3.request_timeout_ms, 120000);
	T_EQ_INT(cfg->s3.max_retries, 7);
	T_EQ_INT(cfg->ndb, 2);
	if (cfg->ndb != 2) {
		cfg_free(cfg);
		return;
	}
	a = &cfg->dbs[0];
	b = &cfg->dbs[1];
	T_EQ_STR(a->path, "/data/a.db");
	T_EQ_INT(a->line, 19);
	T_EQ_STR(a->replica, "s3://bucket/a");
	T_EQ_STR(a->meta_path, "/var/lib/meta");
	T_EQ_INT(a->sync_interval_ms, 250);
	T_EQ_INT(a->snapshot_interval_ms, 5400000);
	T_EQ_INT(a->retention_ms, 72LL * 3600 * 1000);
	T_EQ_INT(a->retention_check_interval_ms, 600000);
	T_EQ_INT(a->retention_grace_ms, 250);
	T_EQ_INT(a->checkpoint_interval_ms, 0);
	T_EQ_INT(a->min_checkpoint_page_count, 10);
	T_EQ_INT(a->max_checkpoint_page_count, 0);
	T_EQ_STR(a->s3.region, "us-east-2");
	T_EQ_INT(a->s3.path_style, 0);
	T_EQ_INT(a->s3.part_size, 5242880);
	T_EQ_INT(a->s3.max_retries, 0);
	T_CHECK(a->s3.endpoint == NULL);
	T_EQ_STR(b->path, "/data/b.db");
	T_EQ_INT(b->line, 34);
	/* surrounding blanks go, inner ones and ';' stay */
	T_EQ_STR(b->replica, "file:///backup/b");
	T_EQ_STR(b->s3.access_key_id, "a;b ; c");
	T_EQ_INT(b->sync_interval_ms, 1000);
	cfg_free(cfg);
}

/*
 * A [db] path longer than inih's 50-byte section buffer: inih keeps only
 * 49 bytes of a section name, so the header must be read whole by us.
 */
static void
test_long_db_path(void)
{
	static const char path[] = "/var/lib/an-application-with-a-long-name/"
	    "data/production/database.sqlite3";
	char *text = xasprintf("[db \"%s\"]\nreplica = file:///backup\n"
	    "[db \"%s-2\"]\nreplica = file:///backup2\n", path, path);
	struct lsc_config *cfg = load_ok(text, __LINE__);

	T_CHECK(strlen(path) > 60);
	if (cfg != NULL) {
		T_EQ_INT(cfg->ndb, 2);
		T_EQ_STR(cfg->dbs[0].path, path);
		T_EQ_INT(cfg->dbs[0].line, 1);
		T_EQ_INT(cfg->dbs[1].line, 3);
		T_EQ_STR(cfg->dbs[1].replica, "file:///backup2");
	}
	cfg_free(cfg);
	free(text);
	/* two paths that differ only past byte 49 are two databases */
	text = xasprintf("[db \"%s\"]\nreplica = file:///b\n"
	    "[db \"%s\"]\nreplica = file:///c\n", path, path);
	expect_error(text, 3, "is already configured at line 1", __LINE__);
	free(text);
}

/*
 * config.c spots headers itself, as inih does: a UTF-8 BOM before the
 * first one, blanks before '[', text after ']'; a commented-out header is
 * not one.
 */
static void
test_section_headers(void)
{
	struct lsc_config *cfg;

	cfg = load_ok("\xEF\xBB\xBF[s3]\nregion = a\n" DB, __LINE__);
	if (cfg != NULL) {
		T_EQ_STR(cfg->s3.region, "a");
		T_EQ_INT(cfg->dbs[0].line, 3);
	}
	cfg_free(cfg);
	cfg = load_ok("; [daemon]\n#[daemon]\n[daemon] trailing\n"
	    "log-level = warn\n\t[db \"/x.db\"]\t\nreplica = file:///r\n",
	    __LINE__);
	if (cfg != NULL) {
		T_EQ_STR(cfg->log_level, "warn");
		T_EQ_STR(cfg->dbs[0].path, "/x.db");
		T_EQ_INT(cfg->dbs[0].line, 5);
	}
	cfg_free(cfg);
	/* a BOM is only skipped on line 1 */
	expect_error("[s3]\n\xEF\xBB\xBF[daemon]\n", 2, "cannot parse line",
	    __LINE__);
}

static void
test_env(void)
{
	struct lsc_config *cfg;

	setenv("LSC_T_REGION", "ap-south-1", 1);
	setenv("LSC_T_DIR", "/srv/data", 1);
	setenv("LSC_T_EMPTY", "", 1);
	setenv("LSC_T_REL", "rel", 1);
	cfg = load_ok("[s3]\nregion = ${LSC_T_REGION}\n"
	    "endpoint = http://${LSC_T_REGION}.example:${LSC_T_EMPTY}9000\n"
	    "access-key-id = $LSC_T_REGION {x} $\n"
	    "[db \"${LSC_T_DIR}/app.db\"]\n"
	    "replica = file://${LSC_T_DIR}/backup\n", __LINE__);
	if (cfg == NULL)
		return;
	T_EQ_STR(cfg->s3.region, "ap-south-1");
	T_EQ_STR(cfg->s3.endpoint, "http://ap-south-1.example:9000");
	/* only ${...} is a reference */
	T_EQ_STR(cfg->s3.access_key_id, "$LSC_T_REGION {x} $");
	T_EQ_INT(cfg->ndb, 1);
	if (cfg->ndb == 1) {
		T_EQ_STR(cfg->dbs[0].path, "/srv/data/app.db");
		T_EQ_STR(cfg->dbs[0].replica, "file:///srv/data/backup");
	}
	cfg_free(cfg);

	/* a variable that expands to nothing leaves an empty, bad value */
	expect_error("[s3]\nregion = ${LSC_T_EMPTY}\n", 2, "bad region", __LINE__);
	unsetenv("LSC_T_REGION");
	expect_error("[s3]\nregion = ${LSC_T_REGION}\n", 2,
	    "'LSC_T_REGION' is not set", __LINE__);
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(text, fp);
	fclose(fp);
	return chmod(path, mode);
}

/* A secret written in a file that group or others can read is refused;
 * one that comes from ${VAR} is fine anywhere. */
static void
test_secret_permissions(void)
{
	char *path = fs_join(tmpdir, "secret.ini");
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	static const struct {
		const char	*text;
		mode_t		 mode;
		int		 ok;
		int		 line;
	} cases[] = {
		{ "[s3]\nregion = a\nsecret-access-key = abc;d\n", 0644, 0, 3 },
		{ "[s3]\nregion = a\nsecret-access-key = abc;d\n", 0640, 0, 3 },
		{ "[s3]\nregion = a\nsecret-access-key = abc;d\n", 0604, 0, 3 },
		{ "[s3]\nregion = a\nsecret-access-key = abc;d\n", 0600, 1, 0 },
		{ "[s3]\nregion = a\nsecret-access-key = abc;d\n", 0400, 1, 0 },
		{ "[s3]\nsession-token = tok\n", 0644, 0, 2 },
		{ DB "secret-access-key = abc\n", 0644, 0, 3 },
		{ "[s3]\nsecret-access-key = ${LSC_T_SECRET}\n", 0644, 1, 0 },
		{ "[s3]\nsecret-access-key = \n", 0644, 1, 0 },
		{ "[s3]\naccess-key-id = AKID\n", 0644, 1, 0 },
	};

	setenv("LSC_T_SECRET", "s3cr3t;x", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lsc_err_clear(&err);
		cfg = NULL;
		T_EQ_INT(write_file(path, cases[i].text, cases[i].mode), 0);
		if (cases[i].ok) {
			T_EQ_INT(cfg_load(path, &cfg, &err), LSC_OK);
			T_CHECK(cfg != NULL);
			if (cfg != NULL)
				T_EQ_STR(cfg->file, path);
			if (cfg != NULL && i == 7)
				T_EQ_STR(cfg->s3.secret_access_key, "s3cr3t;x");
			if (cfg != NULL && i == 3)
				T_EQ_STR(cfg->s3.secret_access_key, "abc;d");
			cfg_free(cfg);
		} else {
			char *want = xasprintf("%s:%d: ", path, cases[i].line);

			T_EQ_INT(cfg_load(path, &cfg, &err), LSC_ECONFIG);
			T_CHECK(cfg == NULL);
			T_CHECK(strncmp(err.msg, want, strlen(want)) == 0);
			T_CHECK(strstr(err.msg, "readable by group or others") != NULL);
			/* the secret itself is not in the message */
			T_CHECK(strstr(err.msg, "abc") == NULL);
			free(want);
		}
	}
	unlink(path);

	/* a missing file */
	lsc_err_clear(&err);
	T_EQ_INT(cfg_load(path, &cfg, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, "cannot read config") != NULL);
	free(path);
}

static void
test_parse_duration(void)
{
	static const struct { const char *s; int64_t ms; } good[] = {
		{ "500ms", 500 }, { "1s", 1000 }, { "1h30m", 5400000 },
		{ "0", 0 }, { "0s", 0 }, { "0ms", 0 }, { "1m30s", 90000 },
		{ "2h", 7200000 }, { "1s500ms", 1500 }, { "90m", 5400000 },
		{ "24h", 86400000 }, { "876000h", 876000LL * 3600 * 1000 },
		{ "007s", 7000 },
	};
	static const char *const badv[] = {
		"", "1d", "1", "s", "ms", "-1s", "+1s", "1.5s", " 1s", "1s ",
		"1S", "1H", "1sm", "1msx", "h1", "00", "1 s", "876001h",
		"99999999999999999999s", "9223372036854775807h",
		"9223372036854775807ms9223372036854775807ms", "1us", "1ns",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int64_t ms = -7;

		T_EQ_INT(cfg_parse_duration(good[i].s, &ms), 0);
		T_EQ_INT(ms, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		int64_t ms = -7;
		int rc = cfg_parse_duration(badv[i], &ms);

		if (rc != -1 || ms != -7)
			printf("  duration '%s' -> rc %d ms %lld\n", badv[i], rc,
			    (long long)ms);
		T_EQ_INT(rc, -1);
		T_EQ_INT(ms, -7);	/* untouched on error */
	}
}

static void
test_parse_size(void)
{
	static const struct { const char *s; uint64_t n; } good[] = {
		{ "8MiB", 8ULL << 20 }, { "5242880", 5242880 },
		{ "1GB", 1000000000 }, { "64KiB", 65536 }, { "1G", 1ULL << 30 },
		{ "10B", 10 }, { "0", 0 }, { "3KB", 3000 }, { "2MB", 2000000 },
		{ "4K", 4096 }, { "5M", 5ULL << 20 }, { "5GiB", 5ULL << 30 },
	};
	static const char *const badv[] = {
		"", "MiB", "8 MiB", "8mib", "8MiB ", "-1", "+1", "1.5MiB",
		"18446744073709551616", "20000000000GiB", "1TiB", "1kb", "8Mi",
		" 8MiB", "0x10",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t n = 7;

		T_EQ_INT(cfg_parse_size(good[i].s, &n), 0);
		T_CHECK(n == good[i].n);
	}
	for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		uint64_t n = 7;
		int rc = cfg_parse_size(badv[i], &n);

		if (rc != -1)
			printf("  size '%s' -> rc %d\n", badv[i], rc);
		T_EQ_INT(rc, -1);
		T_CHECK(n == 7);
	}
}

static void
test_parse_bool(void)
{
	static const struct { const char *s; int v; } cases[] = {
		{ "true", 1 }, { "yes", 1 }, { "1", 1 }, { "on", 1 },
		{ "false", 0 }, { "no", 0 }, { "0", 0 }, { "off", 0 },
		{ "", -1 }, { "TRUE", -1 }, { "y", -1 }, { "2", -1 },
		{ "true ", -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_EQ_INT(cfg_parse_bool(cases[i].s), cases[i].v);
}

static void
test_parse_hostport(void)
{
	static const struct { const char *s; int rc; const char *host;
	    int port; } cases[] = {
		{ "127.0.0.1:9090", 0, "127.0.0.1", 9090 },
		{ "localhost:1", 0, "localhost", 1 },
		{ "metrics-host.example:65535", 0, "metrics-host.example", 65535 },
		{ "[::1]:9090", 0, "::1", 9090 },
		{ "[fe80::1]:80", 0, "fe80::1", 80 },
		{ ":9090", -1, NULL, 0 },
		{ "9090", -1, NULL, 0 },
		{ "host:", -1, NULL, 0 },
		{ "host:0", -1, NULL, 0 },
		{ "host:65536", -1, NULL, 0 },
		{ "host:99999999999999999999", -1, NULL, 0 },
		{ "host:90a", -1, NULL, 0 },
		{ "host:-1", -1, NULL, 0 },
		{ "::1:9090", -1, NULL, 0 },
		{ "[]:9090", -1, NULL, 0 },
		{ "[::1:9090", -1, NULL, 0 },
		{ "[::g]:9090", -1, NULL, 0 },
		{ "a b:9090", -1, NULL, 0 },
		{ "a/b:9090", -1, NULL, 0 },
	};
	char host[64], small[4];
	uint16_t port;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = cfg_parse_hostport(cases[i].s, host, sizeof(host), &port);

		T_EQ_INT(rc, cases[i].rc);
		if (rc == 0 && cases[i].rc == 0) {
			T_EQ_STR(host, cases[i].host);
			T_EQ_INT(port, cases[i].port);
		} else if (rc != cases[i].rc) {
			printf("  case '%s'\n", cases[i].s);
		}
	}
	/* a host longer than the caller's buffer is refused, not cut */
	T_EQ_INT(cfg_parse_hostport("abcd:1", small, sizeof(small), &port), -1);
	T_EQ_INT(cfg_parse_hostport("abc:1", small, sizeof(small), &port), 0);
}

static void
test_s3_merge(void)
{
	struct cfg_s3 db, global, out;

	cfg_s3_init(&db);
	cfg_s3_init(&global);
	global.endpoint = xstrdup("http://global");
	global.region = xstrdup("global-region");
	global.access_key_id = xstrdup("GLOBALKEY");
	global.secret_access_key = xstrdup("globalsecret");
	global.path_style = 1;
	global.skip_verify = 1;
	global.part_size = 16 << 20;
	global.connect_timeout_ms = 1000;
	global.max_retries = 5;
	db.region = xstrdup("db-region");
	db.session_token = xstrdup("dbtoken");
	db.path_style = 0;		/* an explicit 0 beats the global 1 */
	db.request_timeout_ms = 0;	/* and an explicit 0 ms */
	db.max_retries = 0;

	cfg_s3_merge(&db, &global, &out);
	T_EQ_STR(out.endpoint, "http://global");
	T_EQ_STR(out.region, "db-region");
	T_EQ_STR(out.access_key_id, "GLOBALKEY");
	T_EQ_STR(out.secret_access_key, "globalsecret");
	T_EQ_STR(out.session_token, "dbtoken");
	T_CHECK(out.ca_file == NULL);
	T_EQ_INT(out.path_style, 0);
	T_EQ_INT(out.skip_verify, 1);
	T_EQ_INT(out.part_size, 16 << 20);
	T_EQ_INT(out.connect_timeout_ms, 1000);
	T_EQ_INT(out.request_timeout_ms, 0);
	T_EQ_INT(out.max_retries, 0);
	/* out owns copies */
	T_CHECK(out.region != db.region && out.endpoint != global.endpoint);
	cfg_s3_release(&out);
	T_CHECK(out.region == NULL);
	T_EQ_INT(out.path_style, -1);

	/* NULL on either side */
	cfg_s3_merge(NULL, &global, &out);
	T_EQ_STR(out.region, "global-region");
	T_EQ_INT(out.path_style, 1);
	cfg_s3_release(&out);
	cfg_s3_merge(&db, NULL, &out);
	T_EQ_STR(out.region, "db-region");
	T_CHECK(out.endpoint == NULL);
	T_EQ_INT(out.skip_verify, -1);
	T_EQ_INT(out.connect_timeout_ms, -1);
	T_EQ_INT(out.part_size, 0);
	cfg_s3_release(&out);
	cfg_s3_merge(NULL, NULL, &out);
	T_CHECK(out.endpoint == NULL && out.region == NULL);
	T_EQ_INT(out.max_retries, -1);
	cfg_s3_release(&out);
	cfg_s3_release(&db);
	cfg_s3_release(&global);

	/* the same through a loaded config */
	{
		struct lsc_config *cfg = load_ok("[s3]\nregion = a\n"
		    "endpoint = http://e\nmax-retries = 3\n"
		    "[db \"/x.db\"]\nreplica = s3://b/x\nregion = b\n"
		    "max-retries = 0\n", __LINE__);

		if (cfg == NULL)
			return;
		cfg_s3_merge(&cfg->dbs[0].s3, &cfg->s3, &out);
		T_EQ_STR(out.region, "b");
		T_EQ_STR(out.endpoint, "http://e");
		T_EQ_INT(out.max_retries, 0);
		cfg_s3_release(&out);
		cfg_free(cfg);
	}
}

static void
test_find_db(void)
{
	char cwd[4096], here[4096];
	char *text;
	struct lsc_config *cfg;
	char *sub;

	T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	sub = fs_join(tmpdir, "dbs");
	T_EQ_INT(mkdir(sub, 0700), 0);
	T_EQ_INT(chdir(sub), 0);
	T_CHECK(getcwd(here, sizeof(here)) != NULL);
	text = xasprintf("[db \"/srv/a.db\"]\nreplica = file:///r/a\n"
	    "[db \"%s/b.db\"]\nreplica = file:///r/b\n", here);
	cfg = load_ok(text, __LINE__);
	if (cfg != NULL) {
		const struct cfg_db *d;

		d = cfg_find_db(cfg, "/srv/a.db");
		T_CHECK(d == &cfg->dbs[0]);
		T_CHECK(cfg_find_db(cfg, "/srv/b.db") == NULL);
		T_CHECK(cfg_find_db(cfg, "/srv/a.db-wal") == NULL);
		T_CHECK(cfg_find_db(cfg, "/srv") == NULL);
		/* relative paths are made absolute against the cwd */
		T_CHECK(cfg_find_db(cfg, "b.db") == &cfg->dbs[1]);
		T_CHECK(cfg_find_db(cfg, "./b.db") == &cfg->dbs[1]);
		T_CHECK(cfg_find_db(cfg, "a.db") == NULL);
		T_CHECK(cfg_find_db(NULL, "/srv/a.db") == NULL);
		cfg_free(cfg);
	}
	free(text);
	T_EQ_INT(chdir(cwd), 0);
	rmdir(sub);
	free(sub);
}

/* Locate litestream-c.ini: $LSC_SRCDIR, the cwd (make runs tests from the
 * repository root), or beside this source file. */
static char *
example_path(void)
{
	const char *src = getenv("LSC_SRCDIR");
	char *dir, *p;

	if (src != NULL && *src != '\0')
		return fs_join(src, "litestream-c.ini");
	if (access("litestream-c.ini", R_OK) == 0)
		return xstrdup("litestream-c.ini");
	dir = fs_dirname(__FILE__);
	p = xasprintf("%s/../../litestream-c.ini", dir);
	free(dir);
	return p;
}

/*
 * The example config loads as shipped, and again with every disabled
 * setting ("#key = value" at the start of a line; prose comments use ';')
 * switched on, so every documented default and example is valid.
 */
static void
test_example(void)
{
	char *path = example_path(), *text = NULL, *tmp;
	struct lsc_config *cfg = NULL;
	struct lsc_err err = { 0 };
	size_t len = 0, enabled = 0;
	char *out, *o;

	if (cfg_load(path, &cfg, &err) != LSC_OK)
		printf("  %s: %s\n", path, err.msg);
	T_CHECK(err.code == LSC_OK && cfg != NULL);
	if (cfg != NULL)
		T_CHECK(cfg->ndb >= 1);
	cfg_free(cfg);
	cfg = NULL;

	lsc_err_clear(&err);
	T_EQ_INT(fs_read_small(path, 1 << 20, &text, &len, &err), LSC_OK);
	if (text == NULL) {
		free(path);
		return;
	}
	/* Every line fits libinih's buffer with room to spare. */
	{
		size_t col = 0, longest = 0;

		for (size_t i = 0; i < len; i++) {
			if (text[i] == '\n') {
				col = 0;
			} else if (++col > longest) {
				longest = col;
			}
		}
		T_CHECK(longest < 120);
		T_CHECK(len > 0 && text[len - 1] == '\n');
	}
	out = xmalloc(len + 1);
	o = out;
	for (const char *s = text; *s != '\0'; ) {
		const char *nl = strchr(s, '\n');
		size_t n = nl != NULL ? (size_t)(nl - s + 1) : strlen(s);

		if (s[0] == '#' && s[1] >= 'a' && s[1] <= 'z') {
			s++;
			n--;
			enabled++;
		} else if (s[0] == '#' && s[1] == '[') {
			s++;
			n--;
		}
		memcpy(o, s, n);
		o += n;
		s += n;
	}
	*o = '\0';
	T_CHECK(enabled >= 30);

	/* The enabled variant reads secrets from ${VAR}, so 0644 is fine. */
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG;example", 1);
	setenv("AWS_SESSION_TOKEN", "token", 1);
	setenv("B2_KEY_ID", "b2key", 1);
	setenv("B2_APP_KEY", "b2secret", 1);
	tmp = fs_join(tmpdir, "example-all.ini");
	T_EQ_INT(write_file(tmp, out, 0644), 0);
	lsc_err_clear(&err);
	if (cfg_load(tmp, &cfg, &err) != LSC_OK)
		printf("  %s (all settings enabled): %s\n", path, err.msg);
	T_CHECK(err.code == LSC_OK && cfg != NULL);
	if (cfg != NULL) {
		/* the enabled [s3] section names each of its keys */
		T_CHECK(cfg->log_level != NULL && cfg->metrics != NULL);
		T_CHECK(cfg->s3.endpoint != NULL && cfg->s3.region != NULL);
		T_CHECK(cfg->s3.access_key_id != NULL);
		T_EQ_STR(cfg->s3.secret_access_key, "wJalrXUtnFEMI/K7MDENG;example");
		T_CHECK(cfg->s3.session_token != NULL);
		T_CHECK(cfg->s3.ca_file != NULL);
		T_CHECK(cfg->s3.path_style >= 0 && cfg->s3.skip_verify >= 0);
		T_CHECK(cfg->s3.part_size != 0);
		T_CHECK(cfg->s3.connect_timeout_ms >= 0);
		T_CHECK(cfg->s3.request_timeout_ms >= 0);
		T_CHECK(cfg->s3.max_retries >= 0);
		T_CHECK(cfg->ndb >= 2);
		/* several replicas, one with its own [s3 "NAME"] section */
		T_EQ_INT(cfg->dbs[0].nreplicas, 3);
		T_EQ_INT(cfg->ns3_sections, 1);
		T_CHECK(cfg->dbs[0].nreplicas == 3 &&
		    cfg->dbs[0].replicas[2].s3 == &cfg->s3_sections[0].s3);
		/* the documented defaults are the real ones */
		for (size_t i = 0; i < cfg->ndb; i++) {
			const struct cfg_db *d = &cfg->dbs[i];

			if (d->meta_path == NULL)
				continue;
			T_EQ_INT(d->sync_interval_ms, CFG_DEFAULT_SYNC_INTERVAL_MS);
			T_EQ_INT(d->snapshot_interval_ms,
			    CFG_DEFAULT_SNAPSHOT_INTERVAL_MS);
			T_EQ_INT(d->retention_ms, CFG_DEFAULT_RETENTION_MS);
			T_EQ_INT(d->retention_check_interval_ms,
			    CFG_DEFAULT_RETENTION_CHECK_MS);
			T_EQ_INT(d->retention_grace_ms,
			    CFG_DEFAULT_RETENTION_GRACE_MS);
			T_EQ_INT(d->checkpoint_interval_ms,
			    CFG_DEFAULT_CHECKPOINT_INTERVAL_MS);
			T_EQ_INT(d->min_checkpoint_page_count,
			    CFG_DEFAULT_MIN_CHECKPOINT_PAGES);
			T_EQ_INT(d->max_checkpoint_page_count,
			    CFG_DEFAULT_MAX_CHECKPOINT_PAGES);
		}
	}
	cfg_free(cfg);
	unlink(tmp);
	free(tmp);
	free(out);
	free(text);
	free(path);
}

/* Two databases may not share a replica, or nest one inside another:
 * each one's retention would delete the other's generations. */
/* age-recipient is a list; an identity pasted as a recipient is not
 * echoed; plain databases have no keys. */
static void
test_age_keys(void)
{
	struct lsc_config *cfg = load_ok(DB "age-recipient = " RCPT_A "\n"
	    "age-recipient = " RCPT_B "\nage-identity-file = /run/key.txt\n"
	    "[db \"/data/b.db\"]\nreplica = file:///backup/b\n", __LINE__);
	struct lsc_config *none = NULL;
	struct lsc_err err = { 0 };
	unsigned char pk[AGE_KEY_LEN];

	if (cfg == NULL)
		return;
	T_EQ_INT(cfg->dbs[0].nage_recipients, 2);
	T_EQ_INT(age_recipient_parse(RCPT_B, pk, NULL), LSC_OK);
	T_CHECK(cfg->dbs[0].nage_recipients == 2 &&
	    memcmp(cfg->dbs[0].age_recipients[1], pk, AGE_KEY_LEN) == 0);
	T_EQ_STR(cfg->dbs[0].age_identity_file, "/run/key.txt");
	T_EQ_INT(cfg->dbs[1].nage_recipients, 0);
	T_CHECK(cfg->dbs[1].age_recipients == NULL);
	T_CHECK(cfg->dbs[1].age_identity_file == NULL);
	cfg_free(cfg);
	T_EQ_INT(cfg_load_string(DB "age-recipient = " SECRET "\n", NAME, &none,
	    &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, "GFPYYSJZ") == NULL);
}

/* Several replicas of one database: names, URLs, order, lookups, and
 * which S3 settings each one takes. */
static void
test_replicas(void)
{
	struct lsc_config *cfg = load_ok("[s3]\nendpoint = http://main:1\n"
	    "region = main\naccess-key-id = MAINKEY\n"
	    "[db \"/a.db\"]\nreplica = file:///r/a\n"
	    "replica.usb = file:///mnt/usb/a\nreplica = s3://bkt/a\n"
	    "replica.b2 = s3://other/a\nregion = dbregion\n"
	    "[s3 \"b2\"]\nendpoint = https://b2.example\nregion = eu-3\n"
	    "[db \"/b.db\"]\nreplica.b2 = s3://other/b\n", __LINE__);
	const struct cfg_db *a;
	const struct cfg_replica *rep;
	struct cfg_s3 s3;

	if (cfg == NULL)
		return;
	a = &cfg->dbs[0];
	T_EQ_INT(a->nreplicas, 4);
	T_EQ_STR(a->replica, "file:///r/a");
	T_EQ_INT(a->replica_line, 6);
	T_EQ_STR(a->replicas[0].name, "file");
	T_EQ_STR(a->replicas[1].name, "usb");
	T_EQ_STR(a->replicas[1].url, "file:///mnt/usb/a");
	T_EQ_INT(a->replicas[1].line, 7);
	T_EQ_STR(a->replicas[2].name, "s3");
	T_EQ_STR(a->replicas[3].name, "b2");
	T_CHECK(a->replicas[2].s3 == NULL);
	T_CHECK(a->replicas[3].s3 == &cfg->s3_sections[0].s3);
	T_CHECK(cfg->dbs[1].replicas[0].s3 == &cfg->s3_sections[0].s3);
	rep = cfg_db_find_replica(a, "usb");
	T_CHECK(rep == &a->replicas[1]);
	T_CHECK(cfg_db_find_replica(a, "s3://other/a") == &a->replicas[3]);
	T_CHECK(cfg_db_find_replica(a, "nope") == NULL);
	/* The default settings: [db] keys over [s3]. */
	cfg_s3_init(&s3);
	cfg_replica_s3(a, &a->replicas[2], &cfg->s3, &s3);
	T_EQ_STR(s3.endpoint, "http://main:1");
	T_EQ_STR(s3.region, "dbregion");
	T_EQ_STR(s3.access_key_id, "MAINKEY");
	cfg_s3_release(&s3);
	/* A named section alone: nothing of [s3] or of the [db]. */
	cfg_replica_s3(a, &a->replicas[3], &cfg->s3, &s3);
	T_EQ_STR(s3.endpoint, "https://b2.example");
	T_EQ_STR(s3.region, "eu-3");
	T_CHECK(s3.access_key_id == NULL);
	cfg_s3_release(&s3);
	cfg_free(cfg);
	T_CHECK(cfg_name_valid("a-B_9"));
	T_CHECK(!cfg_name_valid(""));
	T_CHECK(!cfg_name_valid("a b"));
	T_CHECK(!cfg_name_valid("0123456789012345678901234567890123"));
}

static void
test_replicas_apart(void)
{
	struct lsc_config *cfg;

	expect_error("[db \"/a.db\"]\nreplica = file:///r/x\n"
	    "[db \"/b.db\"]\nreplica = file:///r//x/\n", 4,
	    "replica 'file:///r//x/' of [db \"/b.db\"] is the replica of "
	    "[db \"/a.db\"] at line 2", __LINE__);
	expect_error("[db \"/a.db\"]\nreplica = s3://bkt/app/./one\n"
	    "[db \"/b.db\"]\nsync-interval = 1s\nreplica = s3://bkt/app/one/b\n",
	    5, "is inside the replica of [db \"/a.db\"] at line 2", __LINE__);
	expect_error("[db \"/a.db\"]\nreplica = s3://bkt/app/one\n"
	    "[db \"/b.db\"]\nreplica = s3://bkt/\n", 4,
	    "contains the replica of [db \"/a.db\"]", __LINE__);
	expect_error("[s3]\nendpoint = http://h:1\n"
	    "[db \"/a.db\"]\nreplica = s3://bkt/p?endpoint=http://h:1\n"
	    "[db \"/b.db\"]\nreplica = s3://bkt/p\n", 6, "is the replica of",
	    __LINE__);
	/* Every replica of every [db], with the endpoint of its section. */
	expect_error("[db \"/a.db\"]\nreplica = file:///r/a\n"
	    "replica.x = s3://bkt/p?endpoint=http://h:1\n"
	    "[db \"/b.db\"]\nreplica = file:///r/b\nreplica.x = s3://bkt/p\n"
	    "[s3 \"x\"]\nendpoint = http://h:1\n", 6,
	    "replica 's3://bkt/p' of [db \"/b.db\"] is the replica of "
	    "[db \"/a.db\"] at line 3", __LINE__);
	cfg = load_ok("[db \"/a.db\"]\nreplica.x = s3://bkt/p\n"
	    "[db \"/b.db\"]\nreplica = s3://bkt/p\n"
	    "[s3 \"x\"]\nendpoint = http://other:1\n", __LINE__);
	T_CHECK(cfg != NULL);
	cfg_free(cfg);
	/* Apart: sibling prefixes, another bucket, another endpoint, a name
	 * that only starts the same. */
	cfg = load_ok("[db \"/a.db\"]\nreplica = s3://bkt/app/one\n"
	    "[db \"/b.db\"]\nreplica = s3://bkt/app/one-b\n"
	    "[db \"/c.db\"]\nreplica = s3://other/app/one\n"
	    "[db \"/d.db\"]\nreplica = s3://bkt/app/one?endpoint=http://x:9\n"
	    "[db \"/e.db\"]\nreplica = file:///bkt/app/one\n", __LINE__);
	T_CHECK(cfg != NULL && cfg->ndb == 5);
	cfg_free(cfg);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("LSC_T_UNSET_VAR");
	setenv("LSC_T_REL", "rel", 1);
	test_errors();
	test_replicas();
	test_long_lines();
	test_long_line_file();
	test_defaults();
	test_all_keys();
	test_long_db_path();
	test_section_headers();
	test_env();
	test_secret_permissions();
	test_parse_duration();
	test_parse_size();
	test_parse_bool();
	test_parse_hostport();
	test_s3_merge();
	test_find_db();
	test_example();
	test_replicas_apart();
	test_age_keys();
	fs_remove_tree(tmpdir, NULL);
	return t_done();
}
