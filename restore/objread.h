/* SPDX-License-Identifier: MIT */
/*
 * Reading replica objects for a restore: each object is an LZ4 frame, or
 * (Litestream v0.3.10+, litestream-c with age-recipient) that frame
 * encrypted with age.  Which one is told by the object's first byte: an
 * age file starts "age-encryption.org/", an LZ4 frame with 0x04.
 *
 * One objread serves one generation: the first object read fixes whether
 * it is encrypted, and any later object of the other kind is refused, as
 * a replica never mixes them within a generation.  The identity file is
 * opened at the first encrypted object only, so plain replicas need none.
 */
#ifndef LSC_OBJREAD_H
#define LSC_OBJREAD_H

#include "common/age.h"
#include "common/err.h"
#include "common/lz4frame.h"
#include "replica/replica.h"

struct objread {
	const char	*identity_file;	/* borrowed; NULL: none configured */
	struct age_identities ids;	/* loaded at the first encrypted object */
	int		 mode;		/* 0 unknown, 1 plain, 2 encrypted */
	char		*first_key;	/* the object that fixed `mode` */
	struct lz4r	*lz;		/* reused from object to object */
};

/* Cannot fail; `identity_file` (may be NULL) must outlive `o`. */
void	objread_init(struct objread *o, const char *identity_file);
/* Wipes the keys. */
void	objread_release(struct objread *o);

/*
 * Stream object `key` of `r`, decrypted if need be and decompressed, into
 * `sink`.  Errors name the object: LSC_ECONFIG when it is encrypted and
 * no identity file is set or none opens it; LSC_ECORRUPT when it is of the
 * other kind than the generation's first object, or fails any check of
 * age or LZ4 (a flipped byte, a truncation, a missing or reordered chunk).
 * Bytes may reach the sink before the failure is known (see age.h).
 */
int	objread_fetch(struct objread *o, struct replica *r, const char *key,
	    lsc_sink_fn sink, void *ctx, struct lsc_err *err);

/*
 * The same in three steps, for stored bytes that come from elsewhere (a
 * prefetched copy): objread_fetch is objread_begin, replica_get into
 * objread_feed, objread_end.  Begin cannot fail.  Feed returns errors
 * as they are; objread_end takes `rc`, the reading's outcome so far (and
 * `e`, its error when not LSC_OK), verifies the ends when it is LSC_OK,
 * frees `x` and returns what objread_fetch would, naming the object in
 * `err` once.
 */
struct objread_obj;
struct objread_obj *objread_begin(struct objread *o, const char *key,
	    lsc_sink_fn sink, void *ctx);
int	objread_feed(void *x, const void *data, size_t len,
	    struct lsc_err *err);
int	objread_end(struct objread_obj *x, int rc, const struct lsc_err *e,
	    struct lsc_err *err);

#endif
