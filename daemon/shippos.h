/* SPDX-License-Identifier: MIT */
/*
 * What a replica holds, known without reading it: a small local record
 * of the last segment shipped, so that replicate can resume after a
 * restart with only the public age recipients.  (Litestream v0.3 downloads
 * and decrypts the last segment to learn where it ended, so its host
 * needs the private key.)
 *
 * The record is a file in the meta directory, with the database's mode:
 * lsc-shipped for the replica of a database that has one, and
 * lsc-shipped.<name> for each replica of one that has several (a record
 * is never trusted for another replica than its own: two stores may hold
 * the same key with the same stored size and still end apart).
 *
 *
 *	litestream-c shipped 1
 *	generation <16 hex>
 *	encryption none | age:<32 hex>      (age_fingerprint of the recipients)
 *	segment <index %08x> <offset> <stored size> <end offset>   (optional)
 *
 * It is rewritten (temp file + rename) after each segment the replica
 * accepted, and before the first object of a generation.  It is trusted
 * only when the replica's listing agrees: its last segment of the
 * generation has exactly the recorded key (index, offset) and stored
 * size.  Objects are never overwritten with other bytes under one key and
 * a put is all or nothing, so that segment is the one recorded, and its
 * end is `end`.  Otherwise (a crash between the upload and the record, a
 * record lost, another host) the segment is read: plain, or with the
 * identity file when one is configured and readable; without one, a new
 * generation is the safe answer.  The record is not fsynced: losing it or
 * finding it empty only costs that fallback, and it cannot come back
 * wrong (a stale record does not match the listing).
 *
 * The encryption line keeps one generation from mixing plain and
 * encrypted objects, or objects for different recipients: a generation
 * whose record names other settings than the config's is not continued.
 */
#ifndef LSC_SHIPPOS_H
#define LSC_SHIPPOS_H

#include <stdint.h>

#include "common/age.h"
#include "wal/wal_layout.h"

struct ship_seg {
	char		 gen[GEN_ID_LEN + 1];	/* "": none */
	uint32_t	 index;
	uint64_t	 offset;	/* where the segment starts */
	uint64_t	 stored;	/* its size in the replica */
	uint64_t	 end;		/* where it ends in the index */
};

struct ship_state {
	int		 loaded;	/* the file was read (or found absent) */
	char		 gen[GEN_ID_LEN + 1];	/* the record's; "" none */
	char		 enc[AGE_FINGERPRINT_LEN + 1];	/* the record's */
	struct ship_seg	 last;		/* the record's segment */
	struct ship_seg	 tried;		/* last upload whose commit failed */
};

#endif
