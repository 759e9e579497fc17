/* SPDX-License-Identifier: MIT */
/*
 * Writing one replica object: bytes -> LZ4 frame -> [age, when the
 * database has recipients] -> replica put, streamed, as Litestream
 * v0.3.10+ writes them.  Memory: one LZ4 block and one age chunk.
 *
 * objput_finish() ends the LZ4 frame and the age stream and reports the
 * object's stored size before objput_commit() makes it exist: a caller
 * whose commit fails (or seems to: a lost reply) still knows what the
 * replica may now hold under the key (daemon/shippos.h).
 */
#ifndef LSC_OBJPUT_H
#define LSC_OBJPUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/age.h"
#include "common/err.h"
#include "replica/replica.h"

struct objput;

/* Start an upload to `key`, encrypted to `npk` recipients (0: plain).
 * The keys are borrowed until objput_commit or objput_abort. */
struct objput *objput_begin(struct replica *rep, const char *key,
	    const unsigned char (*pks)[AGE_KEY_LEN], size_t npk,
	    struct lsc_err *err);
int	objput_write(struct objput *o, const void *data, size_t len,
	    struct lsc_err *err);
/* Close the streams; *stored is the size the object will have. */
int	objput_finish(struct objput *o, uint64_t *stored, struct lsc_err *err);
/* Commit the finished upload; frees `o` whatever the outcome. */
int	objput_commit(struct objput *o, struct lsc_err *err);
/* Give up; frees `o` (NULL is fine); nothing is left under the key. */
void	objput_abort(struct objput *o);

#endif
