/* SPDX-License-Identifier: MIT */
/*
 * The file replica through replica_open("file:///..."): put then get
 * (streamed, byte-identical), abort leaves nothing, list by prefix (sorted,
 * regular files only, no *.tmp, size and mtime filled), delete (missing
 * keys fine, empty directories pruned), keys that could leave the root
 * refused, and a missing key is LSC_ENOTFOUND.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "replica/replica.h"

static char tmpdir[] = "/tmp/lsc-t-replica.XXXXXX";

struct count_sink {
	struct buf	 b;
	int		 calls;
};

static int
sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct count_sink *s = ctx;

	s->calls++;
	return buf_append(&s->b, data, len, err);
}

static int
refusing_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	(void)ctx;
	(void)data;
	(void)len;
	return lsc_seterr(err, LSC_ESTOP, 0, "stop");
}

static struct replica *
open_replica(const char *dir)
{
	struct replica *r = NULL;
	struct lsc_err err = { 0 };
	char *url = xasprintf("file://%s", dir);

	T_EQ_INT(replica_open(url, NULL, -1, &r, &err), LSC_OK);
	if (r != NULL) {
		T_EQ_STR(r->ops->type, "file");
		T_CHECK(strncmp(r->url, "file:///", 8) == 0);
		T_EQ_INT(r->max_retries, -1);
	}
	free(url);
	return r;
}

static int
exists(const char *root, const char *rel)
{
	char *p = fs_join(root, rel);
	int ok = access(p, F_OK) == 0;

	free(p);
	return ok;
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
test_put_get(const char *root)
{
	struct replica *r = open_replica(root);
	struct lsc_err err = { 0 };
	struct count_sink s;
	size_t n = 700 * 1024 + 3;
	unsigned char *data = xmalloc(n);
	char *path;
	struct stat st;

	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 31 + (i >> 9));
	T_EQ_INT(replica_put_buf(r, "generations/0123/snapshots/00000000.snapshot.lz4",
	    data, n, &err), LSC_OK);
	path = fs_join(root, "generations/0123/snapshots/00000000.snapshot.lz4");
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_size, n);
	free(path);

	/* streamed back in more than one sink call, byte-identical */
	buf_init(&s.b, (size_t)16 << 20);
	s.calls = 0;
	T_EQ_INT(replica_get(r, "generations/0123/snapshots/00000000.snapshot.lz4",
	    sink, &s, &err), LSC_OK);
	T_CHECK(s.b.len == n && memcmp(s.b.data, data, n) == 0);
	T_CHECK(s.calls >= 2);
	buf_release(&s.b);

	/* an empty object */
	T_EQ_INT(replica_put_buf(r, "empty", "", 0, &err), LSC_OK);
	buf_init(&s.b, 16);
	s.calls = 0;
	T_EQ_INT(replica_get(r, "empty", sink, &s, &err), LSC_OK);
	T_EQ_INT(s.b.len, 0);
	buf_release(&s.b);

	/* overwrite replaces the whole object */
	T_EQ_INT(replica_put_buf(r, "empty", "now full", 8, &err), LSC_OK);
	buf_init(&s.b, 64);
	T_EQ_INT(replica_get(r, "empty", sink, &s, &err), LSC_OK);
	T_EQ_STR((char *)s.b.data, "now full");
	buf_release(&s.b);

	/* a streamed put in pieces; nothing under the key until commit */
	{
		struct replica_put *p = NULL;

		T_EQ_INT(replica_put_begin(r, "wal/a/b.lz4", &p, &err), LSC_OK);
		T_EQ_INT(replica_put_write(r, p, data, 1000, &err), LSC_OK);
		T_CHECK(!exists(root, "wal/a/b.lz4"));
		T_EQ_INT(replica_put_write(r, p, data + 1000, n - 1000, &err), LSC_OK);
		T_CHECK(!exists(root, "wal/a/b.lz4"));
		T_EQ_INT(replica_put_commit(r, p, &err), LSC_OK);
		T_CHECK(exists(root, "wal/a/b.lz4"));
		buf_init(&s.b, (size_t)16 << 20);
		T_EQ_INT(replica_get(r, "wal/a/b.lz4", sink, &s, &err), LSC_OK);
		T_CHECK(s.b.len == n && memcmp(s.b.data, data, n) == 0);
		buf_release(&s.b);
		/* only the object in its directory: no temp file left */
		path = fs_join(root, "wal/a");
		T_EQ_INT(count_entries(path), 1);
		free(path);
	}

	/* a sink error stops get and is passed up */
	lsc_err_clear(&err);
	T_EQ_INT(replica_get(r, "wal/a/b.lz4", refusing_sink, NULL, &err),
	    LSC_ESTOP);
	T_EQ_STR(err.msg, "stop");

	/* missing keys */
	lsc_err_clear(&err);
	buf_init(&s.b, 64);
	T_EQ_INT(replica_get(r, "no/such/key", sink, &s, &err), LSC_ENOTFOUND);
	T_EQ_INT(err.code, LSC_ENOTFOUND);
	T_EQ_INT(s.b.len, 0);
	lsc_err_clear(&err);
	T_EQ_INT(replica_get(r, "generations/nope", sink, &s, &err),
	    LSC_ENOTFOUND);
	buf_release(&s.b);
	free(data);
	replica_free(r);
}

static void
test_abort(const char *root)
{
	struct replica *r = open_replica(root);
	struct lsc_err err = { 0 };
	struct replica_put *p = NULL;
	char *dir;

	if (r == NULL)
		return;
	T_EQ_INT(replica_put_begin(r, "aborted/x/obj", &p, &err), LSC_OK);
	T_EQ_INT(replica_put_write(r, p, "partial", 7, &err), LSC_OK);
	replica_put_abort(r, p);
	replica_put_abort(r, NULL);
	T_CHECK(!exists(root, "aborted/x/obj"));
	dir = fs_join(root, "aborted/x");
	/* no temp file left (the directory itself may remain) */
	T_CHECK(count_entries(dir) <= 0);
	free(dir);
	{
		struct replica_list l;

		T_EQ_INT(replica_list(r, "aborted", &l, &err), LSC_OK);
		T_EQ_INT(l.n, 0);
		replica_list_free(&l);
	}
	/* aborting an overwrite keeps the old object */
	T_EQ_INT(replica_put_buf(r, "keep", "old", 3, &err), LSC_OK);
	T_EQ_INT(replica_put_begin(r, "keep", &p, &err), LSC_OK);
	T_EQ_INT(replica_put_write(r, p, "new!", 4, &err), LSC_OK);
	replica_put_abort(r, p);
	{
		struct count_sink s;

		buf_init(&s.b, 64);
		T_EQ_INT(replica_get(r, "keep", sink, &s, &err), LSC_OK);
		T_EQ_STR((char *)s.b.data, "old");
		buf_release(&s.b);
	}
	replica_free(r);
}

static void
write_raw(const char *root, const char *rel, const char *text)
{
	char *p = fs_join(root, rel);
	char *d = fs_dirname(p);
	int fd;

	fs_mkdir_p(d, 0755, NULL);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_CHECK(fd >= 0);
	if (fd >= 0) {
		T_EQ_INT(write_full(fd, text, strlen(text)), 0);
		close(fd);
	}
	free(d);
	free(p);
}

static void
test_list(const char *root)
{
	struct replica *r = open_replica(root);
	struct lsc_err err = { 0 };
	struct replica_list l;
	/* put in an order that is not the sorted one */
	static const char *const keys[] = {
		"generations/bbbb/wal/00000001/00000000.wal.lz4",
		"generations/aaaa/snapshots/00000000.snapshot.lz4",
		"generations/bbbb/wal/00000000/00001000.wal.lz4",
		"generations/bbbb/wal/00000000/00000000.wal.lz4",
		"generations/aaaa/wal/00000000/00000000.wal.lz4",
		"generations/bbbb/snapshots/00000001.snapshot.lz4",
		"generationsX",
		"other/file",
		"generations/bbbb/wal/00000002.wal.lz4",
	};
	int64_t before = now_ns();

	if (r == NULL)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *body = xasprintf("body of %s", keys[i]);

		T_EQ_INT(replica_put_buf(r, keys[i], body, strlen(body), &err),
		    LSC_OK);
		free(body);
	}
	/* things a listing must skip */
	write_raw(root, "generations/bbbb/wal/00000000/00002000.wal.lz4.tmp", "t");
	write_raw(root, "generations/bbbb/wal/00000000/x.123.tmp", "t");
	write_raw(root, "generations/bbbb/.hidden", "h");
	{
		char *d = fs_join(root, "generations/bbbb/wal/emptydir");

		fs_mkdir_p(d, 0755, NULL);
		free(d);
	}
	{
		char *target = fs_join(root, "other/file");
		char *link = fs_join(root, "generations/bbbb/link");

		T_EQ_INT(symlink(target, link), 0);
		free(target);
		free(link);
	}

	/* everything */
	T_EQ_INT(replica_list(r, "", &l, &err), LSC_OK);
	T_EQ_INT(l.n, sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 1; i < l.n; i++)
		T_CHECK(strcmp(l.v[i - 1].key, l.v[i].key) < 0);
	for (size_t i = 0; i < l.n; i++) {
		T_CHECK(strstr(l.v[i].key, ".tmp") == NULL);
		T_CHECK(strstr(l.v[i].key, "link") == NULL);
		T_CHECK(strstr(l.v[i].key, "hidden") == NULL);
		T_CHECK(strstr(l.v[i].key, "emptydir") == NULL);
		/* size is the stored size; mtime is now-ish */
		T_EQ_INT(l.v[i].size, strlen("body of ") + strlen(l.v[i].key));
		T_CHECK(l.v[i].mtime_ns >= before - 2000000000LL &&
		    l.v[i].mtime_ns <= now_ns() + 2000000000LL);
	}
	replica_list_free(&l);
	T_CHECK(l.v == NULL && l.n == 0);

	/* a directory prefix */
	T_EQ_INT(replica_list(r, "generations/bbbb/wal/", &l, &err), LSC_OK);
	T_EQ_INT(l.n, 4);
	if (l.n == 4) {
		T_EQ_STR(l.v[0].key, "generations/bbbb/wal/00000000/00000000.wal.lz4");
		T_EQ_STR(l.v[1].key, "generations/bbbb/wal/00000000/00001000.wal.lz4");
		T_EQ_STR(l.v[2].key, "generations/bbbb/wal/00000001/00000000.wal.lz4");
		T_EQ_STR(l.v[3].key, "generations/bbbb/wal/00000002.wal.lz4");
	}
	replica_list_free(&l);

	/* a prefix that ends inside a name */
	T_EQ_INT(replica_list(r, "generations/bbbb/wal/0000000", &l, &err), LSC_OK);
	T_EQ_INT(l.n, 4);
	replica_list_free(&l);
	T_EQ_INT(replica_list(r, "generations/bbbb/wal/00000000/0000", &l, &err),
	    LSC_OK);
	T_EQ_INT(l.n, 2);
	replica_list_free(&l);
	T_EQ_INT(replica_list(r, "generations", &l, &err), LSC_OK);
	T_EQ_INT(l.n, 8);	/* "generationsX" matches too: a plain prefix */
	if (l.n == 8)
		T_EQ_STR(l.v[7].key, "generationsX");
	replica_list_free(&l);
	T_EQ_INT(replica_list(r, "generations/", &l, &err), LSC_OK);
	T_EQ_INT(l.n, 7);
	if (l.n == 7) {
		T_EQ_STR(l.v[0].key,
		    "generations/aaaa/snapshots/00000000.snapshot.lz4");
		T_EQ_STR(l.v[1].key, "generations/aaaa/wal/00000000/00000000.wal.lz4");
		T_EQ_STR(l.v[2].key,
		    "generations/bbbb/snapshots/00000001.snapshot.lz4");
	}
	replica_list_free(&l);
	/* an exact key is its own prefix */
	T_EQ_INT(replica_list(r, "other/file", &l, &err), LSC_OK);
	T_EQ_INT(l.n, 1);
	replica_list_free(&l);
	/* nothing matches */
	T_EQ_INT(replica_list(r, "generations/cccc/", &l, &err), LSC_OK);
	T_EQ_INT(l.n, 0);
	replica_list_free(&l);
	replica_free(r);

	/* a replica whose directory does not exist yet lists empty */
	{
		char *missing = fs_join(root, "not-created-yet");

		r = open_replica(missing);
		if (r != NULL) {
			T_EQ_INT(replica_list(r, "", &l, &err), LSC_OK);
			T_EQ_INT(l.n, 0);
			replica_list_free(&l);
			/* and the first put creates it */
			T_EQ_INT(replica_put_buf(r, "a/b", "x", 1, &err), LSC_OK);
			T_CHECK(exists(missing, "a/b"));
			replica_free(r);
		}
		free(missing);
	}
}

static void
test_delete(const char *root)
{
	struct replica *r = open_replica(root);
	struct lsc_err err = { 0 };
	const char *keys[3];

	if (r == NULL)
		return;
	T_EQ_INT(replica_put_buf(r, "d/g1/wal/0/a", "1", 1, &err), LSC_OK);
	T_EQ_INT(replica_put_buf(r, "d/g1/wal/0/b", "2", 1, &err), LSC_OK);
	T_EQ_INT(replica_put_buf(r, "d/g1/snap/s", "3", 1, &err), LSC_OK);
	T_EQ_INT(replica_put_buf(r, "top", "4", 1, &err), LSC_OK);

	keys[0] = "d/g1/wal/0/a";
	keys[1] = "d/g1/missing";	/* missing: not an error */
	T_EQ_INT(replica_delete(r, keys, 2, &err), LSC_OK);
	T_CHECK(!exists(root, "d/g1/wal/0/a"));
	T_CHECK(exists(root, "d/g1/wal/0/b"));
	/* the last object in a directory: the empty directories go too */
	keys[0] = "d/g1/wal/0/b";
	T_EQ_INT(replica_delete(r, keys, 1, &err), LSC_OK);
	T_CHECK(!exists(root, "d/g1/wal/0"));
	T_CHECK(!exists(root, "d/g1/wal"));
	T_CHECK(exists(root, "d/g1/snap/s"));
	keys[0] = "d/g1/snap/s";
	keys[1] = "top";
	keys[2] = "never/was";
	T_EQ_INT(replica_delete(r, keys, 3, &err), LSC_OK);
	T_CHECK(!exists(root, "d"));
	T_CHECK(!exists(root, "top"));
	/* the root itself stays */
	T_CHECK(access(root, F_OK) == 0);
	T_EQ_INT(replica_delete(r, keys, 0, &err), LSC_OK);
	T_EQ_INT(err.code, LSC_OK);
	replica_free(r);
}

static void
test_bad_keys(const char *root)
{
	struct replica *r = open_replica(root);
	static const char *const bad[] = {
		"../escape", "a/../../escape", "/etc/passwd", "..", "a/..", "",
		"/abs",
	};
	char *outside;

	if (r == NULL)
		return;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lsc_err err = { 0 };
		struct replica_put *p = NULL;
		struct count_sink s;
		const char *k[1] = { bad[i] };

		T_CHECK(replica_put_buf(r, bad[i], "x", 1, &err) != LSC_OK);
		T_CHECK(err.code != LSC_OK && strstr(err.msg, "refusing") != NULL);
		lsc_err_clear(&err);
		T_CHECK(replica_put_begin(r, bad[i], &p, &err) != LSC_OK);
		T_CHECK(p == NULL);
		lsc_err_clear(&err);
		buf_init(&s.b, 16);
		T_CHECK(replica_get(r, bad[i], sink, &s, &err) != LSC_OK);
		T_CHECK(err.code != LSC_ENOTFOUND && err.code != LSC_OK);
		buf_release(&s.b);
		lsc_err_clear(&err);
		T_CHECK(replica_delete(r, k, 1, &err) != LSC_OK);
	}
	/* nothing was written next to the root */
	outside = fs_join(tmpdir, "escape");
	T_CHECK(access(outside, F_OK) != 0);
	free(outside);
	replica_free(r);

	/* URLs that are not file:///absolute */
	{
		struct replica *bad_r = NULL;
		struct lsc_err err = { 0 };

		T_EQ_INT(replica_open("file://relative/dir", NULL, 0, &bad_r, &err),
		    LSC_ECONFIG);
		T_CHECK(bad_r == NULL);
		lsc_err_clear(&err);
		T_EQ_INT(replica_open("ftp://x/y", NULL, 0, &bad_r, &err),
		    LSC_ECONFIG);
		T_CHECK(bad_r == NULL);
	}
}

int
main(void)
{
	char *root;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	/* a trailing slash in the URL is fine */
	root = fs_join(tmpdir, "replica/");
	{
		struct replica *r = open_replica(root);

		if (r != NULL) {
			char *want = xasprintf("file://%s/replica", tmpdir);

			T_EQ_STR(r->url, want);
			free(want);
		}
		replica_free(r);
		replica_free(NULL);
	}
	free(root);
	root = fs_join(tmpdir, "replica");
	test_put_get(root);
	test_abort(root);
	free(root);
	root = fs_join(tmpdir, "list");
	test_list(root);
	free(root);
	root = fs_join(tmpdir, "del");
	T_EQ_INT(fs_mkdir_p(root, 0755, NULL), LSC_OK);
	test_delete(root);
	test_bad_keys(root);
	free(root);
	fs_remove_tree(tmpdir, NULL);
	return t_done();
}
