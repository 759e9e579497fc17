/* SPDX-License-Identifier: MIT */
/*
 * The small pieces of common/: buf (cap, detach, consume), fs_write_atomic,
 * path helpers, RFC 3339 time stamps, and lsc_seterr's first-error-wins
 * and one-line rules.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"

static char tmpdir[] = "/tmp/lsc-t-misc.XXXXXX";

static void
test_buf(void)
{
	struct buf b;
	struct lsc_err err = { 0 };
	unsigned char *p;
	size_t len = 99;

	buf_init(&b, 10);
	T_CHECK(b.data == NULL && b.len == 0 && b.max == 10);
	T_EQ_INT(buf_append(&b, "hello", 5, &err), LSC_OK);
	T_EQ_INT(b.len, 5);
	T_EQ_STR((char *)b.data, "hello");	/* NUL-terminated */
	T_EQ_INT(buf_append(&b, "world", 5, &err), LSC_OK);
	T_EQ_INT(b.len, 10);
	T_EQ_STR((char *)b.data, "helloworld");
	/* past the cap: refused, contents unchanged */
	T_EQ_INT(buf_append(&b, "!", 1, &err), LSC_ECORRUPT);
	T_EQ_INT(err.code, LSC_ECORRUPT);
	T_CHECK(strstr(err.msg, "10 bytes") != NULL);
	T_EQ_INT(b.len, 10);
	T_EQ_STR((char *)b.data, "helloworld");
	T_EQ_INT(buf_append(&b, "", 0, NULL), LSC_OK);
	/* a huge n must not wrap around the cap check */
	T_CHECK(buf_reserve(&b, (size_t)-1, NULL) == NULL);
	T_CHECK(buf_reserve(&b, (size_t)-1 - 5, NULL) == NULL);
	T_EQ_INT(buf_appendf(&b, NULL, "%d", 1), LSC_ECORRUPT);

	/* consume */
	buf_consume(&b, 3);
	T_EQ_INT(b.len, 7);
	T_EQ_STR((char *)b.data, "loworld");
	buf_consume(&b, 0);
	T_EQ_STR((char *)b.data, "loworld");
	buf_consume(&b, 7);
	T_EQ_INT(b.len, 0);
	T_EQ_STR((char *)b.data, "");
	T_EQ_INT(buf_append(&b, "abc", 3, NULL), LSC_OK);
	buf_consume(&b, 100);
	T_EQ_INT(b.len, 0);

	/* appendf and detach */
	lsc_err_clear(&err);
	T_EQ_INT(buf_appendf(&b, &err, "%s=%d", "k", 42), LSC_OK);
	T_EQ_STR((char *)b.data, "k=42");
	p = buf_detach(&b, &len);
	T_EQ_INT(len, 4);
	T_EQ_STR((char *)p, "k=42");
	/* the buffer is empty and usable, with its cap kept */
	T_CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.max == 10);
	free(p);
	T_EQ_INT(buf_append(&b, "0123456789", 10, NULL), LSC_OK);
	T_EQ_INT(buf_append(&b, "x", 1, NULL), LSC_ECORRUPT);
	p = buf_detach(&b, NULL);
	T_EQ_STR((char *)p, "0123456789");
	free(p);
	/* detach of an empty buffer gives NULL */
	len = 99;
	T_CHECK(buf_detach(&b, &len) == NULL);
	T_EQ_INT(len, 0);

	/* reset keeps the storage */
	buf_init(&b, 1 << 20);
	{
		int bad = 0;

		for (int i = 0; i < 1000; i++)
			bad += buf_appendf(&b, NULL, "%04d", i) != LSC_OK;
		T_EQ_INT(bad, 0);
	}
	T_EQ_INT(b.len, 4000);
	T_CHECK(memcmp(b.data + 3996, "0999", 4) == 0);
	p = b.data;
	buf_reset(&b);
	T_CHECK(b.len == 0 && b.data == p && b.data[0] == '\0');
	/* reserve does not change len */
	p = buf_reserve(&b, 100, NULL);
	T_CHECK(p != NULL && b.len == 0 && b.cap >= 101);
	buf_release(&b);
	T_CHECK(b.data == NULL && b.len == 0 && b.max == 1 << 20);
	buf_release(&b);	/* twice is fine */

	/* cap 0: nothing fits but nothing */
	buf_init(&b, 0);
	T_EQ_INT(buf_append(&b, "", 0, NULL), LSC_OK);
	T_EQ_INT(buf_append(&b, "a", 1, NULL), LSC_ECORRUPT);
	buf_release(&b);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_atomic(void)
{
	char *dir = fs_join(tmpdir, "atomic");
	char *path = fs_join(dir, "file.bin");
	char *tmp = xasprintf("%s.tmp", path);
	char *got = NULL;
	size_t len = 0;
	struct lsc_err err = { 0 };
	struct stat st;
	unsigned char bin[300];

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)i;
	T_EQ_INT(fs_mkdir_p(dir, 0700, &err), LSC_OK);
	T_EQ_INT(fs_write_atomic(path, "first", 5, 0600, &err), LSC_OK);
	T_EQ_INT(fs_read_small(path, 100, &got, &len, &err), LSC_OK);
	T_EQ_STR(got, "first");
	T_EQ_INT(len, 5);
	free(got);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	T_CHECK(access(tmp, F_OK) != 0);

	/* replace with binary content, shorter and longer */
	T_EQ_INT(fs_write_atomic(path, bin, sizeof(bin), 0644, &err), LSC_OK);
	T_EQ_INT(fs_read_small(path, 1000, &got, &len, &err), LSC_OK);
	T_EQ_INT(len, sizeof(bin));
	T_CHECK(len == sizeof(bin) && memcmp(got, bin, len) == 0);
	free(got);
	T_EQ_INT(fs_write_atomic(path, "", 0, 0644, &err), LSC_OK);
	T_EQ_INT(fs_read_small(path, 10, &got, &len, &err), LSC_OK);
	T_EQ_INT(len, 0);
	free(got);
	/* only the file itself in the directory: no .tmp left behind */
	T_EQ_INT(count_entries(dir), 1);
	T_CHECK(access(tmp, F_OK) != 0);

	/* into a missing directory: an error, and nothing created */
	{
		char *bad = fs_join(tmpdir, "nope/file");

		T_EQ_INT(fs_write_atomic(bad, "x", 1, 0600, &err), LSC_EIO);
		T_EQ_INT(err.code, LSC_EIO);
		T_EQ_INT(err.sys, ENOENT);
		T_CHECK(strstr(err.msg, "cannot create") != NULL);
		free(bad);
	}

	/* fs_read_small: limit and missing file */
	lsc_err_clear(&err);
	T_EQ_INT(fs_write_atomic(path, "0123456789", 10, 0600, &err), LSC_OK);
	got = NULL;
	T_EQ_INT(fs_read_small(path, 9, &got, &len, &err), LSC_ECORRUPT);
	T_CHECK(got == NULL);
	lsc_err_clear(&err);
	T_EQ_INT(fs_read_small(path, 10, &got, NULL, &err), LSC_OK);
	T_EQ_STR(got, "0123456789");
	free(got);
	unlink(path);
	lsc_err_clear(&err);
	T_EQ_INT(fs_read_small(path, 10, &got, &len, &err), LSC_ENOTFOUND);

	/* mkdir -p, then remove the tree */
	{
		char *deep = fs_join(dir, "a/b/c");
		char *f = fs_join(deep, "x");

		lsc_err_clear(&err);
		T_EQ_INT(fs_mkdir_p(deep, 0755, &err), LSC_OK);
		T_EQ_INT(fs_mkdir_p(deep, 0755, &err), LSC_OK);	/* exists */
		T_EQ_INT(fs_write_atomic(f, "x", 1, 0600, &err), LSC_OK);
		T_EQ_INT(fs_remove_tree(dir, &err), LSC_OK);
		T_CHECK(access(dir, F_OK) != 0);
		T_EQ_INT(fs_remove_tree(dir, &err), LSC_OK);	/* missing */
		free(deep);
		free(f);
	}
	free(dir);
	free(path);
	free(tmp);
}

static void
test_paths(void)
{
	static const struct { const char *a, *b, *want; } joins[] = {
		{ "a", "b", "a/b" }, { "a/", "b", "a/b" }, { "a//", "/b", "a/b" },
		{ "/", "b", "/b" }, { "/", "/b", "/b" }, { "//", "b", "/b" },
		{ "/x/y", "z/w", "/x/y/z/w" }, { "a", "", "a/" },
		{ ".", "f", "./f" },
	};
	static const struct { const char *p, *dir, *base; } parts[] = {
		{ "/a/b/c.db", "/a/b", "c.db" }, { "c.db", ".", "c.db" },
		{ "/c.db", "/", "c.db" }, { "a/b", "a", "b" },
		{ "/", "/", "" }, { "a/", "a", "" }, { "", ".", "" },
		{ "./x", ".", "x" },
	};

	for (size_t i = 0; i < sizeof(joins) / sizeof(joins[0]); i++) {
		char *j = fs_join(joins[i].a, joins[i].b);

		T_EQ_STR(j, joins[i].want);
		free(j);
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		char *d = fs_dirname(parts[i].p);

		T_EQ_STR(d, parts[i].dir);
		T_EQ_STR(fs_basename(parts[i].p), parts[i].base);
		free(d);
	}
	/* basename borrows from its argument */
	{
		const char *p = "/x/y";

		T_CHECK(fs_basename(p) == p + 3);
	}
	/* abspath */
	{
		char cwd[4096], *a, *want;

		T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
		a = fs_abspath("/abs/x");
		T_EQ_STR(a, "/abs/x");
		free(a);
		a = fs_abspath("rel/x");
		want = xasprintf("%s/rel/x", strcmp(cwd, "/") == 0 ? "" : cwd);
		T_EQ_STR(a, want);
		free(a);
		a = fs_abspath("./rel/x");
		T_EQ_STR(a, want);
		free(a);
		free(want);
	}
}

#define S 1000000000LL

static void
test_rfc3339(void)
{
	static const struct { const char *s; int64_t ns; } good[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2026-11-24T12:00:00Z", 1795521600 * S },
		{ "2026-11-24T12:00:00.5Z", 1795521600 * S + 500000000 },
		{ "2026-11-24T12:00:00.123456789Z", 1795521600 * S + 123456789 },
		{ "2026-11-24T12:00:00.000000001Z", 1795521600 * S + 1 },
		/* more than 9 digits: the rest is ignored */
		{ "2026-11-24T12:00:00.1234567891Z", 1795521600 * S + 123456789 },
		{ "2026-11-24T12:00:00z", 1795521600 * S },
		{ "2026-11-24T14:30:00+02:30", 1795521600 * S },
		{ "2026-11-24T09:00:00-03:00", 1795521600 * S },
		{ "2026-11-24T12:00:00.25+00:00", 1795521600 * S + 250000000 },
		{ "2026-11-25T00:00:00+12:00", 1795521600 * S },
		{ "2000-02-29T23:59:59Z", 951868799 * S },
		{ "1969-12-31T23:59:59Z", -1 * S },
	};
	static const char *const bad[] = {
		"", "2026-11-24", "2026-11-24T12:00:00", "2026-11-24 12:00:00Z",
		"2026-11-24T12:00:00.Z", "2026-11-24T12:00:00+0200",
		"2026-11-24T12:00:00+02", "2026-11-24T12:00:00Zjunk",
		"2026-11-24T12:00:00 Z", "2026-13-24T12:00:00Z",
		"2026-11-24T25:00:00Z", "2026-11-24T12:00:00+2:00",
		"2026-11-24T12:00:00+02:00x", "not a time",
		"2026-11-24T12:00:00.12a3Z",
	};
	char out[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int64_t ns = 7;
		int rc = parse_rfc3339(good[i].s, &ns);

		if (rc != 0 || ns != good[i].ns)
			printf("  parse '%s' -> %d %lld\n", good[i].s, rc,
			    (long long)ns);
		T_EQ_INT(rc, 0);
		T_EQ_INT(ns, good[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ns = 7;
		int rc = parse_rfc3339(bad[i], &ns);

		if (rc != -1)
			printf("  parse '%s' accepted\n", bad[i]);
		T_EQ_INT(rc, -1);
		T_EQ_INT(ns, 7);
	}

	fmt_rfc3339(0, 0, out, sizeof(out));
	T_EQ_STR(out, "1970-01-01T00:00:00Z");
	fmt_rfc3339(0, 1, out, sizeof(out));
	T_EQ_STR(out, "1970-01-01T00:00:00.000000000Z");
	fmt_rfc3339(1795521600 * S + 123456789, 1, out, sizeof(out));
	T_EQ_STR(out, "2026-11-24T12:00:00.123456789Z");
	fmt_rfc3339(1795521600 * S + 123456789, 0, out, sizeof(out));
	T_EQ_STR(out, "2026-11-24T12:00:00Z");
	/* before the epoch: floor, not truncation */
	fmt_rfc3339(-1, 1, out, sizeof(out));
	T_EQ_STR(out, "1969-12-31T23:59:59.999999999Z");
	fmt_rfc3339(-S / 2, 0, out, sizeof(out));
	T_EQ_STR(out, "1969-12-31T23:59:59Z");
	/* a short buffer is cut, never overrun */
	memset(out, 'x', sizeof(out));
	fmt_rfc3339(0, 1, out, 11);
	T_EQ_STR(out, "1970-01-01");
	T_EQ_INT(out[11], 'x');

	/* round trips: format with fraction, parse back, exactly */
	{
		static const int64_t vals[] = { 0, 1, 999999999, 1795521600 * S + 5,
		    4102444799LL * S + 999999999, 1234567890123456789LL, -1, -S - 1 };

		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			int64_t ns = 0;

			fmt_rfc3339(vals[i], 1, out, sizeof(out));
			T_EQ_INT(parse_rfc3339(out, &ns), 0);
			T_EQ_INT(ns, vals[i]);
			fmt_rfc3339(vals[i], 0, out, sizeof(out));
			T_EQ_INT(parse_rfc3339(out, &ns), 0);
			/* whole seconds, rounded down */
			T_EQ_INT(ns, vals[i] - (((vals[i] % S) + S) % S));
		}
	}
	/* now_ns is in the present and formats sensibly */
	{
		int64_t now = now_ns(), back = 0;

		T_CHECK(now > 1700000000 * S);
		fmt_rfc3339(now, 1, out, sizeof(out));
		T_EQ_INT(strlen(out), 30);
		T_EQ_INT(parse_rfc3339(out, &back), 0);
		T_EQ_INT(back, now);
		T_CHECK(mono_ms() > 0);
	}
}

static void
test_seterr(void)
{
	struct lsc_err err = { 0 };

	T_EQ_INT(lsc_seterr(&err, LSC_EIO, 5, "first %s", "error"), LSC_EIO);
	T_EQ_INT(err.code, LSC_EIO);
	T_EQ_INT(err.sys, 5);
	T_EQ_STR(err.msg, "first error");
	/* the first wins; the call still returns its own code */
	T_EQ_INT(lsc_seterr(&err, LSC_ENET, 7, "second"), LSC_ENET);
	T_EQ_INT(err.code, LSC_EIO);
	T_EQ_INT(err.sys, 5);
	T_EQ_STR(err.msg, "first error");
	/* NULL is fine */
	T_EQ_INT(lsc_seterr(NULL, LSC_ES3, 503, "x"), LSC_ES3);
	/* clear, then newlines become spaces */
	lsc_err_clear(&err);
	T_EQ_INT(err.code, LSC_OK);
	T_EQ_INT(err.sys, 0);
	T_EQ_STR(err.msg, "");
	lsc_seterr(&err, LSC_ES3, 400, "bad:\n%s\r\nend\n", "body");
	T_EQ_STR(err.msg, "bad: body  end ");
	T_CHECK(strpbrk(err.msg, "\r\n") == NULL);
	/* other control characters (a terminal escape from a hostile key) */
	lsc_err_clear(&err);
	lsc_seterr(&err, LSC_ECORRUPT, 0, "key '%s'", "a\033[2Jb\tc\177d\001");
	T_EQ_STR(err.msg, "key 'a?[2Jb c?d?'");
	lsc_err_clear(NULL);
	/* a long message is cut to LSC_ERRLEN - 1 */
	{
		char big[600];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		lsc_err_clear(&err);
		lsc_seterr(&err, LSC_EIO, 0, "%s", big);
		T_EQ_INT(strlen(err.msg), LSC_ERRLEN - 1);
	}
	T_EQ_STR(lsc_code_name(LSC_OK), "ok");
	T_EQ_STR(lsc_code_name(LSC_ECORRUPT), "corrupt");
	T_EQ_STR(lsc_code_name(LSC_ENOTFOUND), "not-found");
	T_EQ_STR(lsc_code_name((enum lsc_code)999), "unknown");
}

/* xstrndup is strndup(3): at most n bytes, never past the NUL. */
static void
test_xstrndup(void)
{
	char *p;

	p = xstrndup("abcdef", 3);
	T_EQ_STR(p, "abc");
	free(p);
	p = xstrndup("ab", 200);	/* read past "ab\0" before the fix */
	T_EQ_STR(p, "ab");
	free(p);
	p = xstrndup("", 0);
	T_EQ_STR(p, "");
	free(p);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_buf();
	test_write_atomic();
	test_paths();
	test_rfc3339();
	test_seterr();
	test_xstrndup();
	fs_remove_tree(tmpdir, NULL);
	return t_done();
}
