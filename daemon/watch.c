/* SPDX-License-Identifier: MIT */
/*
 * Directory watches (see watch.h).  Watches are kept in an array indexed
 * by watch descriptor (the kernel hands them out counting up from 1);
 * each holds its database base names sorted, so an event finds its
 * database by binary search even with thousands in one directory.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/xmalloc.h"
#include "daemon/watch.h"

#define DIR_MASK (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct entry {
	char	*base;
	void	*owner;
};

struct wdir {
	struct entry *v;
	size_t	 n, cap;
	int	 file;		/* a file watch (watch_add_file): every entry
				 * is an owner of that one file */
};

struct watcher {
	int	 fd;
	struct wdir *dirs;	/* indexed by watch descriptor */
	size_t	 ndirs;
};

struct watcher *
watch_new(struct lsc_err *err)
{
	struct watcher *w;
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd < 0) {
		lsc_seterr(err, LSC_EIO, errno, "inotify_init1: %s%s",
		    strerror(errno), errno == EMFILE ? " (too many inotify "
		    "instances: raise fs.inotify.max_user_instances)" : "");
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	return w;
}

void
watch_free(struct watcher *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->ndirs; i++) {
		for (size_t j = 0; j < w->dirs[i].n; j++)
			free(w->dirs[i].v[j].base);
		free(w->dirs[i].v);
	}
	free(w->dirs);
	close(w->fd);
	free(w);
}

int
watch_fd(const struct watcher *w)
{
	return w->fd;
}

/* Split "/a/b/app.db" into a directory and a base name (both owned). */
static void
split(const char *path, char **dir, char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*dir = xstrdup(".");
		*base = xstrdup(path);
	} else {
		*dir = slash == path ? xstrdup("/") :
		    xstrndup(path, (size_t)(slash - path));
		*base = xstrdup(slash + 1);
	}
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->base,
	    ((const struct entry *)b)->base);
}

static struct entry *
find(struct wdir *d, const char *base)
{
	struct entry key = { (char *)base, NULL };

	if (d->n == 0)
		return NULL;
	return bsearch(&key, d->v, d->n, sizeof(*d->v), cmp_entry);
}

/* The watch descriptor's entry, growing the array as needed. */
static struct wdir *
slot(struct watcher *w, int wd)
{
	if ((size_t)wd >= w->ndirs) {
		size_t n = (size_t)wd + 1 > w->ndirs * 2 ? (size_t)wd + 1 :
		    w->ndirs * 2;

		w->dirs = xreallocarray(w->dirs, n, sizeof(*w->dirs));
		memset(w->dirs + w->ndirs, 0, (n - w->ndirs) * sizeof(*w->dirs));
		w->ndirs = n;
	}
	return &w->dirs[wd];
}

static void
append(struct wdir *d, char *base, void *owner)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 4;
		d->v = xreallocarray(d->v, d->cap, sizeof(*d->v));
	}
	d->v[d->n].base = base;
	d->v[d->n].owner = owner;
	d->n++;
}

/* Drop entry `e` of watch `wd`, and the watch with its last entry. */
static void
drop(struct watcher *w, size_t wd, struct entry *e)
{
	struct wdir *d = &w->dirs[wd];

	free(e->base);
	memmove(e, e + 1, (size_t)(d->v + d->n - (e + 1)) * sizeof(*e));
	if (--d->n == 0) {
		inotify_rm_watch(w->fd, (int)wd);
		free(d->v);
		memset(d, 0, sizeof(*d));
	}
}

int
watch_add(struct watcher *w, const char *db_path, void *owner,
    struct lsc_err *err)
{
	char *dir, *base;
	struct wdir *d;
	int wd;

	split(db_path, &dir, &base);
	wd = inotify_add_watch(w->fd, dir, DIR_MASK);
	if (wd < 0) {
		int e = errno;

		lsc_seterr(err, LSC_EIO, e, "cannot watch directory '%s': %s%s",
		    dir, strerror(e), e == ENOSPC ? " (inotify watch limit: "
		    "raise fs.inotify.max_user_watches)" : "");
		free(dir);
		free(base);
		return LSC_EIO;
	}
	free(dir);
	d = slot(w, wd);
	if (find(d, base) != NULL) {
		free(base);
		return lsc_seterr(err, LSC_ECONFIG, 0, "database '%s' is "
		    "watched twice", db_path);
	}
	append(d, base, owner);
	qsort(d->v, d->n, sizeof(*d->v), cmp_entry);
	return LSC_OK;
}

int
watch_add_file(struct watcher *w, const char *path, void *owner,
    struct lsc_err *err)
{
	/* IN_CLOSE_WRITE: the holder keeps the lock file open for writing
	 * until it lets go, and the kernel closes it when the holder dies. */
	int wd = inotify_add_watch(w->fd, path, IN_CLOSE_WRITE |
	    IN_DELETE_SELF | IN_MOVE_SELF);
	struct wdir *d;

	if (wd < 0)
		return lsc_seterr(err, LSC_EIO, errno, "cannot watch '%s': %s",
		    path, strerror(errno));
	d = slot(w, wd);
	d->file = 1;		/* a file's inode is never a watched directory */
	append(d, xstrdup(""), owner);
	return LSC_OK;
}

void
watch_remove_file(struct watcher *w, void *owner)
{
	for (size_t wd = 0; wd < w->ndirs; wd++) {
		struct wdir *d = &w->dirs[wd];

		if (!d->file)
			continue;
		for (size_t i = 0; i < d->n; i++) {
			if (d->v[i].owner == owner) {
				drop(w, wd, &d->v[i]);
				return;
			}
		}
	}
}

void
watch_remove(struct watcher *w, const char *db_path, void *owner)
{
	char *dir, *base;

	split(db_path, &dir, &base);
	free(dir);
	for (size_t wd = 0; wd < w->ndirs; wd++) {
		struct wdir *d = &w->dirs[wd];
		struct entry *e = d->file ? NULL : find(d, base);

		if (e == NULL || e->owner != owner)
			continue;
		/* With the last database of this directory, the watch goes. */
		drop(w, wd, e);
		break;
	}
	free(base);
}

/* One event: which database, and what happened to it. */
static void
dispatch(struct watcher *w, const struct inotify_event *ev, watch_fn fn,
    void *ctx)
{
	struct wdir *d;
	struct entry *e;
	char base[NAME_MAX + 1];
	size_t len;
	int what;

	if (ev->mask & IN_Q_OVERFLOW) {
		fn(ctx, NULL, WATCH_LOST);
		return;
	}
	if (ev->wd < 0 || (size_t)ev->wd >= w->ndirs)
		return;
	d = &w->dirs[ev->wd];
	if (d->file) {
		/* A lock file: closed by a writer, or removed or moved. */
		for (size_t i = 0; i < d->n; i++)
			fn(ctx, d->v[i].owner, WATCH_LOCK);
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		/* The directory itself went: every database in it is gone
		 * or moved, which their next step finds out. */
		for (size_t i = 0; i < d->n; i++)
			fn(ctx, d->v[i].owner, WATCH_DB);
		return;
	}
	if (ev->len == 0)
		return;
	len = strnlen(ev->name, ev->len);
	if (len >= sizeof(base))
		return;
	memcpy(base, ev->name, len);
	base[len] = '\0';
	if (len > 4 && strcmp(base + len - 4, "-wal") == 0) {
		base[len - 4] = '\0';
		what = WATCH_WAL;
	} else if (ev->mask & IN_MODIFY) {
		/* A write to the database file (a checkpoint): no new commit,
		 * but the first page of a database being created. */
		what = WATCH_DBWRITE;
	} else {
		what = WATCH_DB;
	}
	if ((e = find(d, base)) != NULL)
		fn(ctx, e->owner, what);
}

void
watch_read(struct watcher *w, watch_fn fn, void *ctx)
{
	/* Aligned as the kernel's struct inotify_event needs. */
	char buf[64 * 1024]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	for (int rounds = 0; rounds < 64; rounds++) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n <= 0)
			return;	/* EAGAIN: all read */
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			dispatch(w, ev, fn, ctx);
			p += sizeof(*ev) + ev->len;
		}
	}
}
