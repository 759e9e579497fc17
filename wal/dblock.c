/* SPDX-License-Identifier: MIT */
/*
 * The per-database lock file (see dblock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/xmalloc.h"
#include "wal/dblock.h"

#define LOCK_NAME	"lock"

void
dblock_init(struct dblock *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

const char *
dblock_path(const struct dblock *l)
{
	return l->path;
}

static void
self(struct dblock_holder *h)
{
	h->pid = (long)getpid();
	if (gethostname(h->host, sizeof(h->host)) != 0)
		h->host[0] = '\0';
	h->host[sizeof(h->host) - 1] = '\0';
}

/* Read "<pid> <host>\n" from the file; anything else reads as unknown. */
static void
read_holder(int fd, struct dblock_holder *h)
{
	char buf[320], *end;
	ssize_t n = pread_full(fd, buf, sizeof(buf) - 1, 0);
	long pid;
	size_t hl;

	memset(h, 0, sizeof(*h));
	if (n <= 0)
		return;
	buf[n] = '\0';
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || pid <= 0 || *end != ' ')
		return;
	end++;
	hl = strcspn(end, "\n");
	if (hl >= sizeof(h->host))
		return;
	h->pid = pid;
	memcpy(h->host, end, hl);
	h->host[hl] = '\0';
}

/* Record who holds the lock now.  Best effort: the lock itself is the
 * flock, the text only helps a waiter name us. */
static void
write_holder(int fd)
{
	struct dblock_holder h;
	char buf[320];
	int n;

	self(&h);
	n = snprintf(buf, sizeof(buf), "%ld %s\n", h.pid, h.host);
	if (n > 0 && (size_t)n < sizeof(buf) && ftruncate(fd, 0) == 0)
		(void)pwrite_full(fd, buf, (size_t)n, 0);
}

int
dblock_try(struct dblock *l, const char *db_path, const char *meta_dir,
    struct dblock_holder *holder, struct lsc_err *err)
{
	if (l->held)
		return LSC_OK;
	if (l->fd < 0) {
		struct stat st;
		/* The state directory is a copy's home: as private as the
		 * database (shadow.h), whoever creates it first. */
		mode_t mode = fs_copy_file_mode(stat(db_path, &st) == 0 ?
		    st.st_mode : 0600);
		char *dir;
		int rc;

		if (meta_dir != NULL) {
			dir = xstrdup(meta_dir);
		} else {
			char *parent = fs_dirname(db_path);

			/* The same directory as shadow_init's. */
			dir = xasprintf("%s/.%s-litestream", parent,
			    fs_basename(db_path));
			free(parent);
		}
		rc = fs_mkdir_p(dir, fs_copy_dir_mode(mode), err);
		free(l->path);
		l->path = fs_join(dir, LOCK_NAME);
		free(dir);
		if (rc != LSC_OK)
			return rc;
		/* Read-write: the holder writes its name, and its close then
		 * raises IN_CLOSE_WRITE, which waiters watch for. */
		l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    mode);
		if (l->fd < 0)
			return lsc_seterr(err, LSC_EIO, errno, "cannot open lock "
			    "file '%s': %s", l->path, strerror(errno));
	}
	for (;;) {
		if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			if (holder != NULL)
				read_holder(l->fd, holder);
			return LSC_EBUSY;
		}
		return lsc_seterr(err, LSC_EIO, errno, "cannot lock '%s': %s",
		    l->path, strerror(errno));
	}
	l->held = 1;
	write_holder(l->fd);
	return LSC_OK;
}

const char *
dblock_holder_str(const struct dblock_holder *h, char *buf, size_t len)
{
	if (h->pid <= 0)
		snprintf(buf, len, "an unknown process");
	else if (h->host[0] == '\0')
		snprintf(buf, len, "pid %ld", h->pid);
	else
		snprintf(buf, len, "pid %ld on host %s", h->pid, h->host);
	return buf;
}

int
dblock_holder_is_self(const struct dblock_holder *h)
{
	struct dblock_holder me;

	self(&me);
	return h->pid == me.pid && strcmp(h->host, me.host) == 0;
}

void
dblock_release(struct dblock *l)
{
	if (l->fd >= 0) {
		if (l->held) {
			/* Forget our name first: a waiter that reads the file
			 * from now on must not take us for the holder. */
			if (ftruncate(l->fd, 0) != 0) {
				/* Best effort: the text is only a hint. */
			}
			flock(l->fd, LOCK_UN);
		}
		close(l->fd);
	}
	free(l->path);
	dblock_init(l);
}
