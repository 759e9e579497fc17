/* SPDX-License-Identifier: MIT */
/*
 * What SQLite's wal-index (the -shm file) says about the WAL: how many
 * frames are committed (mxFrame) and the salts of the current WAL cycle.
 * Capture uses it as an independent witness: if SQLite says frames up to
 * mxFrame are committed in this cycle and our checksum chain stops short
 * of them, continuity is lost and must not be taken for the end of the WAL.
 *
 * Layout (SQLite src/wal.c, "WAL-INDEX FORMAT"): the -shm file starts with
 * two copies of a 48-byte WalIndexHdr, in native byte order, which SQLite
 * writes copy 2 first and copy 1 last; a reader that finds them equal and
 * the checksum (native-order WAL checksum over the first 40 bytes) right
 * has a consistent header:
 *	 0 iVersion	 4 unused	 8 iChange
 *	12 isInit (u8)	13 bigEndCksum (u8)	14 szPage (u16)
 *	16 mxFrame	20 nPage	24 aFrameCksum[2]
 *	32 aSalt[2] (the WAL header's salt bytes, as stored there)
 *	40 aCksum[2]
 * followed at 96 by the checkpoint info, whose first field is nBackfill,
 * the frames of this cycle already copied into the database file (one
 * aligned u32, written atomically).
 * Reading it takes no lock and changes nothing: the app never notices.
 *
 * The descriptor must stay open as long as this process has SQLite
 * connections to the database: closing *any* descriptor of a file drops
 * every POSIX lock this process holds on it, and SQLite's read locks (our
 * pin) are POSIX locks on the -shm file.  Close it only after them.
 */
#ifndef LSC_WAL_SHM_H
#define LSC_WAL_SHM_H

#include <stdint.h>

#include "common/err.h"

struct wal_shm_hdr {
	uint32_t	mx_frame;	/* frames committed in this WAL cycle */
	uint32_t	backfilled;	/* of which checkpointed (nBackfill) */
	uint8_t		salts[8];	/* bytes 16..23 of that cycle's WAL header */
};

/* Open the -shm file read-only: an fd, or -1 (errno) if it is missing. */
int	wal_shm_open(const char *shm_path);

/*
 * Read a consistent header from the open -shm file `fd`.  LSC_OK and *out
 * filled; LSC_ENOTFOUND when there is no usable header (not yet
 * initialised, or no consistent copy after a few tries while SQLite was
 * writing it): the caller then simply has no witness this time.
 */
int	wal_shm_read(int fd, struct wal_shm_hdr *out, struct lsc_err *err);

#endif
