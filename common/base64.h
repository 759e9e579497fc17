/* SPDX-License-Identifier: MIT */
/*
 * Base64 as the age format uses it (C2SP age, "Conventions"): RFC 4648's
 * standard alphabet (A-Z a-z 0-9 + /) without '=' padding.  The encoder
 * writes the canonical form; the decoder accepts only the canonical form:
 * no padding, no other character (not even CR or a space), no length that
 * leaves a lone 6-bit group, and zero bits in the unused low bits of the
 * last character (RFC 4648 §3.5), so that every byte string has exactly
 * one encoding and a header cannot be altered without changing its text.
 */
#ifndef LSC_BASE64_H
#define LSC_BASE64_H

#include <stddef.h>

/* Characters needed to encode n bytes (no padding, no NUL). */
#define B64_ENCODED_LEN(n)	(((n) * 4 + 2) / 3)

/* Encode `len` bytes into `out`, which must hold B64_ENCODED_LEN(len) + 1
 * bytes; the result is NUL-terminated.  Returns its length. */
size_t	b64_encode(const void *data, size_t len, char *out);

/*
 * Decode `len` characters of canonical unpadded base64 into `out`, which
 * holds `out_cap` bytes.  Returns the number of bytes decoded, or -1 for
 * any non-canonical or invalid input, or output that does not fit.
 */
long	b64_decode(const char *s, size_t len, unsigned char *out, size_t out_cap);

/* 1 if c is in the base64 alphabet (without '='). */
int	b64_is_char(int c);

#endif
