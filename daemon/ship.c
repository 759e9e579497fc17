/* SPDX-License-Identifier: MIT */
/*
 * Shipping: shadow WAL bytes become LZ4-framed segment objects
 * (generations/<gen>/wal/<index>_<offset>.wal.lz4) and the database file
 * becomes a snapshot object, streamed through the compressor into the
 * replica with memory bounded by one LZ4 block.
 *
 * Order matters for a point-in-time restore that must never mix states:
 * before a snapshot is uploaded, every WAL byte up to our pin's read mark
 * is uploaded (a checkpoint may have copied those frames' pages into the
 * database file we are about to snapshot).  Segment objects are never
 * overwritten with different bytes: a position is advanced only after the
 * replica accepted the object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/lz4frame.h"
#include "common/xmalloc.h"
#include "daemon/repl.h"
#include "wal/wal_layout.h"

#define READ_CHUNK	(1024 * 1024)

struct put_sink {
	struct replica		*replica;
	struct replica_put	*put;
};

static int
put_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct put_sink *s = ctx;

	return replica_put_write(s->replica, s->put, data, len, err);
}

/* Upload bytes [from, to) of file `fd` as one LZ4 object under `key`. */
static int
upload_range(struct repl *r, int fd, const char *what, uint64_t from,
    uint64_t to, const char *key, struct lsc_err *err)
{
	struct put_sink s = { r->replica, NULL };
	struct lz4w *w = NULL;
	unsigned char *chunk = NULL;
	uint64_t pos = from;
	int rc;

	if ((rc = replica_put_begin(r->replica, key, &s.put, err)) != LSC_OK)
		return rc;
	if ((w = lz4w_new(put_sink, &s, err)) == NULL) {
		rc = err != NULL ? err->code : LSC_EIO;
		goto fail;
	}
	chunk = xmalloc(READ_CHUNK);
	while (pos < to) {
		size_t want = to - pos < READ_CHUNK ? (size_t)(to - pos) : READ_CHUNK;
		ssize_t n = pread_full(fd, chunk, want, (off_t)pos);

		if (n < 0 || (size_t)n != want) {
			rc = lsc_seterr(err, LSC_EIO, n < 0 ? errno : 0,
			    "cannot read %s at offset %llu: %s", what,
			    (unsigned long long)pos, n < 0 ? strerror(errno) :
			    "file is shorter than expected");
			goto fail;
		}
		if ((rc = lz4w_write(w, chunk, want, err)) != LSC_OK)
			goto fail;
		pos += want;
	}
	if ((rc = lz4w_finish(w, err)) != LSC_OK)
		goto fail;
	lz4w_free(w);
	free(chunk);
	return replica_put_commit(r->replica, s.put, err);
fail:
	lz4w_free(w);
	free(chunk);
	replica_put_abort(r->replica, s.put);
	return rc;
}

/* Whole frames in the first `off` bytes of a shadow WAL file. */
static uint64_t
frames_in(uint64_t off, uint32_t page_size)
{
	if (off <= WAL_HDR_LEN || page_size == 0)
		return 0;
	return (off - WAL_HDR_LEN) / (WAL_FRAME_HDR_LEN + page_size);
}

int
repl_ship(struct repl *r, struct lsc_err *err)
{
	int rc;

	if (!r->pos_known && (rc = repl_find_position(r, err)) != LSC_OK)
		return rc;
	for (;;) {
		uint32_t idx = r->pos_index;
		int64_t size = idx == r->sh.index ? (int64_t)r->sh.size :
		    shadow_file_size(&r->sh, idx);
		char key[LAYOUT_KEY_MAX], *path;
		int fd;

		if (size < 0 || (uint64_t)size < r->pos_offset || idx > r->sh.index)
			return lsc_seterr(err, LSC_ECORRUPT, 0,
			    "shadow WAL index %08x is missing or shorter than the "
			    "replica position %llu", idx,
			    (unsigned long long)r->pos_offset);
		if ((uint64_t)size > r->pos_offset) {
			path = shadow_path(&r->sh, idx);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				rc = lsc_seterr(err, LSC_EIO, errno, "cannot open '%s': %s",
				    path, strerror(errno));
				free(path);
				return rc;
			}
			layout_wal_key(r->sh.gen, idx, r->pos_offset, key, sizeof(key));
			rc = upload_range(r, fd, path, r->pos_offset, (uint64_t)size,
			    key, err);
			close(fd);
			free(path);
			if (rc != LSC_OK) {
				/* Recompute from the replica next time (format §5.5). */
				r->pos_known = 0;
				return rc;
			}
			log_db(LOG_DEBUG, r->path, "wal segment written\tkey=%s size=%lld",
			    key, (long long)size - (long long)r->pos_offset);
			/* Every index of a generation has the same page size:
			 * changing it needs a new database file. */
			stat_add(&r->st.wal_bytes, (uint64_t)size - r->pos_offset);
			stat_add(&r->st.wal_frames, frames_in((uint64_t)size,
			    r->sh.dst.page_size) - frames_in(r->pos_offset,
			    r->sh.dst.page_size));
			stat_add(&r->st.segments, 1);
			r->pos_offset = (uint64_t)size;
		}
		if (idx == r->sh.index)
			break;
		r->pos_index++;
		r->pos_offset = 0;
	}
	/* Shadow files below the replica position are no longer needed. */
	shadow_prune(&r->sh, r->pos_index);
	repl_stats_publish(r);
	return LSC_OK;
}

int
repl_snapshot(struct repl *r, struct lsc_err *err)
{
	char key[LAYOUT_KEY_MAX];
	struct stat st;
	int fd = wal_db_fd(r->db), rc;

	/* WAL first: the file may hold pages of frames not yet shipped. */
	if ((rc = repl_ship(r, err)) != LSC_OK)
		return rc;
	if (fstat(fd, &st) != 0)
		return lsc_seterr(err, LSC_EIO, errno, "cannot stat '%s': %s", r->path,
		    strerror(errno));
	layout_snapshot_key(r->sh.gen, r->sh.index, key, sizeof(key));
	rc = upload_range(r, fd, r->path, 0, (uint64_t)st.st_size, key, err);
	if (rc != LSC_OK)
		return rc;
	r->have_snapshot = 1;
	r->last_snapshot_ns = now_ns();
	stat_add(&r->st.snapshots, 1);
	stat_add(&r->st.snapshot_bytes, (uint64_t)st.st_size);
	log_db(LOG_INFO, r->path, "snapshot written\tgeneration=%s index=%08x "
	    "size=%lld", r->sh.gen, r->sh.index, (long long)st.st_size);
	return LSC_OK;
}

struct count_sink {
	uint64_t	n;
};

static int
count_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	(void)data;
	(void)err;
	((struct count_sink *)ctx)->n += len;
	return LSC_OK;
}

struct lz4_into {
	struct lz4r	*r;
};

static int
feed_lz4(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	return lz4r_feed(((struct lz4_into *)ctx)->r, data, len, err);
}

/* The replica holds `key`, which we cannot have written: say so, and let
 * the caller start a new generation (LSC_ECORRUPT: continuity lost). */
static int
not_ours(struct repl *r, const char *key, const char *why,
    struct lsc_err *err)
{
	log_db(LOG_WARN, r->path, "the replica's last segment of this "
	    "generation is not ours\tkey=%s reason=\"%s\"", key, why);
	return lsc_seterr(err, LSC_ECORRUPT, 0, "replica segment '%s' is not "
	    "ours: %s", key, why);
}

/*
 * The end of segment `key` at (index, offset) of our generation: its
 * length, downloaded and decompressed.  We shipped it from our shadow
 * file of that index, so it cannot hold more than that file from
 * `offset` on: the download is capped there, so that a foreign object in
 * the bucket (an LZ4 bomb, a segment we never wrote, a key with a huge
 * offset) costs at most that much work and is refused, naming it.
 */
static int
segment_end(struct repl *r, const char *key, uint32_t index, uint64_t offset,
    uint64_t *end, struct lsc_err *err)
{
	struct count_sink c = { 0 };
	struct lsc_err e = { 0 };
	struct lz4_into in;
	int64_t have = index == r->sh.index ? (int64_t)r->sh.size :
	    index < r->sh.index ? shadow_file_size(&r->sh, index) : -1;
	char why[LSC_ERRLEN];
	int rc;

	if (have < 0) {
		snprintf(why, sizeof(why), "we hold no shadow WAL of index %08x "
		    "(ours is at %08x)", index, r->sh.index);
		return not_ours(r, key, why, err);
	}
	if (offset >= (uint64_t)have) {
		/* Ours are never empty, so one at the end is not ours either. */
		snprintf(why, sizeof(why), "it starts at offset %llu, and our "
		    "shadow WAL of that index holds %lld bytes",
		    (unsigned long long)offset, (long long)have);
		return not_ours(r, key, why, err);
	}
	in.r = lz4r_new(count_sink, &c, (uint64_t)have - offset, &e);
	rc = in.r == NULL ? LSC_EIO :
	    replica_get(r->replica, key, feed_lz4, &in, &e);
	if (rc == LSC_OK)
		rc = lz4r_finish(in.r, &e);
	if (rc != LSC_OK && in.r != NULL && lz4r_over_cap(in.r)) {
		lz4r_free(in.r);
		snprintf(why, sizeof(why), "it inflates past the %llu bytes our "
		    "shadow WAL holds from its offset on",
		    (unsigned long long)((uint64_t)have - offset));
		return not_ours(r, key, why, err);
	}
	lz4r_free(in.r);
	if (rc == LSC_ECORRUPT)
		return lsc_seterr(err, rc, e.sys, "corrupt replica segment '%s': "
		    "%s", key, e.msg);
	if (rc != LSC_OK)
		return lsc_seterr(err, rc, e.sys, "%s", e.msg);
	*end = offset + c.n;
	return LSC_OK;
}

/*
 * Learn what the replica holds of our generation (at start-up or after a
 * failed upload): whether it has a snapshot, and the end of its last
 * segment.  LSC_ECORRUPT when that segment cannot be ours (see
 * segment_end): the caller then starts a new generation, once.
 */
int
repl_find_position(struct repl *r, struct lsc_err *err)
{
	struct replica_list l;
	char prefix[LAYOUT_KEY_MAX];
	const struct replica_obj *last = NULL;
	struct layout_key lk, best = { 0 };
	uint64_t end = 0;
	int rc;

	layout_gen_prefix(r->sh.gen, prefix, sizeof(prefix));
	if ((rc = replica_list(r->replica, prefix, &l, err)) != LSC_OK)
		return rc;
	r->have_snapshot = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (layout_parse(l.v[i].key, &lk) != 0)
			continue;
		if (lk.kind == LAYOUT_SNAPSHOT) {
			r->have_snapshot = 1;
			if (l.v[i].mtime_ns > r->last_snapshot_ns)
				r->last_snapshot_ns = l.v[i].mtime_ns;
		} else if (last == NULL || lk.index > best.index ||
		    (lk.index == best.index && lk.offset > best.offset)) {
			last = &l.v[i];
			best = lk;
		}
	}
	if (last == NULL) {
		/* Nothing shipped: start at the oldest shadow index we hold. */
		uint32_t idx = r->sh.index;

		while (idx > 0 && shadow_file_size(&r->sh, idx - 1) >= 0)
			idx--;
		r->pos_index = idx;
		r->pos_offset = 0;
	} else {
		rc = segment_end(r, last->key, best.index, best.offset, &end, err);
		if (rc != LSC_OK) {
			replica_list_free(&l);
			return rc;
		}
		r->pos_index = best.index;
		r->pos_offset = end;
	}
	replica_list_free(&l);
	r->pos_known = 1;
	repl_stats_publish(r);
	return LSC_OK;
}
