/* SPDX-License-Identifier: MIT */
/* Reading SQLite's wal-index header: see wal_shm.h. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "wal/wal_format.h"
#include "wal/wal_shm.h"

#define SHM_HDR_LEN	48
#define SHM_CKSUM_OFF	40
#define SHM_TRIES	20	/* a writer updates it in microseconds */

static uint32_t
native32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* 1 if one copy of the header is initialised and its checksum holds. */
static int
hdr_valid(const uint8_t *h)
{
	const uint16_t one = 1;
	/* The checksum is over native-order words: big-endian on a
	 * big-endian host, whatever the WAL file's own order is. */
	int big_endian = *(const uint8_t *)&one == 0;
	uint32_t s[2] = { 0, 0 };

	if (h[12] == 0)		/* isInit */
		return 0;
	wal_checksum(big_endian, h, SHM_CKSUM_OFF, s);
	return s[0] == native32(h + SHM_CKSUM_OFF) &&
	    s[1] == native32(h + SHM_CKSUM_OFF + 4);
}

int
wal_shm_open(const char *shm_path)
{
	return open(shm_path, O_RDONLY | O_CLOEXEC);
}

int
wal_shm_read(int fd, struct wal_shm_hdr *out, struct lsc_err *err)
{
	uint8_t b[2 * SHM_HDR_LEN + 4];

	for (int i = 0; i < SHM_TRIES; i++) {
		if (pread_full(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
			break;
		if (memcmp(b, b + SHM_HDR_LEN, SHM_HDR_LEN) != 0 ||
		    !hdr_valid(b))
			continue;	/* caught mid-update: read again */
		out->mx_frame = native32(b + 16);
		out->backfilled = native32(b + 2 * SHM_HDR_LEN);
		memcpy(out->salts, b + 32, sizeof(out->salts));
		return LSC_OK;
	}
	return lsc_seterr(err, LSC_ENOTFOUND, 0, "no consistent wal-index "
	    "header");
}
