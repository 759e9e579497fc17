/* SPDX-License-Identifier: MIT */
/*
 * Shipping: shadow WAL bytes become LZ4-framed segment objects
 * (generations/<gen>/wal/<index>_<offset>.wal.lz4) and the database file
 * becomes a snapshot object, streamed through the compressor (and age,
 * when the database has recipients) into the replica with memory bounded
 * by one LZ4 block and one age chunk.
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crashpoint.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "daemon/objput.h"
#include "daemon/repl.h"
#include "wal/wal_layout.h"

/* Read and compressed a piece at a time: the LZ4 writer takes 256 KiB
 * blocks, so a bigger piece only costs memory (the peak RSS of a drain). */
#define READ_CHUNK	(256 * 1024)
/* Decompression cap for the last segment of an index we no longer hold
 * (an index is at most ~4 GiB plus one transaction). */
#define PRUNED_SEGMENT_CAP	((uint64_t)1 << 36)

/*
 * Upload bytes [from, to) of file `fd` as one object under `key`: LZ4, and
 * age when the database has recipients (daemon/objput.h).  *stored is set
 * to the object's size just before the commit is tried, so that a caller
 * whose commit fails knows what the replica may hold (0 before that).
 */
static int
upload_range(struct repl *r, int fd, const char *what, uint64_t from,
    uint64_t to, const char *key, uint64_t *stored, struct lsc_err *err)
{
	struct objput *o;
	unsigned char *chunk = NULL;
	uint64_t pos = from, n_stored = 0;
	int rc;

	*stored = 0;
	if ((o = objput_begin(r->replica, key, (const unsigned char
	    (*)[AGE_KEY_LEN])r->cfg.age_recipients, r->cfg.nage_recipients,
	    err)) == NULL)
		return err != NULL && err->code ? (int)err->code : LSC_EIO;
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
		if ((rc = objput_write(o, chunk, want, err)) != LSC_OK)
			goto fail;
		pos += want;
		CRASHPOINT("upload.chunk");
	}
	if ((rc = objput_finish(o, &n_stored, err)) != LSC_OK)
		goto fail;
	free(chunk);
	/* The generation's encryption is on record before its objects. */
	shippos_object(r);
	*stored = n_stored;
	return objput_commit(o, err);
fail:
	objput_abort(o);
	free(chunk);
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
		uint64_t stored;
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
			    key, &stored, err);
			close(fd);
			free(path);
			if (rc != LSC_OK) {
				/* Recompute from the replica next time (format §5.5);
				 * the commit may have taken effect all the same. */
				if (stored > 0)
					shippos_tried(r, idx, r->pos_offset, stored,
					    (uint64_t)size);
				r->pos_known = 0;
				return rc;
			}
			CRASHPOINT("ship.after-put");
			shippos_shipped(r, idx, r->pos_offset, stored, (uint64_t)size);
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
	uint64_t stored;
	int fd = wal_db_fd(r->db), rc;

	/*
	 * Only under a pin: without one, a checkpoint could copy frames we
	 * have not captured into the file while we read it, and the snapshot
	 * would hold pages newer than its WAL chain (a restore would mix
	 * states).  The caller retries once a pin is held again.
	 */
	if (!wal_db_pinned(r->db, WAL_CONN_A) && !wal_db_pinned(r->db, WAL_CONN_B))
		return lsc_seterr(err, LSC_EBUSY, 0, "'%s': no snapshot without a "
		    "read pin on the database (will retry)", r->path);
	/* WAL first: the file may hold pages of frames not yet shipped. */
	if ((rc = repl_ship(r, err)) != LSC_OK)
		return rc;
	if (fstat(fd, &st) != 0)
		return lsc_seterr(err, LSC_EIO, errno, "cannot stat '%s': %s", r->path,
		    strerror(errno));
	/* Named by the start of the real WAL cycle, not a rolled index: the
	 * file lacks the cycle's frames past the checkpoints, and a restore
	 * replays from the snapshot's index (issue: a snapshot after a roll
	 * restored without the frames of the indexes before it). */
	layout_snapshot_key(r->sh.gen, r->sh.cycle_index, key, sizeof(key));
	rc = upload_range(r, fd, r->path, 0, (uint64_t)st.st_size, key, &stored,
	    err);
	if (rc != LSC_OK)
		return rc;
	CRASHPOINT("snapshot.after-put");
	r->have_snapshot = 1;
	r->last_snapshot_ns = now_ns();
	stat_add(&r->st.snapshots, 1);
	stat_add(&r->st.snapshot_bytes, (uint64_t)st.st_size);
	log_db(LOG_INFO, r->path, "snapshot written\tgeneration=%s index=%08x "
	    "size=%lld", r->sh.gen, r->sh.cycle_index, (long long)st.st_size);
	return LSC_OK;
}

/*
 * Learn what the replica holds of our generation (at start-up or after a
 * failed upload): whether it has a snapshot, and the end of its last
 * segment, from the local record when the listing agrees with it, else by
 * reading the segment (daemon/shippos.h).  LSC_ECORRUPT means this
 * generation cannot be continued (mixed encryption settings, or an
 * encrypted segment and no identity): the caller starts a new one.
 */
int
repl_find_position(struct repl *r, struct lsc_err *err)
{
	struct replica_list l;
	char prefix[LAYOUT_KEY_MAX];
	const struct replica_obj *last = NULL;
	struct layout_key lk, best = { 0 };
	int rc, shipped = 0;

	layout_gen_prefix(r->sh.gen, prefix, sizeof(prefix));
	if ((rc = replica_list(r->replica, prefix, &l, err)) != LSC_OK)
		return rc;
	r->have_snapshot = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (layout_parse(l.v[i].key, &lk) != 0)
			continue;
		shipped = 1;
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
	if ((rc = shippos_check_gen(r, shipped, err)) != LSC_OK) {
		replica_list_free(&l);
		return rc;
	}
	if (last == NULL) {
		/* Nothing shipped: start at the oldest shadow index we hold. */
		uint32_t idx = r->sh.index;

		while (idx > 0 && shadow_file_size(&r->sh, idx - 1) >= 0)
			idx--;
		r->pos_index = idx;
		r->pos_offset = 0;
	} else {
		/* A segment is never longer than what we hold of its index; the
		 * cap also keeps a hostile or corrupt object from inflating for
		 * ever.  (A fixed 8 GiB cap once failed on a huge transaction's
		 * own segment, and each new generation made one again.) */
		int64_t held = shadow_file_size(&r->sh, best.index);
		uint64_t end = 0;

		if (held >= 0 && (uint64_t)held < best.offset) {
			replica_list_free(&l);
			return lsc_seterr(err, LSC_ECORRUPT, 0, "the replica has "
			    "index %08x past offset %llu, beyond our shadow WAL",
			    best.index, (unsigned long long)held);
		}
		rc = shippos_segment_end(r, last->key, best.index, best.offset,
		    last->size, held >= 0 ? (uint64_t)held - best.offset :
		    PRUNED_SEGMENT_CAP, &end, err);
		if (rc != LSC_OK) {
			replica_list_free(&l);
			return rc;
		}
		r->pos_index = best.index;
		r->pos_offset = end;
		/* We prune an index only once it has shipped whole and the next
		 * one exists: then the position is the next one's start. */
		if (held < 0 && r->pos_index < r->sh.index &&
		    shadow_file_size(&r->sh, r->pos_index + 1) >= 0) {
			r->pos_index++;
			r->pos_offset = 0;
		}
	}
	replica_list_free(&l);
	r->pos_known = 1;
	repl_stats_publish(r);
	return LSC_OK;
}
