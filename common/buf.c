/* SPDX-License-Identifier: MIT */
/* Growable byte buffer with a hard cap: see buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

unsigned char *
buf_reserve(struct buf *b, size_t n, struct lsc_err *err)
{
	size_t want;

	if (n > b->max || b->len > b->max - n) {
		lsc_seterr(err, LSC_ECORRUPT, 0,
		    "buffer limit of %zu bytes exceeded", b->max);
		return NULL;
	}
	want = b->len + n + 1;		/* +1 for the NUL terminator */
	if (want > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < want)
			cap = cap > ((size_t)-1) / 2 ? want : cap * 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	return b->data + b->len;
}

int
buf_append(struct buf *b, const void *p, size_t n, struct lsc_err *err)
{
	unsigned char *tail = buf_reserve(b, n, err);

	if (tail == NULL)
		return LSC_ECORRUPT;
	if (n > 0)
		memcpy(tail, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return LSC_OK;
}

int
buf_appendf(struct buf *b, struct lsc_err *err, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return lsc_seterr(err, LSC_EIO, 0, "out of memory formatting");
	rc = buf_append(b, s, (size_t)n, err);
	free(s);
	return rc;
}

unsigned char *
buf_detach(struct buf *b, size_t *len)
{
	unsigned char *p = b->data;

	if (len != NULL)
		*len = b->len;
	buf_init(b, b->max);
	return p;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}
