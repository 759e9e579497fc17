/* SPDX-License-Identifier: MIT */
/* The shadow WAL: see shadow.h for the layout and the continuity rules. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crashpoint.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xmalloc.h"
#include "wal/shadow.h"
#include "wal/wal_shm.h"

#define BATCH_FRAMES	128	/* frames read per pread (512 KiB at 4 KiB pages) */
#define CARRY_FRAMES	32	/* frames re-read per pread (big transactions) */
/* Keep offsets to 8 hex digits with room for one more batch. */
#define DEFAULT_MAX_INDEX_BYTES	(0xffffffffULL - (64ULL << 20))

int
shadow_init(struct shadow *sh, const char *db_path, const char *meta_dir,
    struct lsc_err *err)
{
	const char *env = getenv("LITESTREAM_C_MAX_INDEX_BYTES");
	struct stat st;
	char *dir;

	memset(sh, 0, sizeof(*sh));
	sh->fd = -1;
	sh->shm_fd = -1;
	sh->db_path = xstrdup(db_path);
	sh->wal_path = xasprintf("%s-wal", db_path);
	sh->shm_path = xasprintf("%s-shm", db_path);
	if (meta_dir != NULL) {
		sh->meta_dir = xstrdup(meta_dir);
	} else {
		dir = fs_dirname(db_path);
		sh->meta_dir = xasprintf("%s/.%s-litestream", dir,
		    fs_basename(db_path));
		free(dir);
	}
	/* Tests shrink the index limit to exercise rolling. */
	sh->max_index_bytes = DEFAULT_MAX_INDEX_BYTES;
	if (env != NULL && strtoull(env, NULL, 10) >= 1 << 20)
		sh->max_index_bytes = strtoull(env, NULL, 10);
	/* Copies of the database are as private as it is (0600 when it
	 * cannot be read: never wider than we know to be safe). */
	sh->file_mode = fs_copy_file_mode(stat(db_path, &st) == 0 ?
	    st.st_mode : 0600);
	sh->dir_mode = fs_copy_dir_mode(sh->file_mode);
	return fs_mkdir_p(sh->meta_dir, sh->dir_mode, err);
}

void
shadow_release(struct shadow *sh)
{
	if (sh->fd >= 0)
		close(sh->fd);
	if (sh->shm_fd >= 0)
		close(sh->shm_fd);
	free(sh->db_path);
	free(sh->wal_path);
	free(sh->shm_path);
	free(sh->meta_dir);
	free(sh->buf);
	memset(sh, 0, sizeof(*sh));
	sh->fd = -1;
	sh->shm_fd = -1;
}

char *
shadow_gen_path(const char *meta_dir, const char *gen, uint32_t index)
{
	return xasprintf("%s/generations/%s/wal/%08x.wal", meta_dir, gen, index);
}

char *
shadow_path(const struct shadow *sh, uint32_t index)
{
	return shadow_gen_path(sh->meta_dir, sh->gen, index);
}

int64_t
shadow_file_size(const struct shadow *sh, uint32_t index)
{
	char *path = shadow_path(sh, index);
	struct stat st;
	int64_t n = stat(path, &st) == 0 ? (int64_t)st.st_size : -1;

	free(path);
	return n;
}

uint64_t
shadow_cycle_frames(const struct shadow *sh)
{
	if (sh->src_off <= WAL_HDR_LEN)
		return 0;
	return (sh->src_off - WAL_HDR_LEN) / wal_frame_len(sh->src.page_size);
}

uint64_t
shadow_pending_frames(const struct shadow *sh)
{
	uint64_t held = shadow_cycle_frames(sh);

	return held > sh->backfilled ? held - sh->backfilled : 0;
}

uint64_t
shadow_frames(const struct shadow *sh)
{
	if (sh->size <= WAL_HDR_LEN)
		return 0;
	return (sh->size - WAL_HDR_LEN) / wal_frame_len(sh->dst.page_size);
}

static void
ensure_buf(struct shadow *sh, uint32_t page_size)
{
	size_t want = BATCH_FRAMES * wal_frame_len(page_size);

	if (sh->buf_len < want) {
		free(sh->buf);
		sh->buf = xmalloc(want);
		sh->buf_len = want;
	}
}

void
shadow_trim(struct shadow *sh)
{
	free(sh->buf);
	sh->buf = NULL;
	sh->buf_len = 0;
}

/* Record the current position as what a failed fsync falls back to: it
 * has just been fsynced, or is the start of an index (shadow.h). */
static void
mark_durable(struct shadow *sh)
{
	sh->durable.size = sh->size;
	sh->durable.src_off = sh->src_off;
	memcpy(sh->durable.src_ck, sh->src_ck, sizeof(sh->src_ck));
	memcpy(sh->durable.dst_ck, sh->dst_ck, sizeof(sh->dst_ck));
}

/* Open (creating) shadow file `index` holding just `hdr`. */
static int
start_index(struct shadow *sh, uint32_t index, const uint8_t hdr[WAL_HDR_LEN],
    struct lsc_err *err)
{
	char *path = shadow_path(sh, index);
	int fd, rc = LSC_OK;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, sh->file_mode);
	if (fd < 0 || fchmod(fd, sh->file_mode) != 0 ||
	    pwrite_full(fd, hdr, WAL_HDR_LEN, 0) != 0) {
		rc = lsc_seterr(err, LSC_EIO, errno, "cannot write shadow WAL '%s': %s",
		    path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return rc;
	}
	free(path);
	if (sh->fd >= 0)
		close(sh->fd);
	sh->fd = fd;
	sh->dropped = 0;
	sh->index = index;
	sh->size = WAL_HDR_LEN;
	sh->dirty = 1;
	wal_hdr_parse(hdr, &sh->dst, NULL);
	sh->dst_ck[0] = sh->dst.cksum1;
	sh->dst_ck[1] = sh->dst.cksum2;
	return LSC_OK;
}

/* A header of our own for a rolled index: new salts, same format. */
static int
roll_index(struct shadow *sh, struct lsc_err *err)
{
	struct wal_hdr h = sh->dst;
	uint8_t raw[WAL_HDR_LEN];
	uint32_t salt2;
	int rc;

	if (getrandom(&salt2, sizeof(salt2), 0) != sizeof(salt2))
		salt2 = (uint32_t)now_ns();
	h.ckpt_seq++;
	h.salt1++;
	h.salt2 = salt2;
	wal_hdr_encode(&h, raw);
	if ((rc = shadow_sync(sh, err)) != LSC_OK ||
	    (rc = start_index(sh, sh->index + 1, raw, err)) != LSC_OK)
		return rc;
	mark_durable(sh);
	log_db(LOG_INFO, sh->db_path, "rolled to a new WAL index before 4 GiB"
	    "\tgeneration=%s index=%08x", sh->gen, sh->index);
	return LSC_OK;
}

/* A new WAL cycle is followed from here: forget the old one's witness. */
static void
witness_reset(struct shadow *sh)
{
	sh->seen_mx = 0;
	sh->backfilled = 0;
}

/* Take what the wal-index says into account if it is about our cycle. */
static void
witness_note(struct shadow *sh, const struct wal_shm_hdr *shm)
{
	if (memcmp(shm->salts, sh->src_raw + 16, sizeof(shm->salts)) != 0)
		return;
	if (shm->mx_frame > sh->seen_mx)
		sh->seen_mx = shm->mx_frame;
	sh->backfilled = shm->backfilled;
}

/* Frames of our cycle that SQLite has called committed and we have not
 * copied: 0 when the witness agrees with us. */
static uint64_t
witness_missing(const struct shadow *sh)
{
	uint64_t want = wal_offset_of(sh->src.page_size, sh->seen_mx);

	return sh->seen_mx == 0 || sh->src_off >= want ? 0 :
	    (want - sh->src_off) / wal_frame_len(sh->src.page_size);
}

/*
 * Append frames [from, to) of the real WAL (fd), a whole number of
 * transactions that copy_frames has already checked, to the shadow:
 * re-read in small chunks, checked again (the chain must come out where
 * the first check ended: `want_sck`), re-encoded for a rolled index.
 * This is the slow path for a transaction that spans batches; the pin
 * keeps committed frames in place, so a difference means the WAL changed
 * under us.
 */
static int
append_from_wal(struct shadow *sh, int fd, uint64_t from, uint64_t to,
    int reencode, const uint32_t want_sck[2], struct lsc_err *err)
{
	size_t flen = wal_frame_len(sh->src.page_size);
	uint8_t *chunk = xmalloc(CARRY_FRAMES * flen);
	uint32_t sck[2] = { sh->src_ck[0], sh->src_ck[1] };
	uint32_t dck[2] = { sh->dst_ck[0], sh->dst_ck[1] };
	uint64_t wpos = sh->size;
	int rc = LSC_OK;

	for (uint64_t pos = from; pos < to && rc == LSC_OK;) {
		size_t n = (to - pos) / flen > CARRY_FRAMES ? CARRY_FRAMES :
		    (size_t)((to - pos) / flen);

		if (pread_full(fd, chunk, n * flen, (off_t)pos) != (ssize_t)(n * flen)) {
			rc = lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s",
			    sh->wal_path, strerror(errno));
			break;
		}
		for (size_t i = 0; i < n && rc == LSC_OK; i++) {
			uint8_t *f = chunk + i * flen;
			struct wal_frame_hdr fh;

			if (!wal_frame_check(&sh->src, f, sck)) {
				rc = lsc_seterr(err, LSC_ECORRUPT, 0, "'%s' changed "
				    "while it was read (frame at offset %llu)",
				    sh->wal_path, (unsigned long long)(pos + i * flen));
				break;
			}
			if (reencode) {
				wal_frame_hdr_parse(f, &fh);
				wal_frame_encode(&sh->dst, fh.pgno, fh.commit,
				    f + WAL_FRAME_HDR_LEN, dck, f);
			}
		}
		if (rc == LSC_OK && pwrite_full(sh->fd, chunk, n * flen,
		    (off_t)wpos) != 0)
			rc = lsc_seterr(err, LSC_EIO, errno,
			    "cannot write shadow WAL: %s", strerror(errno));
		/* A transaction only partly in the shadow file. */
		CRASHPOINT("capture.carry");
		pos += n * flen;
		wpos += n * flen;
	}
	free(chunk);
	if (rc == LSC_OK && (sck[0] != want_sck[0] || sck[1] != want_sck[1]))
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, "'%s' changed while it was "
		    "read", sh->wal_path);
	return rc;
}

/*
 * Copy the committed frames of the real WAL (fd) in [from, to) that
 * continue the chain of `sh->src` into the shadow.  Only whole
 * transactions ever reach the shadow file, so whenever a crash stops us
 * it ends on a commit frame: frames are checked a batch at a time, and
 * each batch's committed part is written with one pwrite.  A transaction
 * that began in an earlier batch is re-read from the WAL when its commit
 * frame arrives (append_from_wal).  Stops at the first frame that is not
 * ours: the end of the valid WAL, or a break that the caller's witness
 * (wal_shm) tells apart from it.
 */
static int
copy_frames(struct shadow *sh, int fd, uint64_t from, uint64_t to,
    struct shadow_capture *res, struct lsc_err *err)
{
	size_t flen = wal_frame_len(sh->src.page_size);
	/* A rolled index has salts of its own: frames get new checksums. */
	int reencode = sh->src.salt1 != sh->dst.salt1 ||
	    sh->src.salt2 != sh->dst.salt2 ||
	    sh->src.big_endian != sh->dst.big_endian;
	uint32_t sck[2] = { sh->src_ck[0], sh->src_ck[1] };
	uint32_t dck[2] = { sh->dst_ck[0], sh->dst_ck[1] };
	uint64_t pos = from;	/* next frame to check */
	int stop = 0, rc;

	ensure_buf(sh, sh->src.page_size);
	while (!stop && pos + flen <= to) {
		uint64_t want = (to - pos) / flen;
		/* Chains at the batch start, for frames carried over. */
		uint32_t batch_sck[2] = { sck[0], sck[1] };
		uint32_t ck_sck[2] = { 0, 0 }, ck_dck[2] = { 0, 0 };
		size_t n, commit_end = 0;	/* frames up to the last commit */
		uint32_t commits = 0;
		ssize_t got;

		if (want > BATCH_FRAMES)
			want = BATCH_FRAMES;
		got = pread_full(fd, sh->buf, want * flen, (off_t)pos);
		if (got < 0)
			return lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s",
			    sh->wal_path, strerror(errno));
		n = (size_t)got / flen;
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			uint8_t *f = sh->buf + i * flen;
			struct wal_frame_hdr fh;

			if (!wal_frame_check(&sh->src, f, sck)) {
				stop = 1;	/* end of this WAL's valid frames */
				n = i;
				break;
			}
			wal_frame_hdr_parse(f, &fh);
			if (reencode)
				wal_frame_encode(&sh->dst, fh.pgno, fh.commit,
				    f + WAL_FRAME_HDR_LEN, dck, f);
			else
				dck[0] = sck[0], dck[1] = sck[1];
			if (fh.commit != 0) {
				commit_end = i + 1;
				commits++;
				ck_sck[0] = sck[0], ck_sck[1] = sck[1];
				ck_dck[0] = dck[0], ck_dck[1] = dck[1];
			}
		}
		if (commit_end > 0) {
			/* First the frames of a transaction begun in an earlier
			 * batch, then this batch's frames up to its last commit. */
			if (sh->src_off < pos && (rc = append_from_wal(sh, fd,
			    sh->src_off, pos, reencode, batch_sck, err)) != LSC_OK)
				return rc;
			if (pwrite_full(sh->fd, sh->buf, commit_end * flen,
			    (off_t)(sh->size + (pos - sh->src_off))) != 0)
				return lsc_seterr(err, LSC_EIO, errno,
				    "cannot write shadow WAL: %s", strerror(errno));
			CRASHPOINT("capture.batch");
			res->bytes += pos + commit_end * flen - sh->src_off;
			res->commits += commits;
			sh->size += pos + commit_end * flen - sh->src_off;
			sh->src_off = pos + commit_end * flen;
			sh->src_ck[0] = ck_sck[0], sh->src_ck[1] = ck_sck[1];
			sh->dst_ck[0] = ck_dck[0], sh->dst_ck[1] = ck_dck[1];
			sh->dirty = 1;
		}
		pos += (uint64_t)n * flen;
	}
	return LSC_OK;
}

int
shadow_sync(struct shadow *sh, struct lsc_err *err)
{
	int e;

	if (sh->fd < 0 || !sh->dirty)
		return LSC_OK;
	if (fsync(sh->fd) != 0) {
		e = errno;
		/* Not durable, maybe not even in the cache any more: back to
		 * the last good fsync, to copy the rest again (shadow.h). */
		if (ftruncate(sh->fd, (off_t)sh->durable.size) == 0) {
			sh->size = sh->durable.size;
			sh->src_off = sh->durable.src_off;
			memcpy(sh->src_ck, sh->durable.src_ck, sizeof(sh->src_ck));
			memcpy(sh->dst_ck, sh->durable.dst_ck, sizeof(sh->dst_ck));
		}
		return lsc_seterr(err, LSC_EIO, e, "cannot fsync shadow WAL: %s",
		    strerror(e));
	}
	sh->dirty = 0;
	mark_durable(sh);
	return LSC_OK;
}

/* Read and check the real WAL's header. LSC_ENOTFOUND if there is none. */
static int
read_wal_header(struct shadow *sh, int fd, uint8_t raw[WAL_HDR_LEN],
    struct wal_hdr *h, struct lsc_err *err)
{
	ssize_t n = pread_full(fd, raw, WAL_HDR_LEN, 0);

	if (n < 0)
		return lsc_seterr(err, LSC_EIO, errno, "cannot read '%s': %s",
		    sh->wal_path, strerror(errno));
	if (n < WAL_HDR_LEN)
		return lsc_seterr(err, LSC_ENOTFOUND, 0, "'%s' has no header",
		    sh->wal_path);
	return wal_hdr_parse(raw, h, err);
}

static int
open_wal(struct shadow *sh, int *fd, uint64_t *size, struct lsc_err *err)
{
	struct stat st;

	*fd = open(sh->wal_path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return lsc_seterr(err, errno == ENOENT ? LSC_ENOTFOUND : LSC_EIO,
		    errno, "cannot open '%s': %s", sh->wal_path, strerror(errno));
	if (fstat(*fd, &st) != 0) {
		close(*fd);
		return lsc_seterr(err, LSC_EIO, errno, "cannot stat '%s': %s",
		    sh->wal_path, strerror(errno));
	}
	*size = (uint64_t)st.st_size;
	return LSC_OK;
}

/* Remove every generation directory but the current one. */
static void
prune_generations(struct shadow *sh)
{
	char *dir = xasprintf("%s/generations", sh->meta_dir);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, sh->gen) == 0)
			continue;
		char *p = fs_join(dir, de->d_name);
		fs_remove_tree(p, NULL);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
}

int
shadow_new_generation(struct shadow *sh, uint32_t page_size,
    struct lsc_err *err)
{
	uint8_t rnd[2], raw[WAL_HDR_LEN];
	struct lsc_err local = { 0 };
	int synthetic;
	char *dir = NULL, *genfile = NULL, line[GEN_ID_LEN + 2];
	struct shadow_capture res = { 0 };
	uint64_t wal_size;
	int fd = -1, rc;

	/*
	 * Time-ordered: milliseconds since the epoch in the top 48 bits, 16
	 * random bits below.  Readers accept any 16 hex digits, and order
	 * generations by their objects' times; S3 keeps those to the second,
	 * so a generation started in the second its predecessor ended ties
	 * with it, and a restore breaks the tie by the greater id: it must
	 * be the newer one, or the restore silently misses the newest data.
	 */
	if (getrandom(rnd, 2, 0) != 2)
		return lsc_seterr(err, LSC_EIO, errno, "getrandom: %s", strerror(errno));
	snprintf(sh->gen, sizeof(sh->gen), "%012llx%02x%02x",
	    (unsigned long long)(now_ns() / 1000000) & 0xffffffffffffULL,
	    rnd[0], rnd[1]);
	rc = open_wal(sh, &fd, &wal_size, &local);
	if (rc == LSC_OK)
		rc = read_wal_header(sh, fd, raw, &sh->src, &local);
	synthetic = rc == LSC_ENOTFOUND;
	if (synthetic) {
		/*
		 * No WAL header (a database nobody has written since the WAL
		 * was last checkpointed away or truncated): index 0 is a header
		 * of our own with no frame, and the WAL that the application's
		 * next write starts follows as index 1 (we never write).
		 */
		struct wal_hdr h = { .page_size = page_size };
		uint32_t salts[2];

		if (getrandom(salts, sizeof(salts), 0) != sizeof(salts))
			salts[0] = (uint32_t)now_ns(), salts[1] = salts[0] * 7919u;
		h.salt1 = salts[0];
		h.salt2 = salts[1];
		wal_hdr_encode(&h, raw);
		rc = wal_hdr_parse(raw, &sh->src, &local);
		wal_size = WAL_HDR_LEN;
	}
	if (rc != LSC_OK) {
		rc = lsc_seterr(err, local.code, local.sys, "%s", local.msg);
		goto out;
	}
	dir = xasprintf("%s/generations/%s/wal", sh->meta_dir, sh->gen);
	if ((rc = fs_mkdir_p(dir, sh->dir_mode, err)) != LSC_OK)
		goto out;
	memcpy(sh->src_raw, raw, WAL_HDR_LEN);
	if ((rc = start_index(sh, 0, raw, err)) != LSC_OK)
		goto out;
	sh->cycle_index = 0;
	sh->src_ck[0] = sh->src.cksum1;
	sh->src_ck[1] = sh->src.cksum2;
	sh->src_off = WAL_HDR_LEN;
	mark_durable(sh);
	witness_reset(sh);
	/* Index 0 takes what fits below the index limit (or one transaction
	 * bigger than that); the next captures roll for the rest. */
	{
		size_t flen = wal_frame_len(sh->src.page_size);
		uint64_t end = wal_align(sh->src.page_size, wal_size);
		uint64_t cap = WAL_HDR_LEN + (sh->max_index_bytes - WAL_HDR_LEN) /
		    flen * flen;

		if (!synthetic)
			rc = copy_frames(sh, fd, WAL_HDR_LEN, end < cap ? end : cap,
			    &res, err);
		if (rc == LSC_OK && !synthetic && sh->src_off == WAL_HDR_LEN &&
		    cap < end)
			rc = copy_frames(sh, fd, WAL_HDR_LEN, end, &res, err);
	}
	if (rc != LSC_OK || (rc = shadow_sync(sh, err)) != LSC_OK)
		goto out;
	/*
	 * Index 0 must hold the whole cycle the database file was
	 * checkpointed from.  Under a pin taken on a fully checkpointed WAL
	 * (mark 0) the application may restart the WAL while we copy it: our
	 * copy may then have stopped short.  Start again from the new cycle,
	 * whose frames cannot reach the file while we hold that pin.
	 */
	if (!synthetic) {
		uint8_t again[WAL_HDR_LEN];

		if (pread_full(fd, again, WAL_HDR_LEN, 0) != WAL_HDR_LEN ||
		    memcmp(again, sh->src_raw, WAL_HDR_LEN) != 0) {
			rc = lsc_seterr(err, LSC_EBUSY, 0, "'%s' restarted while a "
			    "generation was starting (will retry)", sh->wal_path);
			goto out;
		}
	}
	CRASHPOINT("newgen.before-name");
	/* Only now does the generation exist: the file names it. */
	genfile = xasprintf("%s/generation", sh->meta_dir);
	snprintf(line, sizeof(line), "%s\n", sh->gen);
	if ((rc = fs_write_atomic(genfile, line, GEN_ID_LEN + 1, sh->file_mode,
	    err)))
		goto out;
	prune_generations(sh);
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	free(genfile);
	if (rc != LSC_OK)
		sh->gen[0] = '\0';
	return rc;
}

/* Highest shadow index present for the current generation; -1 if none. */
static int64_t
highest_index(struct shadow *sh)
{
	char *dir = xasprintf("%s/generations/%s/wal", sh->meta_dir, sh->gen);
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t best = -1;

	while (d != NULL && (de = readdir(d)) != NULL) {
		unsigned int idx;
		char tail[8];

		if (strlen(de->d_name) == 12 &&
		    sscanf(de->d_name, "%8x%5s", &idx, tail) == 2 &&
		    strcmp(tail, ".wal") == 0 && (int64_t)idx > best)
			best = idx;
	}
	if (d != NULL)
		closedir(d);
	free(dir);
	return best;
}

/*
 * Set sh->size and sh->dst_ck to the end of the last commit frame of the
 * open shadow file (`file_size` bytes, header already parsed into
 * sh->dst), checking the checksum chain as SQLite's recovery does.
 */
static int
last_commit(struct shadow *sh, uint64_t file_size, struct lsc_err *err)
{
	size_t flen = wal_frame_len(sh->dst.page_size);
	uint32_t ck[2] = { sh->dst.cksum1, sh->dst.cksum2 };
	uint64_t pos = WAL_HDR_LEN;

	sh->size = WAL_HDR_LEN;
	sh->dst_ck[0] = ck[0];
	sh->dst_ck[1] = ck[1];
	ensure_buf(sh, sh->dst.page_size);
	while (pos + flen <= file_size) {
		uint64_t want = (file_size - pos) / flen;
		ssize_t got;
		size_t n;

		if (want > BATCH_FRAMES)
			want = BATCH_FRAMES;
		got = pread_full(sh->fd, sh->buf, want * flen, (off_t)pos);
		if (got < 0)
			return lsc_seterr(err, LSC_EIO, errno, "cannot read shadow "
			    "WAL: %s", strerror(errno));
		n = (size_t)got / flen;
		for (size_t i = 0; i < n; i++) {
			uint8_t *f = sh->buf + i * flen;

			if (!wal_frame_check(&sh->dst, f, ck))
				return LSC_OK;
			if (wal_get32(f + 4) != 0) {
				sh->size = pos + (i + 1) * flen;
				sh->dst_ck[0] = ck[0];
				sh->dst_ck[1] = ck[1];
			}
		}
		if (n < want)
			break;
		pos += n * flen;
	}
	return LSC_OK;
}

int
shadow_resume(struct shadow *sh, const char **reason, struct lsc_err *err)
{
	char *genfile = xasprintf("%s/generation", sh->meta_dir), *text = NULL;
	char *path = NULL;
	uint8_t raw[WAL_HDR_LEN], real[WAL_HDR_LEN];
	struct stat st;
	uint64_t wal_size;
	int64_t idx;
	int wfd = -1, rc = LSC_OK;

	*reason = NULL;
	sh->gen[0] = '\0';
	if (fs_read_small(genfile, 64, &text, NULL, NULL) != LSC_OK ||
	    strlen(text) < GEN_ID_LEN || (text[GEN_ID_LEN] != '\n' &&
	    text[GEN_ID_LEN] != '\0')) {
		*reason = "no generation exists";
		goto out;
	}
	memcpy(sh->gen, text, GEN_ID_LEN);
	sh->gen[GEN_ID_LEN] = '\0';
	if (!layout_gen_valid(sh->gen)) {
		*reason = "generation file is invalid";
		goto out;
	}
	if ((idx = highest_index(sh)) < 0) {
		*reason = "no shadow wal";
		goto out;
	}
	path = shadow_path(sh, (uint32_t)idx);
	if (sh->fd >= 0)
		close(sh->fd);
	sh->fd = open(path, O_RDWR | O_CLOEXEC);
	sh->dropped = 0;
	if (sh->fd < 0 || fstat(sh->fd, &st) != 0 ||
	    pread_full(sh->fd, raw, WAL_HDR_LEN, 0) != WAL_HDR_LEN ||
	    wal_hdr_parse(raw, &sh->dst, NULL) != LSC_OK) {
		*reason = "short or invalid shadow wal";
		goto out;
	}
	sh->index = (uint32_t)idx;
	/* What the file holds for sure: whole transactions with a sound
	 * chain.  A crash (or power cut) may have left a torn tail. */
	if ((rc = last_commit(sh, (uint64_t)st.st_size, err)) != LSC_OK)
		goto out;
	if (open_wal(sh, &wfd, &wal_size, NULL) != LSC_OK ||
	    read_wal_header(sh, wfd, real, &sh->src, NULL) != LSC_OK) {
		*reason = "the WAL is missing or has no valid header";
		goto out;
	}
	/* Same header: the same WAL cycle we were copying when we stopped. */
	if (memcmp(raw, real, WAL_HDR_LEN) != 0) {
		*reason = "the WAL was restarted or replaced while we were stopped";
		goto out;
	}
	if (wal_align(sh->src.page_size, wal_size) < sh->size) {
		*reason = "wal truncated by another process";
		goto out;
	}
	sh->src_ck[0] = sh->dst_ck[0];
	sh->src_ck[1] = sh->dst_ck[1];
	if (sh->size > WAL_HDR_LEN) {
		/* The last frame we copied must still be there, byte for byte
		 * (its cumulative checksum vouches for every frame before it). */
		size_t flen = wal_frame_len(sh->dst.page_size);
		uint8_t *a = xmalloc(flen), *b = xmalloc(flen);
		off_t at = (off_t)(sh->size - flen);
		int same = pread_full(sh->fd, a, flen, at) == (ssize_t)flen &&
		    pread_full(wfd, b, flen, at) == (ssize_t)flen &&
		    memcmp(a, b, flen) == 0;

		free(a);
		free(b);
		if (!same) {
			*reason = "wal overwritten by another process";
			goto out;
		}
	}
	memcpy(sh->src_raw, real, WAL_HDR_LEN);
	sh->src_off = sh->size;
	/* Its header is the real WAL's: a rolled index never resumes. */
	sh->cycle_index = sh->index;
	mark_durable(sh);
	witness_reset(sh);
	/* Cut whatever follows the last commit (a crash mid-append). */
	if ((uint64_t)st.st_size != sh->size) {
		log_db(LOG_DEBUG, sh->db_path, "shadow WAL cut to its last commit"
		    "\tindex=%08x from=%lld to=%llu", sh->index,
		    (long long)st.st_size, (unsigned long long)sh->size);
		if (ftruncate(sh->fd, (off_t)sh->size) != 0)
			rc = lsc_seterr(err, LSC_EIO, errno, "cannot truncate "
			    "'%s': %s", path, strerror(errno));
	}
	prune_generations(sh);
out:
	if (*reason != NULL)
		sh->gen[0] = '\0';
	if (wfd >= 0)
		close(wfd);
	free(path);
	free(text);
	free(genfile);
	return rc;
}

/*
 * The WAL header changed under us: SQLite restarted (or truncated) the
 * WAL, and we held a pin throughout since a capture that reached the end
 * of the old cycle, so the restart discarded only frames we hold
 * (wal/wal_db.h says why).  Take whatever the old cycle still shows past
 * our end (nothing, by that argument), and check the witness: every frame
 * the wal-index ever called committed in the old cycle must be ours.  The
 * new cycle is the next index, from its header.
 */
static int
follow_restart(struct shadow *sh, int fd, uint64_t wal_size,
    const uint8_t raw[WAL_HDR_LEN], const struct wal_hdr *h,
    struct shadow_capture *res, struct lsc_err *err)
{
	int rc;

	if (h->page_size != sh->src.page_size) {
		res->reason = "page size changed";
		return LSC_OK;
	}
	if ((rc = copy_frames(sh, fd, sh->src_off, wal_align(sh->src.page_size,
	    wal_size), res, err)) != LSC_OK)
		return rc;
	if (witness_missing(sh) > 0) {
		res->reason = "the WAL restarted before every committed frame "
		    "was copied";
		return LSC_OK;
	}
	/* Keys at or above INDEX_MAX are not read (ours or Litestream's). */
	if (sh->index + 1 >= INDEX_MAX) {
		res->reason = "max index exceeded";
		return LSC_OK;
	}
	if ((rc = shadow_sync(sh, err)) != LSC_OK ||
	    (rc = start_index(sh, sh->index + 1, raw, err)) != LSC_OK)
		return rc;
	sh->src = *h;
	memcpy(sh->src_raw, raw, WAL_HDR_LEN);
	sh->src_ck[0] = h->cksum1;
	sh->src_ck[1] = h->cksum2;
	sh->src_off = WAL_HDR_LEN;
	sh->cycle_index = sh->index;
	mark_durable(sh);
	witness_reset(sh);
	res->new_index = 1;
	return LSC_OK;
}

/*
 * Copy committed frames up to `end`, rolling to a new index before one
 * would pass the index limit, so that a backlog (a WAL found long, or a
 * daemon that fell behind) is split across indexes and every offset keeps
 * 8 hex digits.  Only a single transaction bigger than the room left may
 * take an index past the limit (a segment's name holds only its start);
 * the next index then starts after it.
 */
static int
copy_capped(struct shadow *sh, int fd, uint64_t end,
    struct shadow_capture *res, struct lsc_err *err)
{
	size_t flen = wal_frame_len(sh->src.page_size);
	int rc = LSC_OK;

	while (rc == LSC_OK && sh->src_off + flen <= end) {
		uint64_t before = sh->src_off, room, to;

		if (sh->size > WAL_HDR_LEN &&
		    sh->size + (end - sh->src_off) > sh->max_index_bytes) {
			if (sh->index + 1 >= INDEX_MAX) {
				res->reason = "max index exceeded";
				return LSC_OK;
			}
			if ((rc = roll_index(sh, err)) != LSC_OK)
				return rc;
			res->new_index = 1;
		}
		room = sh->max_index_bytes > sh->size ?
		    (sh->max_index_bytes - sh->size) / flen * flen : 0;
		to = end - sh->src_off > room ? sh->src_off + room : end;
		if ((rc = copy_frames(sh, fd, sh->src_off, to, res, err)) != LSC_OK)
			return rc;
		if (sh->src_off == before) {
			/* No commit within the room: the end of the valid WAL, or
			 * one transaction bigger than an index. */
			if (to < end)
				rc = copy_frames(sh, fd, sh->src_off, end, res, err);
			break;
		}
	}
	return rc;
}

int
shadow_capture(struct shadow *sh, int pinned, int defer_sync,
    struct shadow_capture *res, struct lsc_err *err)
{
	uint8_t raw[WAL_HDR_LEN], again[WAL_HDR_LEN];
	struct wal_hdr h;
	struct wal_shm_hdr shm;
	uint64_t wal_size, end;
	struct lsc_err local = { 0 };
	int fd = -1, rc, have_shm;

	memset(res, 0, sizeof(*res));
	if (sh->gen[0] == '\0') {
		res->reason = "no generation exists";
		return LSC_OK;
	}
	/* The witness first: every frame it calls committed is then in the
	 * file by the time we look at its size. */
	if (sh->shm_fd < 0)
		sh->shm_fd = wal_shm_open(sh->shm_path);	/* kept open */
	have_shm = sh->shm_fd >= 0 && wal_shm_read(sh->shm_fd, &shm,
	    NULL) == LSC_OK;
	if (have_shm)
		witness_note(sh, &shm);
	rc = open_wal(sh, &fd, &wal_size, err);
	if (rc == LSC_ENOTFOUND) {
		res->reason = "the WAL file was deleted";
		return LSC_OK;
	}
	if (rc != LSC_OK)
		return rc;
	sh->wal_size = wal_size;
	rc = read_wal_header(sh, fd, raw, &h, &local);
	if (rc != LSC_OK) {
		close(fd);
		if (rc == LSC_EIO)
			return lsc_seterr(err, rc, local.sys, "%s", local.msg);
		/* Truncated, and no writer has started the next cycle yet:
		 * under our pin, nothing we lack went with it. */
		if (!pinned)
			res->reason = "wal truncated by another process";
		return LSC_OK;
	}
	if (memcmp(raw, sh->src_raw, WAL_HDR_LEN) != 0) {
		if (!pinned)
			res->reason = "wal restarted by another process";
		else
			rc = follow_restart(sh, fd, wal_size, raw, &h, res, err);
		/* The new index continues from its header, in this pass too. */
		if (rc != LSC_OK || res->reason != NULL || !res->new_index)
			goto out;
		if (have_shm)
			witness_note(sh, &shm);
	}
	end = wal_align(sh->src.page_size, wal_size);
	if (end < sh->src_off) {
		res->reason = "wal truncated by another process";
		goto out;
	}
	if ((rc = copy_capped(sh, fd, end, res, err)) != LSC_OK ||
	    res->reason != NULL)
		goto out;
	/*
	 * Our chain stopped short of frames SQLite calls committed in this
	 * very cycle (the header has not changed meanwhile): what follows
	 * our end is not the end of the WAL but frames we cannot prove to
	 * continue ours, e.g. after uncommitted frames were once taken for
	 * committed.  Never wait quietly for them: start again.
	 */
	if (witness_missing(sh) > 0 && pread_full(fd, again, WAL_HDR_LEN, 0) ==
	    WAL_HDR_LEN && memcmp(again, sh->src_raw, WAL_HDR_LEN) == 0) {
		log_db(LOG_DEBUG, sh->db_path, "the wal-index has committed frames "
		    "past our chain\tmissing_frames=%llu", (unsigned long long)
		    witness_missing(sh));
		res->reason = "committed frames in the WAL do not continue the "
		    "shadow WAL";
	}
out:
	close(fd);
	if (rc == LSC_OK && res->reason == NULL && !defer_sync)
		rc = shadow_sync(sh, err);
	return rc;
}

void
shadow_drop_cache(struct shadow *sh, uint32_t index, uint64_t upto)
{
	/* Only the current file is open; older indexes are few and pruned
	 * soon.  posix_fadvise drops clean pages only (dirty ones get their
	 * writeback started), so nothing is lost, and a later read (a resume,
	 * a replica re-reading) comes from the disk. */
	if (sh->fd < 0 || index != sh->index || upto <= sh->dropped)
		return;
	(void)posix_fadvise(sh->fd, 0, (off_t)upto, POSIX_FADV_DONTNEED);
	sh->dropped = upto;
}

void
shadow_prune(struct shadow *sh, uint32_t index)
{
	for (uint32_t i = index; i-- > 0;) {
		char *path = shadow_path(sh, i);
		int gone = unlink(path) != 0 && errno == ENOENT;

		free(path);
		if (gone)
			break;		/* older ones were pruned before */
	}
}
