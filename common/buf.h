/* SPDX-License-Identifier: MIT */
/*
 * A growable byte buffer with a hard cap (curl's dynbuf): appending past
 * `max` fails instead of growing without bound.  `data` is always
 * NUL-terminated one byte past `len`, so text can be read in place; never
 * keep a pointer into it across an append, which may move it.
 */
#ifndef LSC_BUF_H
#define LSC_BUF_H

#include <stddef.h>

#include "common/err.h"

struct buf {
	unsigned char	*data;	/* NULL until the first append */
	size_t		 len;
	size_t		 cap;
	size_t		 max;	/* hard cap on len */
};

/* Start empty with a cap of `max` bytes; cannot fail. */
void	buf_init(struct buf *b, size_t max);
/* Free the contents; the buffer is empty (and reusable) afterwards. */
void	buf_release(struct buf *b);
/* Keep the storage, drop the contents. */
void	buf_reset(struct buf *b);
/* Append n bytes; LSC_EIO-free: fails with LSC_ECORRUPT past the cap. */
int	buf_append(struct buf *b, const void *p, size_t n, struct lsc_err *err);
int	buf_appendf(struct buf *b, struct lsc_err *err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Make room for n more bytes without changing len; returns the tail. */
unsigned char *buf_reserve(struct buf *b, size_t n, struct lsc_err *err);
/* Hand the storage to the caller (who frees it); the buffer is empty. */
unsigned char *buf_detach(struct buf *b, size_t *len);
/* Drop the first n bytes. */
void	buf_consume(struct buf *b, size_t n);

#endif
