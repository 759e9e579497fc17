/* SPDX-License-Identifier: MIT */
/*
 * The shadow WAL: our local, durable copy of every committed WAL frame, in
 * the metadata directory beside the database (Litestream's layout):
 *
 *	<dir>/.<name>-litestream/generation        "<16 hex>\n"
 *	<dir>/.<name>-litestream/generations/<gen>/wal/<index %08x>.wal
 *
 * Shadow file <index> is the WAL header of that index followed by frames,
 * exactly the bytes the replica's segments of that index hold.  Frames are
 * appended only up to the last commit frame seen, and only after each one
 * has passed the salt and cumulative-checksum checks.
 *
 * Continuity: a generation stays valid only while we can prove that no
 * committed frame was lost between what we copied and what the WAL holds.
 * When that proof fails (the WAL was truncated, restarted more than once,
 * or rewritten behind us, or the database replaced), capture reports a
 * reason and the caller starts a new generation with a fresh snapshot.
 *
 * The index rolls to a new one when the WAL header changes (SQLite
 * restarted the WAL), and also before a shadow file would reach
 * `max_index_bytes` (just under 4 GiB): Litestream v0.3.13 cannot read
 * offsets of 9 hex digits.  A rolled index has a header of our own and its
 * frames are re-encoded with that header's salts and checksums; the pages
 * are untouched.
 */
#ifndef LSC_SHADOW_H
#define LSC_SHADOW_H

#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"
#include "wal/wal_format.h"
#include "wal/wal_layout.h"

struct shadow {
	char		*db_path;
	char		*wal_path;
	char		*meta_dir;
	/* Every file and directory we create copies the database's mode
	 * (fs_copy_file_mode): a copy of a private database stays private. */
	mode_t		 file_mode, dir_mode;
	char		 gen[GEN_ID_LEN + 1];	/* "" when there is none */
	uint32_t	 index;		/* current shadow index */
	/* The index at which the real WAL's current cycle began: `index`
	 * unless the index rolled since.  The database file holds no frame
	 * of this cycle past our pin, so a snapshot must be named by it
	 * (a restore replays the snapshot's index from offset 0). */
	uint32_t	 cycle_index;
	int		 fd;		/* shadow file of `index`, or -1 */
	uint64_t	 size;		/* bytes in it: header + committed frames */
	int		 dirty;		/* appended since the last fsync */
	uint64_t	 dropped;	/* shadow_drop_cache's last `upto` */
	/* Where the current index stood at its last good fsync.  A failed
	 * fsync may have lost what was written since (Linux marks the pages
	 * clean and a later fsync can succeed), so the shadow goes back
	 * there and copies those frames again from the WAL, which our pin
	 * keeps. */
	struct {
		uint64_t	 size, src_off;
		uint32_t	 src_ck[2], dst_ck[2];
	} durable;
	/* The real WAL we follow, and the shadow's own header (the same
	 * unless the index was rolled). */
	uint8_t		 src_raw[WAL_HDR_LEN];
	struct wal_hdr	 src, dst;
	uint32_t	 src_ck[2], dst_ck[2];	/* checksums after last frame */
	uint64_t	 src_off;	/* offset in the real WAL matching `size` */
	uint64_t	 wal_size;	/* the -wal file's size at the last capture */
	/* A witness for the cycle of `src`, to prove that we stop only at
	 * its end: the most frames SQLite's wal-index has called committed. */
	char		*shm_path;
	int		 shm_fd;	/* -1 until opened; see wal_shm.h on closing */
	uint32_t	 seen_mx;
	uint32_t	 backfilled;	/* of the cycle, by the last witness read */
	uint64_t	 max_index_bytes;
	uint8_t		*buf;		/* frame I/O buffer */
	size_t		 buf_len;
};

struct shadow_capture {
	uint64_t	 bytes;		/* appended to shadow files */
	uint32_t	 commits;	/* commit frames appended */
	int		 new_index;	/* the index moved on */
	const char	*reason;	/* set: continuity lost, start a generation */
};

/* Set up for a database; meta_dir NULL means <dir>/.<name>-litestream.
 * Creates the directory (with the database's mode, x added where r). */
int	shadow_init(struct shadow *sh, const char *db_path, const char *meta_dir,
	    struct lsc_err *err);
/* Close everything: only after the SQLite connections to the database are
 * closed, since it closes a descriptor of the -shm file (wal_shm.h). */
void	shadow_release(struct shadow *sh);
/* Free the copy buffer (up to 256 frames) between captures: an idle
 * database should cost next to nothing (bench/idle_dbs.sh). */
void	shadow_trim(struct shadow *sh);

/*
 * Resume the generation recorded on disk.  LSC_OK with `*reason` NULL when
 * the shadow provably continues the real WAL; otherwise `*reason` says why
 * a new generation is needed (errors are only for I/O failures).
 */
int	shadow_resume(struct shadow *sh, const char **reason, struct lsc_err *err);

/*
 * Start a new generation: shadow index 0 = the real WAL's header and its
 * committed frames (up to the index limit).  Call it holding a pin, so
 * that what follows is a capture under a pin.  A WAL with no header yet
 * gets index 0 = a header of our own (page size `page_size`, the
 * database's) and no frame; the WAL the application's next write starts
 * is then followed as a restart.
 */
int	shadow_new_generation(struct shadow *sh, uint32_t page_size,
	    struct lsc_err *err);

/*
 * Copy committed frames that are in the real WAL now (never reading past
 * the size it had when called) into the shadow.  `pinned` says a read pin
 * has been held throughout since a capture that reached the end of the
 * WAL: then a restart or truncation is followed (it discarded only frames
 * we hold, wal/wal_db.h); without it, one breaks continuity.  With
 * `defer_sync` the fsync is left to shadow_sync.
 */
int	shadow_capture(struct shadow *sh, int pinned, int defer_sync,
	    struct shadow_capture *res, struct lsc_err *err);
int	shadow_sync(struct shadow *sh, struct lsc_err *err);

/* Path of shadow file `index` of the current generation (new string). */
char	*shadow_path(const struct shadow *sh, uint32_t index);
/* Path of shadow file `index` of generation `gen` under `meta_dir`, for
 * readers that keep their own copy of both (new string). */
char	*shadow_gen_path(const char *meta_dir, const char *gen, uint32_t index);
/* Size of shadow file `index`: -1 if it does not exist. */
int64_t	shadow_file_size(const struct shadow *sh, uint32_t index);
/*
 * Drop from the page cache the bytes [0, upto) of shadow file `index`,
 * once every replica holds them: under a steady writer the shadow WAL is
 * written once, read once and then only kept for a crash, so caching it
 * only takes memory from the app (and on this VM, page cache that grows
 * into fresh memory was half the daemon's CPU: bench/drain.sh).
 */
void	shadow_drop_cache(struct shadow *sh, uint32_t index, uint64_t upto);
/* Delete shadow files of indexes below `index`. */
void	shadow_prune(struct shadow *sh, uint32_t index);
/* Number of frames in the current index (after its header). */
uint64_t shadow_frames(const struct shadow *sh);
/* Number of frames of the real WAL's current cycle that we hold, across
 * any rolled indexes. */
uint64_t shadow_cycle_frames(const struct shadow *sh);
/* Of those, how many are not checkpointed yet (as of the last capture's
 * reading of the wal-index; all of them when it could not be read). */
uint64_t shadow_pending_frames(const struct shadow *sh);

#endif
