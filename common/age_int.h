/* SPDX-License-Identifier: MIT */
/*
 * Inside the age filter (common/age*.c only, and their unit tests): the
 * header's text form, and the OpenSSL calls the format is built from.
 * Nothing here is a cryptographic primitive of our own: X25519, HKDF,
 * ChaCha20-Poly1305 and HMAC are OpenSSL 3's (libcrypto).
 */
#ifndef LSC_AGE_INT_H
#define LSC_AGE_INT_H

#include <stddef.h>

#include "common/age.h"
#include "common/buf.h"
#include "common/err.h"

#define AGE_VERSION_LINE	"age-encryption.org/v1"
#define AGE_NONCE_LEN		16	/* payload nonce */
#define AGE_MAC_LEN		32	/* HMAC-SHA-256 */
#define AGE_COLUMNS		64	/* stanza body line width */

/* One recipient stanza: "-> ARG ARG...\n" then its base64 body. */
struct age_stanza {
	char		**args;		/* nargs >= 1 strings, owned */
	size_t		 nargs;
	unsigned char	*body;		/* owned; may be NULL when body_len is 0 */
	size_t		 body_len;
};

/* A parsed header: the stanzas, the MAC, and how many bytes of the
 * header text the MAC covers (through "---", without the space). */
struct age_header {
	struct age_stanza *v;
	size_t		 n;
	unsigned char	 mac[AGE_MAC_LEN];
	size_t		 mac_covers;
};

/*
 * Parse a whole header: `len` bytes of text, from the version line through
 * the LF that ends the "--- MAC" line, and nothing after it.  Every rule
 * of the spec's ABNF is checked (v1 only, at least one stanza, non-empty
 * arguments of visible ASCII, body lines of exactly 64 columns but the
 * last, canonical base64, a 43-character MAC).  LSC_ECORRUPT with a
 * message starting "age header: "; on success `h` owns everything
 * (age_header_release).
 */
int	age_header_parse(const char *text, size_t len, struct age_header *h,
	    struct lsc_err *err);
/* Append the header text of `h`'s stanzas to `out`, from the version line
 * through "---" (the bytes the MAC covers). */
int	age_header_format(const struct age_header *h, struct buf *out,
	    struct lsc_err *err);
void	age_header_release(struct age_header *h);
void	age_stanza_release(struct age_stanza *s);

/* An X25519 stanza wrapping `file_key` for `recipient` (fresh ephemeral
 * key from OpenSSL's CSPRNG).  `s` is owned by the caller on success. */
int	age_x25519_wrap(const unsigned char recipient[AGE_KEY_LEN],
	    const unsigned char file_key[AGE_FILE_KEY_LEN], struct age_stanza *s,
	    struct lsc_err *err);
/*
 * Try to unwrap an X25519 stanza `s` with identity `id`.  LSC_OK with
 * *matched 1 and `file_key` filled when it opens; LSC_OK with *matched 0
 * when it is addressed to another key; LSC_ECORRUPT when the stanza is
 * malformed (argument count, a share or body of the wrong size) or the
 * shared secret is all zero (a low-order share).
 */
int	age_x25519_unwrap(const struct age_identity *id,
	    const struct age_stanza *s, unsigned char file_key[AGE_FILE_KEY_LEN],
	    int *matched, struct lsc_err *err);
/* 1 if `s` is an X25519 stanza (its first argument is exactly "X25519"). */
int	age_stanza_is_x25519(const struct age_stanza *s);

/* X25519(secret, basepoint). */
int	age_x25519_public(const unsigned char secret[AGE_KEY_LEN],
	    unsigned char pub[AGE_KEY_LEN], struct lsc_err *err);
/* HKDF-SHA-256 with 32 bytes of output; `salt` may be empty. */
int	age_hkdf(const unsigned char *ikm, size_t ikm_len,
	    const unsigned char *salt, size_t salt_len, const char *info,
	    unsigned char out[32], struct lsc_err *err);
/* HMAC-SHA-256. */
int	age_hmac(const unsigned char key[32], const void *data, size_t len,
	    unsigned char out[AGE_MAC_LEN], struct lsc_err *err);
/*
 * ChaCha20-Poly1305 (RFC 7539) with a 32-byte key and 12-byte nonce, no
 * associated data, through `ctx` (an EVP_CIPHER_CTX, reused by streams;
 * NULL: a temporary one).  seal: `len` bytes of `in` to len + 16 bytes of
 * `out`; open: `len` (>= 16) bytes to len - 16, LSC_ECORRUPT when the tag
 * does not verify.  `in` and `out` may be the same buffer.
 */
int	age_aead_seal(void *ctx, const unsigned char key[32],
	    const unsigned char nonce[12], const unsigned char *in, size_t len,
	    unsigned char *out, struct lsc_err *err);
int	age_aead_open(void *ctx, const unsigned char key[32],
	    const unsigned char nonce[12], const unsigned char *in, size_t len,
	    unsigned char *out, struct lsc_err *err);

#endif
