/* SPDX-License-Identifier: MIT */
/*
 * Shipping, for one replica (struct shipper): shadow WAL bytes become
 * LZ4-framed segment objects (generations/<gen>/wal/<index>_<offset>.wal.lz4)
 * and the database file becomes a snapshot object, streamed through the
 * compressor (and age, when the database has recipients) into the store
 * with memory bounded by one LZ4 block and one age chunk.
 *
 * Order matters for a point-in-time restore that must never mix states:
 * before a snapshot is uploaded, every WAL byte up to our pin's read mark
 * is uploaded (a checkpoint may have copied those frames' pages into the
 * database file we are about to snapshot), and no pin moves while the
 * file is read (struct repl's pin protocol).  Segment objects are never
 * overwritten with different bytes: a position is advanced only after the
 * store accepted the object.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
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
upload_range(struct shipper *s, int fd, const char *what, uint64_t from,
    uint64_t to, const char *key, uint64_t *stored, struct lsc_err *err)
{
	const struct cfg_db *cfg = &s->r->cfg;
	struct objput *o;
	unsigned char *chunk = NULL;
	uint64_t pos = from, n_stored = 0;
	int rc;

	*stored = 0;
	if ((o = objput_begin(s->replica, key, (const unsigned char
	    (*)[AGE_KEY_LEN])cfg->age_recipients, cfg->nage_recipients,
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
	shippos_object(s);
	*stored = n_stored;
	rc = objput_commit(o, err);
	s->last_put_ns = now_ns();
	return rc;
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

/* What the database published, copied under its lock. */
static void
read_pub(struct shipper *s, struct repl_pub *p)
{
	pthread_mutex_lock(&s->r->mu);
	*p = s->r->pub;
	pthread_mutex_unlock(&s->r->mu);
}

/*
 * Open shadow file `idx` of our generation, if it is still the current
 * one: under the lock, so that a new generation's clean-up (which
 * unpublishes first) cannot remove it between the check and the open.
 * -1 with errno ESTALE when the generation moved on.
 */
static int
open_shadow(struct shipper *s, uint32_t idx, char **path)
{
	struct repl *r = s->r;
	int fd = -1, e = ESTALE;

	*path = NULL;
	pthread_mutex_lock(&r->mu);
	if (strcmp(r->pub.gen, s->gen) == 0) {
		*path = shadow_gen_path(r->meta_dir, s->gen, idx);
		fd = open(*path, O_RDONLY | O_CLOEXEC);
		e = errno;
	}
	pthread_mutex_unlock(&r->mu);
	errno = e;
	return fd;
}

/* Size of shadow file `idx` of our generation per `p`: -1 if gone. */
static int64_t
held_size(struct shipper *s, const struct repl_pub *p, uint32_t idx)
{
	char *path;
	struct stat st;
	int64_t n;

	if (idx == p->index)
		return (int64_t)p->size;
	path = shadow_gen_path(s->r->meta_dir, s->gen, idx);
	n = stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
	free(path);
	return n;
}

/* Tell the database's step what the store holds (it prunes below the
 * slowest replica), and the metrics. */
static void
ack(struct shipper *s)
{
	struct repl *r = s->r;

	pthread_mutex_lock(&r->mu);
	s->acked_known = s->pos_known;
	memcpy(s->acked_gen, s->gen, sizeof(s->acked_gen));
	s->acked_index = s->pos_index;
	s->acked_offset = s->pos_offset;
	if (strcmp(r->pub.gen, s->gen) == 0 && s->pos_known) {
		uint64_t pending = repl_bytes_from(r, s->pos_index, s->pos_offset);

		atomic_store_explicit(&s->st.pending_bytes, pending,
		    memory_order_relaxed);
		/* Caught up while the database is idle: say so here. */
		repl_bound_pending(r, s, pending);
	}
	pthread_mutex_unlock(&r->mu);
	shipper_publish(s);
}

/* Ship from our position to the end that `p` published. */
static int
ship_to(struct shipper *s, const struct repl_pub *p, struct lsc_err *err)
{
	int rc;

	if (!s->pos_known && (rc = ship_find_position(s, err)) != LSC_OK)
		return rc;
	for (;;) {
		uint32_t idx = s->pos_index;
		int64_t size = idx > p->index ? -1 : held_size(s, p, idx);
		char key[LAYOUT_KEY_MAX], *path;
		uint64_t stored;
		int fd;

		if (size < 0 || (uint64_t)size < s->pos_offset)
			return lsc_seterr(err, LSC_ECORRUPT, 0,
			    "shadow WAL index %08x is missing or shorter than the "
			    "replica position %llu", idx,
			    (unsigned long long)s->pos_offset);
		if ((uint64_t)size > s->pos_offset) {
			fd = open_shadow(s, idx, &path);
			if (fd < 0 && errno == ESTALE)
				return LSC_OK;	/* a new generation: next pass */
			if (fd < 0) {
				rc = lsc_seterr(err, LSC_EIO, errno, "cannot open '%s': %s",
				    path, strerror(errno));
				free(path);
				return rc;
			}
			layout_wal_key(s->gen, idx, s->pos_offset, key, sizeof(key));
			rc = upload_range(s, fd, path, s->pos_offset, (uint64_t)size,
			    key, &stored, err);
			close(fd);
			free(path);
			if (rc != LSC_OK) {
				/* Recompute from the store next time (format §5.5);
				 * the commit may have taken effect all the same. */
				if (stored > 0)
					shippos_tried(s, idx, s->pos_offset, stored,
					    (uint64_t)size);
				s->pos_known = 0;
				return rc;
			}
			CRASHPOINT("ship.after-put");
			shippos_shipped(s, idx, s->pos_offset, stored, (uint64_t)size);
			log_db(LOG_DEBUG, s->r->path, "wal segment written\treplica=%s "
			    "key=%s size=%lld", s->name, key,
			    (long long)size - (long long)s->pos_offset);
			/* Every index of a generation has the same page size:
			 * changing it needs a new database file. */
			stat_add(&s->st.wal_bytes, (uint64_t)size - s->pos_offset);
			stat_add(&s->st.wal_frames, frames_in((uint64_t)size,
			    p->page_size) - frames_in(s->pos_offset, p->page_size));
			stat_add(&s->st.segments, 1);
			s->pos_offset = (uint64_t)size;
		}
		if (idx == p->index)
			break;
		s->pos_index++;
		s->pos_offset = 0;
	}
	ack(s);
	return LSC_OK;
}

int
ship_wal(struct shipper *s, struct lsc_err *err)
{
	struct repl_pub p;

	read_pub(s, &p);
	if (p.gen[0] == '\0' || strcmp(p.gen, s->gen) != 0)
		return LSC_OK;		/* nothing, or not ours yet */
	return ship_to(s, &p, err);
}

/*
 * The database file, read while no pin moves: become a reader once the
 * step is not moving one (it never waits for us; we wait at most for one
 * local step), with our generation current and a pin held.  Then every
 * WAL byte captured so far goes first, so the file holds no page of a
 * frame the store lacks.
 */
int
ship_snapshot(struct shipper *s, struct lsc_err *err)
{
	struct repl *r = s->r;
	char key[LAYOUT_KEY_MAX];
	struct repl_pub p;
	struct stat st;
	uint64_t stored;
	int fd, rc;

	pthread_mutex_lock(&r->mu);
	while (r->pins_moving)
		pthread_cond_wait(&r->cv, &r->mu);
	p = r->pub;
	if (strcmp(p.gen, s->gen) != 0 || !p.pinned || r->db == NULL) {
		pthread_mutex_unlock(&r->mu);
		return lsc_seterr(err, LSC_EBUSY, 0, "'%s': no snapshot without a "
		    "read pin on the database (will retry)", r->path);
	}
	r->snap_readers++;
	/*
	 * The step's own descriptor: it stays open while we read (no close
	 * while there is a reader).  Never a dup of it that we close: closing
	 * any descriptor of the file drops the process's POSIX locks on it,
	 * SQLite's read locks included, and the app could then checkpoint
	 * past our pins or delete the WAL.
	 */
	fd = wal_db_fd(r->db);
	pthread_mutex_unlock(&r->mu);
	/* WAL first: the file may hold pages of frames not yet shipped. */
	if ((rc = ship_to(s, &p, err)) != LSC_OK)
		goto out;
	if (fstat(fd, &st) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot stat '%s': %s", r->path,
		    strerror(errno));
		goto out;
	}
	/* Named by the start of the real WAL cycle, not a rolled index: the
	 * file lacks the cycle's frames past the checkpoints, and a restore
	 * replays from the snapshot's index (issue: a snapshot after a roll
	 * restored without the frames of the indexes before it). */
	layout_snapshot_key(s->gen, p.cycle_index, key, sizeof(key));
	rc = upload_range(s, fd, r->path, 0, (uint64_t)st.st_size, key, &stored,
	    err);
	if (rc != LSC_OK)
		goto out;
	CRASHPOINT("snapshot.after-put");
	s->have_snapshot = 1;
	s->last_snapshot_ns = now_ns();
	stat_add(&s->st.snapshots, 1);
	stat_add(&s->st.snapshot_bytes, (uint64_t)st.st_size);
	log_db(LOG_INFO, r->path, "snapshot written\treplica=%s generation=%s "
	    "index=%08x size=%lld", s->name, s->gen, p.cycle_index,
	    (long long)st.st_size);
out:
	pthread_mutex_lock(&r->mu);
	r->snap_readers--;
	pthread_mutex_unlock(&r->mu);
	/* A checkpoint held back for us may run now. */
	s->released = 1;
	return rc;
}

/*
 * Learn what the store holds of our generation (at start-up, at a new
 * generation, or after a failed upload): whether it has a snapshot, and
 * the end of its last segment, from the local record when the listing
 * agrees with it, else by reading the segment (daemon/shippos.h).
 * LSC_ECORRUPT means this generation cannot be continued here (mixed
 * encryption settings, an encrypted segment and no identity, or nothing
 * of it in the store while the shadow WAL no longer holds the start of
 * its WAL cycle): the caller asks the database for a new one.
 */
int
ship_find_position(struct shipper *s, struct lsc_err *err)
{
	struct replica_list l;
	struct repl_pub p;
	char prefix[LAYOUT_KEY_MAX];
	const struct replica_obj *last = NULL;
	struct layout_key lk, best = { 0 };
	int rc, shipped = 0;

	read_pub(s, &p);
	if (strcmp(p.gen, s->gen) != 0)
		return lsc_seterr(err, LSC_EBUSY, 0, "generation %s is no longer "
		    "current (will retry)", s->gen);
	layout_gen_prefix(s->gen, prefix, sizeof(prefix));
	if ((rc = replica_list(s->replica, prefix, &l, err)) != LSC_OK)
		return rc;
	s->have_snapshot = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (layout_parse(l.v[i].key, &lk) != 0)
			continue;
		shipped = 1;
		if (lk.kind == LAYOUT_SNAPSHOT) {
			s->have_snapshot = 1;
			if (l.v[i].mtime_ns > s->last_snapshot_ns)
				s->last_snapshot_ns = l.v[i].mtime_ns;
		} else if (last == NULL || lk.index > best.index ||
		    (lk.index == best.index && lk.offset > best.offset)) {
			last = &l.v[i];
			best = lk;
		}
	}
	if ((rc = shippos_check_gen(s, shipped, err)) != LSC_OK) {
		replica_list_free(&l);
		return rc;
	}
	if (last == NULL) {
		/* Nothing shipped: start at the oldest shadow index we hold.
		 * Its snapshot will be named by the WAL cycle's first index,
		 * and a restore replays from there: that must be held. */
		uint32_t idx = p.index;

		while (idx > 0 && held_size(s, &p, idx - 1) >= 0)
			idx--;
		if (idx > p.cycle_index) {
			replica_list_free(&l);
			return lsc_seterr(err, LSC_ECORRUPT, 0, "the replica has "
			    "nothing of generation %s and its WAL cycle's start "
			    "(index %08x) is no longer held", s->gen,
			    p.cycle_index);
		}
		s->pos_index = idx;
		s->pos_offset = 0;
	} else {
		/* A segment is never longer than what we hold of its index; the
		 * cap also keeps a hostile or corrupt object from inflating for
		 * ever.  (A fixed 8 GiB cap once failed on a huge transaction's
		 * own segment, and each new generation made one again.) */
		int64_t held = best.index > p.index ? -1 :
		    held_size(s, &p, best.index);
		uint64_t end = 0;

		/* Ours are never empty, nor past what we hold: such a key is
		 * foreign (or a huge offset that would wrap the position). */
		if (best.index > p.index ||
		    (held >= 0 && (uint64_t)held <= best.offset)) {
			char why[160];

			if (held < 0)
				snprintf(why, sizeof(why), "we hold no shadow WAL "
				    "of index %08x (ours is at %08x)", best.index,
				    p.index);
			else
				snprintf(why, sizeof(why), "it starts at offset "
				    "%" PRIu64 ", and our shadow WAL of that index "
				    "holds %" PRId64 " bytes", best.offset, held);
			rc = shippos_not_ours(s, last->key, why, err);
			replica_list_free(&l);
			return rc;
		}
		rc = shippos_segment_end(s, last->key, best.index, best.offset,
		    last->size, held >= 0 ? (uint64_t)held - best.offset :
		    PRUNED_SEGMENT_CAP, &end, err);
		if (rc != LSC_OK) {
			replica_list_free(&l);
			return rc;
		}
		s->pos_index = best.index;
		s->pos_offset = end;
		/* We prune an index only once it has shipped whole and the next
		 * one exists: then the position is the next one's start. */
		if (held < 0 && s->pos_index < p.index &&
		    held_size(s, &p, s->pos_index + 1) >= 0) {
			s->pos_index++;
			s->pos_offset = 0;
		}
	}
	replica_list_free(&l);
	s->pos_known = 1;
	ack(s);
	return LSC_OK;
}
