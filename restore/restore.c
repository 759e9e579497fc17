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
#include <pthread.h>
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
#include "restore/rstream.h"

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

/* What the commit window saved, for whoever profiles a restore. */
static void
log_cache_stats(const struct db_apply *a)
{
	struct pcache_stats st;

	if (a->pc == NULL)
		return;
	pcache_get_stats(a->pc, &st);
	log_debug("page cache\tframes=%" PRIu64 " pages_written=%" PRIu64
	    " windows=%" PRIu64 " spilled=%" PRIu64, st.frames,
	    st.pages_written, st.flushes, st.spilled);
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

/* Object `i` of the plan (0 the snapshot, then the segments) begins. */
static int
object_begin(const struct restore_plan *p, size_t i, struct db_apply *a,
    struct lsc_err *err)
{
	const struct cat_obj *s;
	int rc;

	if (i == 0) {
		apply_snapshot_begin(a, p->snap->key);
		return LSC_OK;
	}
	s = p->segs[i - 1];
	if (i == 1 || s->index != p->segs[i - 2]->index) {
		if (i > 1 && (rc = apply_index_end(a, err)) != LSC_OK)
			return rc;
		apply_index_begin(a, s->index);
	}
	log_debug("applying WAL segment\tkey=%s", s->key);
	return apply_segment_begin(a, s->key, s->offset, err);
}

/*
 * Read the plan's objects in a thread (rstream.h) and apply their bytes
 * here as they come, in plan order.
 */
static int
apply_objects(struct replica *r, struct objread *o,
    const struct restore_plan *p, struct db_apply *a, const char *dir,
    volatile sig_atomic_t *stop, struct lsc_err *err)
{
	size_t n = 1 + p->nseg, cur = SIZE_MAX;
	const char **keys = xcalloc(n, sizeof(*keys));
	uint64_t *sizes = xcalloc(n, sizeof(*sizes));
	uint64_t *caps = xcalloc(n, sizeof(*caps));
	char **whys = xcalloc(n, sizeof(*whys));
	struct rstream_opts opts = { 0 };
	struct rstream *s = NULL;
	int rc;

	char why[LSC_ERRLEN];

	keys[0] = p->snap->key;
	sizes[0] = p->snap->size;
	caps[0] = objread_object_cap(p->snap->size, why, sizeof(why));
	whys[0] = xstrdup(why);
	for (size_t i = 0; i < p->nseg; i++) {
		keys[i + 1] = p->segs[i]->key;
		sizes[i + 1] = p->segs[i]->size;
		caps[i + 1] = objread_segment_cap(p->segs[i],
		    p->gen->segs + p->gen->nseg, why, sizeof(why));
		whys[i + 1] = xstrdup(why);
	}
	opts.caps = caps;
	opts.whys = (const char *const *)whys;
	/* A local replica reads faster than it could be copied. */
	if (strcmp(r->ops->type, "file") != 0) {
		opts.sizes = sizes;
		opts.fetchers = RESTORE_FETCHERS;
		opts.spool_budget = RESTORE_SPOOL_BUDGET;
		opts.spool_dir = dir;
	}
	if ((rc = rstream_start(&s, r, o, keys, n, &opts, stop, err)) != LSC_OK)
		goto out;
	for (;;) {
		const struct rstream_piece *pc = rstream_next(s);

		if (pc->obj != cur) {
			cur = pc->obj;
			if ((rc = object_begin(p, cur, a, err)) != LSC_OK)
				break;
		}
		if (pc->end) {
			if (pc->rc != LSC_OK) {
				rc = lsc_seterr(err, pc->rc, pc->err.sys, "%s",
				    pc->err.msg);
				break;
			}
			if (cur == 0 && (rc = apply_snapshot_end(a, err)) != LSC_OK)
				break;
			if (cur + 1 == n)
				break;
			continue;
		}
		rc = cur == 0 ? apply_snapshot_feed(a, pc->data, pc->len, err) :
		    apply_wal_feed(a, pc->data, pc->len, err);
		if (rc != LSC_OK)
			break;
	}
	if (rc == LSC_OK && p->nseg > 0)
		rc = apply_index_end(a, err);
out:
	rstream_free(s);
	for (size_t i = 0; i < n; i++)
		free(whys[i]);
	free(whys);
	free(caps);
	free(sizes);
	free(keys);
	return rc;
}

/* fsync(2) in a thread of its own, beside the integrity check. */
struct bg_sync {
	pthread_t	 th;
	int		 fd;
	int		 rc;		/* 0 or an errno */
};

static void *
bg_sync_run(void *arg)
{
	struct bg_sync *b = arg;

	b->rc = fsync(b->fd) == 0 ? 0 : errno;
	return NULL;
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
	struct bg_sync sync = { .fd = -1 };
	struct db_apply a;
	struct objread o;
	int fd = -1, rc, sync_started = 0;

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
	if ((rc = apply_objects(r, &o, p, &a, dir, stop, err)) != LSC_OK)
		goto out;
	log_cache_stats(&a);
	/* Their buffers are done with: not to add to SQLite's below. */
	apply_release(&a);
	objread_release(&o);
	/*
	 * The file is complete: check it while the kernel writes it out.
	 * Both must succeed before the rename below makes it visible.
	 */
	sync.fd = fd;
	if (!(flags & RESTORE_NO_SYNC) &&
	    pthread_create(&sync.th, NULL, bg_sync_run, &sync) == 0)
		sync_started = 1;
	else if (!(flags & RESTORE_NO_SYNC))
		bg_sync_run(&sync);	/* no thread: here, first */
	if (!(flags & RESTORE_NO_CHECK))
		rc = restore_check_integrity(tmp, err);
	if (sync_started) {
		pthread_join(sync.th, NULL);
		sync_started = 0;
	}
	if (rc != LSC_OK)
		goto out;
	remove_sidecars(tmp);
	if (sync.rc != 0) {
		rc = lsc_seterr(err, LSC_EIO, sync.rc, "cannot fsync '%s': %s", tmp,
		    strerror(sync.rc));
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
