/* SPDX-License-Identifier: MIT */
/*
 * The file back end: object `key` is the file <dir>/<key>, the same tree
 * Litestream's file replica writes.  A put writes <file>.<pid>.tmp, fsyncs
 * it, renames it into place and fsyncs the directory, so an object either
 * exists whole or not at all, even across a power cut.  Listings skip
 * anything that is not a regular file and every *.tmp (Litestream ignores
 * them too), and keys that would escape the root are refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crashpoint.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "replica/replica_file.h"

#define GET_CHUNK (256 * 1024)

struct file_replica {
	struct replica	 base;		/* first: the interface */
	char		*dir;
};

struct replica_put {
	struct file_replica *r;
	char		*path;		/* final name */
	char		*tmp;
	int		 fd;
};

static const struct replica_ops file_ops;

/* Keys are ours (wal_layout) but check anyway: never leave the root. */
static int
check_key(const char *key, struct lsc_err *err)
{
	if (key[0] == '/' || strstr(key, "..") != NULL || key[0] == '\0')
		return lsc_seterr(err, LSC_ECORRUPT, 0, "refusing object key '%s'",
		    key);
	return LSC_OK;
}

static int
file_put_begin(struct replica *base, const char *key, struct replica_put **out,
    struct lsc_err *err)
{
	struct file_replica *r = (struct file_replica *)base;
	struct replica_put *p;
	char *parent;
	mode_t mode;
	int rc;

	if ((rc = check_key(key, err)) != LSC_OK)
		return rc;
	p = xcalloc(1, sizeof(*p));
	p->fd = -1;
	p->r = r;
	p->path = fs_join(r->dir, key);
	p->tmp = xasprintf("%s.%d.tmp", p->path, (int)getpid());
	parent = fs_dirname(p->path);
	mode = base->file_mode ? base->file_mode : 0600;
	rc = fs_mkdir_p(parent, fs_copy_dir_mode(mode), err);
	free(parent);
	if (rc == LSC_OK) {
		p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
		/* Exactly the mode, whatever the umask. */
		if (p->fd < 0 || fchmod(p->fd, mode) != 0)
			rc = lsc_seterr(err, LSC_EIO, errno, "cannot create '%s': %s",
			    p->tmp, strerror(errno));
		if (rc != LSC_OK && p->fd >= 0) {
			close(p->fd);
			unlink(p->tmp);
		}
	}
	if (rc != LSC_OK) {
		free(p->path);
		free(p->tmp);
		free(p);
		return rc;
	}
	*out = p;
	return LSC_OK;
}

static int
file_put_write(struct replica_put *p, const void *data, size_t len,
    struct lsc_err *err)
{
	if (write_full(p->fd, data, len) != 0)
		return lsc_seterr(err, LSC_EIO, errno, "cannot write '%s': %s",
		    p->tmp, strerror(errno));
	return LSC_OK;
}

static void
put_free(struct replica_put *p)
{
	free(p->path);
	free(p->tmp);
	free(p);
}

static void
file_put_abort(struct replica_put *p)
{
	if (p->fd >= 0)
		close(p->fd);
	unlink(p->tmp);
	put_free(p);
}

static int
file_put_commit(struct replica_put *p, struct lsc_err *err)
{
	char *dir;
	int rc;

	if (fsync(p->fd) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot fsync '%s': %s", p->tmp,
		    strerror(errno));
		file_put_abort(p);
		return rc;
	}
	/* Durable now: its pages in the page cache are of no further use to
	 * us, and keeping them would push the app's pages out (a replica is
	 * write-once; a restore reads it in another process).  Advice only. */
	(void)posix_fadvise(p->fd, 0, 0, POSIX_FADV_DONTNEED);
	close(p->fd);
	p->fd = -1;
	if (rename(p->tmp, p->path) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot rename '%s': %s", p->tmp,
		    strerror(errno));
		file_put_abort(p);
		return rc;
	}
	CRASHPOINT("file.after-rename");
	/* The object exists only once its directory entry is durable. */
	dir = fs_dirname(p->path);
	rc = fs_fsync_dir(dir, err);
	free(dir);
	put_free(p);
	return rc;
}

static int
file_get(struct replica *base, const char *key, lsc_sink_fn sink, void *ctx,
    struct lsc_err *err)
{
	struct file_replica *r = (struct file_replica *)base;
	char *path;
	unsigned char *chunk;
	struct stat st;
	uint64_t got = 0;
	int fd, rc;

	if ((rc = check_key(key, err)) != LSC_OK)
		return rc;
	path = fs_join(r->dir, key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = lsc_seterr(err, errno == ENOENT ? LSC_ENOTFOUND : LSC_EIO, errno,
		    "cannot open '%s': %s", path, strerror(errno));
		free(path);
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot stat '%s': %s", path,
		    strerror(errno));
		close(fd);
		free(path);
		return rc;
	}
	chunk = xmalloc(GET_CHUNK);
	for (;;) {
		ssize_t n = read_full(fd, chunk, GET_CHUNK);

		if (n < 0) {
			rc = lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s",
			    path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
		if ((rc = sink(ctx, chunk, (size_t)n, err)) != LSC_OK)
			break;
	}
	/* A file that shrank under us is a short object, not a success. */
	if (rc == LSC_OK && got != (uint64_t)st.st_size)
		rc = lsc_seterr(err, LSC_ECORRUPT, 0,
		    "'%s' changed size while being read", path);
	free(chunk);
	close(fd);
	free(path);
	return rc;
}

static int
list_dir(struct file_replica *r, const char *rel, const char *prefix,
    struct replica_list *out, struct lsc_err *err)
{
	char *path = rel[0] ? fs_join(r->dir, rel) : xstrdup(r->dir);
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = LSC_OK;

	if (d == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			free(path);
			return LSC_OK;
		}
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot list '%s': %s", path,
		    strerror(errno));
		free(path);
		return rc;
	}
	while (rc == LSC_OK && (de = readdir(d)) != NULL) {
		char *key, *full;
		struct stat st;
		size_t kl;

		if (de->d_name[0] == '.')
			continue;
		key = rel[0] ? xasprintf("%s/%s", rel, de->d_name) :
		    xstrdup(de->d_name);
		full = fs_join(r->dir, key);
		kl = strlen(key);
		if (lstat(full, &st) == 0) {
			size_t pl = strlen(prefix);

			if (S_ISDIR(st.st_mode)) {
				/* Descend only where the prefix can still match. */
				if (strncmp(key, prefix, kl < pl ? kl : pl) == 0)
					rc = list_dir(r, key, prefix, out, err);
			} else if (S_ISREG(st.st_mode) && strncmp(key, prefix, pl) == 0 &&
			    !(kl > 4 && strcmp(key + kl - 4, ".tmp") == 0)) {
				replica_list_add(out, key, (uint64_t)st.st_size,
				    (int64_t)st.st_mtim.tv_sec * 1000000000 +
				    st.st_mtim.tv_nsec);
			}
		}
		free(full);
		free(key);
	}
	closedir(d);
	free(path);
	return rc;
}

static int
file_list(struct replica *base, const char *prefix, struct replica_list *out,
    struct lsc_err *err)
{
	struct file_replica *r = (struct file_replica *)base;
	struct stat st;

	if (stat(r->dir, &st) != 0 && errno != ENOENT)
		return lsc_seterr(err, LSC_EIO, errno, "cannot read replica '%s': %s",
		    r->dir, strerror(errno));
	return list_dir(r, "", prefix, out, err);
}

/* Remove now-empty directories from `path`'s parent up to the root. */
static void
prune_empty_dirs(struct file_replica *r, const char *path)
{
	char *dir = fs_dirname(path);
	size_t rootlen = strlen(r->dir);

	while (strlen(dir) > rootlen && strncmp(dir, r->dir, rootlen) == 0) {
		char *up;

		if (rmdir(dir) != 0)
			break;
		up = fs_dirname(dir);
		free(dir);
		dir = up;
	}
	free(dir);
}

static int
file_del(struct replica *base, const char *const *keys, size_t n,
    struct lsc_err *err)
{
	struct file_replica *r = (struct file_replica *)base;
	int rc = LSC_OK;

	for (size_t i = 0; i < n && rc == LSC_OK; i++) {
		char *path;

		if ((rc = check_key(keys[i], err)) != LSC_OK)
			break;
		path = fs_join(r->dir, keys[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			rc = lsc_seterr(err, LSC_EIO, errno, "cannot delete '%s': %s",
			    path, strerror(errno));
		else
			prune_empty_dirs(r, path);
		free(path);
	}
	return rc;
}

static int
file_dup(struct replica *base, struct replica **out, struct lsc_err *err)
{
	return replica_file_open(((struct file_replica *)base)->dir, out, err);
}

static void
file_free(struct replica *base)
{
	struct file_replica *r = (struct file_replica *)base;

	free(r->dir);
	free(r->base.url);
	free(r);
}

static const struct replica_ops file_ops = {
	.type = "file",
	.put_begin = file_put_begin,
	.put_write = file_put_write,
	.put_commit = file_put_commit,
	.put_abort = file_put_abort,
	.get = file_get,
	.list = file_list,
	.del = file_del,
	.free = file_free,
	.dup = file_dup,
};

int
replica_file_open(const char *dir, struct replica **out, struct lsc_err *err)
{
	struct file_replica *r;
	size_t n = strlen(dir);

	if (dir[0] != '/')
		return lsc_seterr(err, LSC_ECONFIG, 0,
		    "replica directory '%s' must be absolute", dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	r = xcalloc(1, sizeof(*r));
	r->base.ops = &file_ops;
	r->dir = xstrndup(dir, n);
	r->base.url = xasprintf("file://%s", r->dir);
	*out = &r->base;
	return LSC_OK;
}
