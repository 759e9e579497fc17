/* SPDX-License-Identifier: MIT */
/*
 * File helpers that handle EINTR and short reads/writes, and the one way we
 * replace a file: write a temp file beside it, fsync it, rename it over the
 * target, fsync the directory (so the rename itself survives a power cut).
 */
#ifndef LSC_FSUTIL_H
#define LSC_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

/* Read up to n bytes; fewer only at EOF. Returns bytes read or -1 (errno). */
ssize_t	read_full(int fd, void *buf, size_t n);
ssize_t	pread_full(int fd, void *buf, size_t n, off_t off);
/* Write all n bytes. Returns 0 or -1 (errno). */
int	write_full(int fd, const void *buf, size_t n);
int	pwrite_full(int fd, const void *buf, size_t n, off_t off);

/* fsync the directory holding `path` (or `path` itself when it is a dir). */
int	fs_fsync_dir(const char *dir, struct lsc_err *err);
/* mkdir -p; each directory it creates gets exactly `mode` (chmod after
 * mkdir, so the umask neither widens nor narrows it). */
int	fs_mkdir_p(const char *path, mode_t mode, struct lsc_err *err);
/*
 * Modes for copies of a database whose own mode is `db_mode`: files get
 * its permission bits, directories also x wherever it has r (0600 -> 0700,
 * 0640 -> 0750).  A private database never gets a world-readable copy.
 */
mode_t	fs_copy_file_mode(mode_t db_mode);
mode_t	fs_copy_dir_mode(mode_t db_mode);
/* Replace `path` atomically with `len` bytes (temp, fsync, rename, dir
 * fsync); the file gets exactly `mode`. */
int	fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, struct lsc_err *err);
/* Read a whole small file (at most max bytes) into a new NUL-terminated string. */
int	fs_read_small(const char *path, size_t max, char **out, size_t *len,
	    struct lsc_err *err);
/* Remove a directory tree (rm -rf); missing is not an error. */
int	fs_remove_tree(const char *path, struct lsc_err *err);

/* New string: the directory part of `path` ("." when none). */
char	*fs_dirname(const char *path);
/* Borrowed pointer into `path` at its last component. */
const char *fs_basename(const char *path);
/* New string: `a/b`, with exactly one slash between. */
char	*fs_join(const char *a, const char *b);
/* New string: `path` made absolute against the working directory. */
char	*fs_abspath(const char *path);

/* Wall clock in nanoseconds and a monotonic clock in milliseconds. */
int64_t	now_ns(void);
int64_t	mono_ms(void);
/* Format ns-since-epoch as RFC3339 UTC, e.g. 2026-11-24T12:00:00Z (seconds)
 * or with nanoseconds when `frac` is set. */
void	fmt_rfc3339(int64_t ns, int frac, char *out, size_t n);
/* Parse RFC3339 (Z or +hh:mm, optional fraction). 0 ok, -1 bad. */
int	parse_rfc3339(const char *s, int64_t *ns);

#endif
