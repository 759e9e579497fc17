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
#include "restore/catalog.h"

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
 * The most an object listed at `listed` bytes can decompress to: an LZ4
 * frame inflates at most 255-fold (a 1-byte token, a 2-byte offset and a
 * byte per 255 of match length), and age only adds bytes.  More is not
 * the object that was listed: a bomb, or a frame that lies.  The reason
 * goes into `why` (n bytes), for the message.
 */
uint64_t objread_object_cap(uint64_t listed, char *why, size_t n);

/*
 * The most WAL segment `s` may inflate to, with the reason in `why`: a
 * segment that the next one of its index follows (among `s`+1 .. `end`,
 * sorted) must end exactly where that one starts, and none holds more
 * than objread_inflate_cap of its listed size.
 */
uint64_t objread_segment_cap(const struct cat_obj *s, const struct cat_obj *end,
	    char *why, size_t n);

/*
 * Stream object `key` of `r`, decrypted if need be and decompressed, into
 * `sink`, refusing it once it inflates past `cap` bytes (`why` says where
 * the cap comes from, for the message).  Errors name the object: LSC_ECONFIG
 * when it is encrypted and no identity file is set or none opens it;
 * LSC_ECORRUPT when it is of the other kind than the generation's first
 * object, inflates past its cap, or fails any check of age or LZ4 (a
 * flipped byte, a truncation, a missing or reordered chunk).  A failure of
 * the sink itself (a full disk) keeps the sink's message, which names the
 * output instead.  Bytes may reach the sink before a failure is known
 * (see age.h).
 */
int	objread_fetch(struct objread *o, struct replica *r, const char *key,
	    uint64_t cap, const char *why, lsc_sink_fn sink, void *ctx,
	    struct lsc_err *err);

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
	    uint64_t cap, const char *why, lsc_sink_fn sink, void *ctx);
int	objread_feed(void *x, const void *data, size_t len,
	    struct lsc_err *err);
int	objread_end(struct objread_obj *x, int rc, const struct lsc_err *e,
	    struct lsc_err *err);

#endif
