/* SPDX-License-Identifier: MIT */
/*
 * The streaming apply engine (contract in apply.h).  The result is what
 * SQLite's own checkpoint of each index's WAL would leave in the database
 * file: every committed frame's page at (pgno - 1) * page_size, in log
 * order, then the file cut to the last commit's size.  With no file
 * (fd -1) the same checks run and only the writes are left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "restore/apply.h"

static const char sqlite_magic[16] = "SQLite format 3";	/* with its NUL */

void
apply_init(struct db_apply *a, int fd, const char *spool_dir, const char *gen)
{
	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->spool_dir = spool_dir;
	a->gen = gen;
	a->cache_mem = APPLY_CACHE_MEM;
	a->path = "";
}

void
apply_release(struct db_apply *a)
{
	if (a == NULL)
		return;
	free(a->vframe);
	pcache_free(a->pc);
	a->frame = a->vframe = NULL;
	a->pc = NULL;
}

static int
stopped(const struct db_apply *a, struct lsc_err *err)
{
	if (a->stop != NULL && *a->stop)
		return lsc_seterr(err, LSC_ESTOP, 0, "interrupted");
	return LSC_OK;
}

void
apply_snapshot_begin(struct db_apply *a, const char *key)
{
	a->snap_key = key;
	a->snap_len = 0;
}

/*
 * The snapshot's SQLite header, once its 100 bytes are in: the magic and
 * a valid page size, which *ps receives.  Checked as soon as they arrive,
 * so that a snapshot that is not a database (an LZ4 bomb of zeros, say)
 * is refused at once, not after all of it was written out.
 */
static int
check_dbhdr(const struct db_apply *a, uint32_t *ps, struct lsc_err *err)
{
	uint32_t p;

	if (a->snap_len < SQLITE_HDR_LEN ||
	    memcmp(a->dbhdr, sqlite_magic, sizeof(sqlite_magic)) != 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "snapshot '%s' is not a SQLite database (%s\"SQLite format "
		    "3\" header)", a->snap_key, a->snap_len < SQLITE_HDR_LEN ?
		    "shorter than a " : "no ");
	p = (uint32_t)a->dbhdr[16] << 8 | a->dbhdr[17];
	if (p == 1)
		p = 65536;
	if (p < WAL_MIN_PAGE || p > WAL_MAX_PAGE || (p & (p - 1)) != 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "snapshot '%s' has an invalid page size %" PRIu32, a->snap_key,
		    p);
	*ps = p;
	return LSC_OK;
}

int
apply_snapshot_feed(void *ctx, const void *data, size_t len,
    struct lsc_err *err)
{
	struct db_apply *a = ctx;
	uint32_t ps;
	int rc;

	if ((rc = stopped(a, err)) != LSC_OK)
		return rc;
	if (a->snap_len < SQLITE_HDR_LEN) {
		size_t n = SQLITE_HDR_LEN - a->snap_len;

		memcpy(a->dbhdr + a->snap_len, data, n < len ? n : len);
		if (len >= n) {
			a->snap_len += n;	/* for check_dbhdr, undone below */
			rc = check_dbhdr(a, &ps, err);
			a->snap_len -= n;
			if (rc != LSC_OK)
				return rc;
		}
	} else if ((rc = check_dbhdr(a, &ps, err)) != LSC_OK) {
		return rc;
	}
	/* No database is larger than SQLite's largest (2^32 - 2 pages). */
	if (a->snap_len >= SQLITE_HDR_LEN &&
	    (a->snap_len + len) / ps > SQLITE_MAX_PAGES)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "snapshot '%s' is larger than SQLite's largest database "
		    "(%" PRIu32 " pages of %" PRIu32 " bytes)", a->snap_key,
		    SQLITE_MAX_PAGES, ps);
	if (a->fd >= 0 &&
	    pwrite_full(a->fd, data, len, (off_t)a->snap_len) != 0)
		return lsc_seterr(err, LSC_EIO, errno,
		    "cannot write the restored database '%s': %s", a->path,
		    strerror(errno));
	a->snap_len += len;
	return LSC_OK;
}

int
apply_snapshot_end(struct db_apply *a, struct lsc_err *err)
{
	uint32_t ps;
	int rc;

	if ((rc = check_dbhdr(a, &ps, err)) != LSC_OK)
		return rc;
	if (a->snap_len % ps != 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "snapshot '%s' is %" PRIu64 " bytes, not a whole number of "
		    "%" PRIu32 "-byte pages", a->snap_key, a->snap_len, ps);
	apply_use_page_size(a, ps);
	a->db_pages = (uint32_t)(a->snap_len / ps);
	return LSC_OK;
}

void
apply_use_page_size(struct db_apply *a, uint32_t ps)
{
	a->page_size = ps;
	free(a->vframe);
	pcache_free(a->pc);
	a->frame = a->vframe = NULL;
	a->pc = NULL;
	if (a->fd < 0)		/* verify only: pending frames are not kept */
		a->frame = a->vframe = xmalloc(wal_frame_len(ps));
	else
		a->pc = pcache_new(a->fd, a->path, ps, a->cache_mem,
		    a->spool_dir);
}

void
apply_index_begin(struct db_apply *a, uint32_t index)
{
	a->index = index;
	a->key = NULL;
	a->pos = 0;
	a->have_hdr = 0;
	a->frame_have = 0;
	a->pend_frames = 0;
	a->commit_pages = 0;
	a->index_commits = 0;
	a->last_commit_end = 0;
}

int
apply_segment_begin(struct db_apply *a, const char *key, uint64_t offset,
    struct lsc_err *err)
{
	if (offset != a->pos)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "%s in generation %s index %08" PRIx32 ": expected offset %"
		    PRIu64 " (%" PRIx64 "), found %" PRIu64 " (%" PRIx64 ") in '%s'",
		    offset > a->pos ? "gap" : "overlap", a->gen, a->index, a->pos,
		    a->pos, offset, offset, key);
	a->key = key;
	return LSC_OK;
}

/* A whole frame is in a->frame; it started at index offset `at`. */
static int
frame_done(struct db_apply *a, uint64_t at, struct lsc_err *err)
{
	size_t flen = wal_frame_len(a->page_size);
	struct wal_frame_hdr fh;
	int rc;

	wal_frame_hdr_parse(a->frame, &fh);
	if (fh.salt1 != a->hdr.salt1 || fh.salt2 != a->hdr.salt2)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "corrupt WAL segment '%s': frame at offset %" PRIu64 " has "
		    "salts %08" PRIx32 "/%08" PRIx32 ", the index header %08" PRIx32
		    "/%08" PRIx32, a->key, at, fh.salt1, fh.salt2, a->hdr.salt1,
		    a->hdr.salt2);
	if (fh.pgno == 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "corrupt WAL segment '%s': frame at offset %" PRIu64 " has "
		    "page number 0", a->key, at);
	if (!wal_frame_check(&a->hdr, a->frame, a->s))
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "corrupt WAL segment '%s': frame at offset %" PRIu64 " breaks "
		    "the checksum chain", a->key, at);
	if (a->pc != NULL)
		pcache_add(a->pc);
	a->pend_frames++;
	if (fh.commit == 0)
		return LSC_OK;
	if (a->pc != NULL && (rc = pcache_commit(a->pc, err)) != LSC_OK)
		return rc;
	a->frames += a->pend_frames;
	a->pend_frames = 0;
	a->commit_pages = fh.commit;
	a->index_commits++;
	a->commits++;
	a->last_commit_end = at + flen;
	return LSC_OK;
}

int
apply_wal_feed(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct db_apply *a = ctx;
	const uint8_t *p = data;
	size_t flen = wal_frame_len(a->page_size);
	struct lsc_err e = { 0 };
	int rc;

	if ((rc = stopped(a, err)) != LSC_OK)
		return rc;
	while (len > 0) {
		size_t n;

		if (!a->have_hdr) {
			n = WAL_HDR_LEN - (size_t)a->pos;
			n = n < len ? n : len;
			memcpy(a->hdrbuf + a->pos, p, n);
			a->pos += n;
			p += n;
			len -= n;
			if (a->pos < WAL_HDR_LEN)
				continue;
			if ((rc = wal_hdr_parse(a->hdrbuf, &a->hdr, &e)) != LSC_OK)
				return lsc_seterr(err, rc, 0, "bad WAL header in '%s': %s",
				    a->key, e.msg);
			if (a->hdr.page_size != a->page_size)
				return lsc_seterr(err, LSC_ECORRUPT, 0,
				    "WAL header in '%s' has page size %" PRIu32 ", the "
				    "snapshot %" PRIu32, a->key, a->hdr.page_size,
				    a->page_size);
			a->s[0] = a->hdr.cksum1;
			a->s[1] = a->hdr.cksum2;
			a->have_hdr = 1;
			continue;
		}
		if (a->frame_have == 0 && a->pc != NULL &&
		    (rc = pcache_slot(a->pc, &a->frame, err)) != LSC_OK)
			return rc;
		n = flen - a->frame_have;
		n = n < len ? n : len;
		memcpy(a->frame + a->frame_have, p, n);
		a->frame_have += n;
		a->pos += n;
		p += n;
		len -= n;
		if (a->frame_have == flen) {
			a->frame_have = 0;
			if ((rc = frame_done(a, a->pos - flen, err)) != LSC_OK)
				return rc;
		}
	}
	return LSC_OK;
}

int
apply_index_end(struct db_apply *a, struct lsc_err *err)
{
	if (a->pos > 0 && !a->have_hdr)
		return lsc_seterr(err, LSC_ECORRUPT, 0,
		    "WAL index %08" PRIx32 " of generation %s ends inside its "
		    "header ('%s')", a->index, a->gen, a->key);
	if (a->pend_frames > 0 || a->frame_have > 0) {
		log_info("ignoring WAL after the last commit\tgeneration=%s "
		    "index=%08" PRIx32 " offset=%" PRIu64 " frames=%" PRIu64
		    " partial_bytes=%zu", a->gen, a->index, a->last_commit_end,
		    a->pend_frames, a->frame_have);
		a->dropped_frames += a->pend_frames;
		a->dropped_bytes += a->frame_have;
		a->dropped_key = a->key;
	}
	a->pend_frames = 0;
	a->frame_have = 0;
	if (a->pc != NULL) {
		int rc;

		/* The window ends with the index; pages past its end are cut. */
		pcache_drop(a->pc);
		if ((rc = pcache_flush(a->pc, a->index_commits > 0 ?
		    a->commit_pages : UINT32_MAX, err)) != LSC_OK)
			return rc;
	}
	if (a->index_commits > 0) {
		if (a->fd >= 0 &&
		    ftruncate(a->fd, (off_t)a->commit_pages * a->page_size) != 0)
			return lsc_seterr(err, LSC_EIO, errno,
			    "cannot truncate the restored database '%s': %s",
			    a->path, strerror(errno));
		a->db_pages = a->commit_pages;
	}
	a->indexes++;
	return LSC_OK;
}
