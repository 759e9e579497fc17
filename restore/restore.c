/* SPDX-License-Identifier: MIT */
/*
 * Building the output file from a plan (contract in restore.h).  The
 * order of the last steps matters: the data is checked and fsynced before
 * the rename makes it visible, and the directory is fsynced after it, so
 * a crash leaves either no output or the complete, checked database.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/apply.h"
#include "restore/objread.h"
#include "restore/restore.h"

/* `path` as an SQLite URI: file:// + the absolute path, %-escaped. */
static char *
sqlite_uri(const char *path)
{
	char *abs = fs_abspath(path), *out, *o;
	static const char hex[] = "0123456789abcdef";
	static const char scheme[] = "file://", query[] = "?mode=ro&immutable=1";

	out = o = xmalloc(strlen(scheme) + 3 * strlen(abs) + sizeof(query));
	memcpy(o, scheme, strlen(scheme));
	o += strlen(scheme);
	for (const unsigned char *p = (const unsigned char *)abs; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/._-~", *p) != NULL) {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	memcpy(o, query, sizeof(query));	/* with its NUL */
	free(abs);
	return out;
}

int
restore_open_readonly(const char *path, sqlite3 **out, struct lsc_err *err)
{
	char *uri = sqlite_uri(path);
	sqlite3 *db = NULL;
	int src;

	/* immutable: no locks, no -wal or -shm; the file is ours alone. */
	src = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	    NULL);
	free(uri);
	if (src != SQLITE_OK) {
		src = lsc_seterr(err, LSC_ESQLITE, src, "cannot open '%s': %s",
		    path, db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
		sqlite3_close(db);
		return src;
	}
	*out = db;
	return LSC_OK;
}

int
restore_check_integrity(const char *path, struct lsc_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, src;

	if ((rc = restore_open_readonly(path, &db, err)) != LSC_OK)
		return rc;
	src = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (src == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);

		if (res != NULL && strcmp(res, "ok") == 0)
			rc = LSC_OK;
		else
			rc = lsc_seterr(err, LSC_ECORRUPT, 0,
			    "the restored database '%s' fails integrity_check: %s",
			    path, res ? res : "(null)");
	} else {
		rc = lsc_seterr(err, LSC_ESQLITE, src,
		    "cannot check the restored database '%s': %s", path,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* Remove `<path>-wal` and `<path>-shm`, which must not outlive us. */
static void
remove_sidecars(const char *path)
{
	char *p;

	p = xasprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", path);
	unlink(p);
	free(p);
}

/* rename(2) that never replaces an existing `to`. */
static int
rename_noreplace(const char *from, const char *to, struct lsc_err *err)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return LSC_OK;
	if (errno == EEXIST)
		goto exists;
	if (errno != EINVAL && errno != ENOSYS)
		goto fail;
	/* The file system lacks RENAME_NOREPLACE: link(2) refuses too. */
	if (link(from, to) == 0) {
		unlink(from);
		return LSC_OK;
	}
	if (errno == EEXIST)
		goto exists;
	goto fail;
exists:
	return lsc_seterr(err, LSC_EEXIST, EEXIST,
	    "cannot restore: '%s' appeared meanwhile; not overwriting it", to);
fail:
	return lsc_seterr(err, LSC_EIO, errno, "cannot rename '%s' to '%s': %s",
	    from, to, strerror(errno));
}

static int
apply_segments(struct replica *r, struct objread *o,
    const struct restore_plan *p, struct db_apply *a, struct lsc_err *err)
{
	char why[LSC_ERRLEN];
	int rc = LSC_OK;

	for (size_t i = 0; rc == LSC_OK && i < p->nseg; i++) {
		const struct cat_obj *s = p->segs[i];
		uint64_t cap;

		if (i == 0 || s->index != p->segs[i - 1]->index) {
			if (i > 0 && (rc = apply_index_end(a, err)) != LSC_OK)
				break;
			apply_index_begin(a, s->index);
		}
		log_debug("applying WAL segment\tkey=%s", s->key);
		cap = objread_segment_cap(s, p->gen->segs + p->gen->nseg, why,
		    sizeof(why));
		if ((rc = apply_segment_begin(a, s->key, s->offset, err)) == LSC_OK)
			rc = objread_fetch(o, r, s->key, cap, why, apply_wal_feed, a,
			    err);
	}
	if (rc == LSC_OK && p->nseg > 0)
		rc = apply_index_end(a, err);
	return rc;
}

int
restore_build(struct replica *r, const struct restore_plan *p,
    const char *output, volatile sig_atomic_t *stop,
    struct restore_stats *st, struct lsc_err *err)
{
	return restore_build_flags(r, p, output, 0, stop, st, err);
}

int
restore_build_flags(struct replica *r, const struct restore_plan *p,
    const char *output, unsigned flags, volatile sig_atomic_t *stop,
    struct restore_stats *st, struct lsc_err *err)
{
	char *dir = fs_dirname(output);
	char *tmp = xasprintf("%s.lsc-tmp-%d", output, (int)getpid());
	struct lsc_err dirr = { 0 };
	struct db_apply a;
	struct objread o;
	char why[LSC_ERRLEN];
	int fd = -1, rc;

	/* Encrypted or plain, one kind per generation (objread.h). */
	objread_init(&o, p->age_identity_file);
	apply_init(&a, -1, dir, p->gen->id);
	a.stop = stop;
	a.path = output;
	if ((rc = fs_mkdir_p(dir, 0755, err)) != LSC_OK)
		goto out;
	remove_sidecars(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot create '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	a.fd = fd;
	log_info("restoring\tgeneration=%s snapshot=%s segments=%zu", p->gen->id,
	    p->snap->key, p->nseg);
	apply_snapshot_begin(&a, p->snap->key);
	snprintf(why, sizeof(why), "255 times its listed size of %llu bytes",
	    (unsigned long long)p->snap->size);
	if ((rc = objread_fetch(&o, r, p->snap->key,
	    objread_inflate_cap(p->snap->size), why, apply_snapshot_feed, &a,
	    err)) != LSC_OK || (rc = apply_snapshot_end(&a, err)) != LSC_OK ||
	    (rc = apply_segments(r, &o, p, &a, err)) != LSC_OK)
		goto out;
	if (!(flags & RESTORE_NO_CHECK) &&
	    (rc = restore_check_integrity(tmp, err)) != LSC_OK)
		goto out;
	remove_sidecars(tmp);
	if (!(flags & RESTORE_NO_SYNC) && fsync(fd) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot fsync '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot close '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if ((rc = rename_noreplace(tmp, output, err)) != LSC_OK)
		goto out;
	/* The data is already durable; only the rename could be lost. */
	if (!(flags & RESTORE_NO_SYNC) && fs_fsync_dir(dir, &dirr) != LSC_OK)
		log_warn("%s", dirr.msg);
	if (st != NULL) {
		st->db_bytes = (uint64_t)a.db_pages * a.page_size;
		st->page_size = a.page_size;
		st->segments = p->nseg;
		st->indexes = a.indexes;
		st->frames = a.frames;
		st->commits = a.commits;
		st->dropped_frames = a.dropped_frames;
		st->dropped_bytes = a.dropped_bytes;
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc != LSC_OK && a.fd >= 0) {
		unlink(tmp);
		remove_sidecars(tmp);
	}
	apply_release(&a);
	objread_release(&o);
	free(tmp);
	free(dir);
	return rc;
}
