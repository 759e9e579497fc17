/* SPDX-License-Identifier: MIT */
/* File helpers and clocks: see fsutil.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/crashpoint.h"
#include "common/fsutil.h"
#include "common/xmalloc.h"

ssize_t
read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

ssize_t
pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got,
		    off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
write_full(int fd, const void *buf, size_t n)
{
	size_t put = 0;

	while (put < n) {
		ssize_t w = write(fd, (const char *)buf + put, n - put);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

int
pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
	size_t put = 0;

	while (put < n) {
		ssize_t w = pwrite(fd, (const char *)buf + put, n - put,
		    off + (off_t)put);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

int
fs_fsync_dir(const char *dir, struct lsc_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return lsc_seterr(err, LSC_EIO, errno, "cannot open directory '%s': %s",
		    dir, strerror(errno));
	if (fsync(fd) != 0) {
		int e = errno;

		close(fd);
		return lsc_seterr(err, LSC_EIO, e, "cannot fsync directory '%s': %s",
		    dir, strerror(e));
	}
	close(fd);
	return LSC_OK;
}

int
fs_mkdir_p(const char *path, mode_t mode, struct lsc_err *err)
{
	char *p = xstrdup(path);
	int rc = LSC_OK;

	for (char *s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) == 0) {
			/* Exactly `mode`: the umask may have taken bits off. */
			if (chmod(p, mode) != 0) {
				rc = lsc_seterr(err, LSC_EIO, errno,
				    "cannot chmod '%s': %s", p, strerror(errno));
				break;
			}
		} else if (errno != EEXIST) {
			rc = lsc_seterr(err, LSC_EIO, errno,
			    "cannot create directory '%s': %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

mode_t
fs_copy_file_mode(mode_t db_mode)
{
	return db_mode & 0666;
}

mode_t
fs_copy_dir_mode(mode_t db_mode)
{
	mode_t m = db_mode & 0666;

	return m | (m & 0444) >> 2;	/* x where r */
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct lsc_err *err)
{
	char *tmp = xasprintf("%s.tmp", path);
	char *dir = fs_dirname(path);
	int fd, rc = LSC_OK;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot create '%s': %s",
		    tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (write_full(fd, data, len) != 0 || fsync(fd) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot write '%s': %s",
		    tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot rename '%s': %s",
		    tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	CRASHPOINT("fs.after-rename");
	/* The rename is only durable once the directory entry is. */
	rc = fs_fsync_dir(dir, err);
out:
	free(tmp);
	free(dir);
	return rc;
}

int
fs_read_small(const char *path, size_t max, char **out, size_t *len,
    struct lsc_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;
	ssize_t n;

	if (fd < 0)
		return lsc_seterr(err, errno == ENOENT ? LSC_ENOTFOUND : LSC_EIO,
		    errno, "cannot open '%s': %s", path, strerror(errno));
	s = xmalloc(max + 1);
	n = read_full(fd, s, max + 1);
	close(fd);
	if (n < 0 || (size_t)n > max) {
		free(s);
		if (n < 0)
			return lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s",
			    path, strerror(errno));
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "'%s' is larger than %zu bytes", path, max);
	}
	s[n] = '\0';
	*out = s;
	if (len != NULL)
		*len = (size_t)n;
	return LSC_OK;
}

int
fs_remove_tree(const char *path, struct lsc_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc = LSC_OK;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? LSC_OK : lsc_seterr(err, LSC_EIO, errno,
		    "cannot stat '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) != 0 && errno != ENOENT)
			return lsc_seterr(err, LSC_EIO, errno,
			    "cannot remove '%s': %s", path, strerror(errno));
		return LSC_OK;
	}
	if ((d = opendir(path)) == NULL)
		return lsc_seterr(err, LSC_EIO, errno, "cannot open '%s': %s",
		    path, strerror(errno));
	while (rc == LSC_OK && (de = readdir(d)) != NULL) {
		char *child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		child = fs_join(path, de->d_name);
		rc = fs_remove_tree(child, err);
		free(child);
	}
	closedir(d);
	if (rc == LSC_OK && rmdir(path) != 0 && errno != ENOENT)
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot remove '%s': %s",
		    path, strerror(errno));
	return rc;
}

char *
fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

const char *
fs_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? path : slash + 1;
}

char *
fs_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	while (n > 1 && a[n - 1] == '/')
		n--;
	while (*b == '/')
		b++;
	if (n == 1 && a[0] == '/')
		return xasprintf("/%s", b);
	return xasprintf("%.*s/%s", (int)n, a, b);
}

char *
fs_abspath(const char *path)
{
	char cwd[4096];

	if (path[0] == '/')
		return xstrdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	if (strncmp(path, "./", 2) == 0)
		path += 2;
	return fs_join(cwd, path);
}

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fmt_rfc3339(int64_t ns, int frac, char *out, size_t n)
{
	time_t sec = (time_t)(ns / 1000000000);
	long nsec = (long)(ns % 1000000000);
	struct tm tm;
	char base[32];

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(out, n, "%s.%09ldZ", base, nsec);
	else
		snprintf(out, n, "%sZ", base);
}

int
parse_rfc3339(const char *s, int64_t *ns)
{
	struct tm tm;
	const char *p;
	int64_t frac = 0, scale = 1000000000, off = 0;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		int digits = 0;

		for (p++; isdigit((unsigned char)*p); p++, digits++) {
			if (digits < 9) {
				frac = frac * 10 + (*p - '0');
				scale /= 10;
			}
		}
		if (digits == 0)
			return -1;
		frac *= scale;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
	    isdigit((unsigned char)p[2]) && p[3] == ':' &&
	    isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		    ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '+')
			off = -off;
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	*ns = ((int64_t)timegm(&tm) + off) * 1000000000 + frac;
	return 0;
}
