/* SPDX-License-Identifier: MIT */
/*
 * age v1 encryption as a stream filter, in the shape Litestream v0.3.10+
 * writes its objects: object = age(LZ4 frame).  Only X25519 recipients
 * and identities (no passphrases, SSH keys or plugins).  The format is
 * C2SP's age specification (c2sp.org/age):
 *
 *	age-encryption.org/v1\n
 *	-> X25519 <base64 ephemeral share>\n        one stanza per recipient
 *	<base64 wrapped file key>\n
 *	--- <base64 HMAC-SHA-256 of the header through "---">\n
 *	<16-byte nonce><chunk 0>...<last chunk>     binary payload
 *
 * Each object gets a fresh 16-byte file key, wrapped for every recipient.
 * The payload is the plaintext in 64 KiB chunks, each sealed with
 * ChaCha20-Poly1305 (16-byte tag) under HKDF(file key, nonce, "payload"),
 * with the nonce "11-byte big-endian chunk counter || last-chunk flag".
 * The last chunk is short (or full), never empty unless the whole
 * plaintext is; that is what makes truncation, dropped, reordered or
 * added chunks detectable.
 *
 * Both directions push bytes into a sink (as lz4frame.h), so memory stays
 * at one chunk whatever the object's size: the writer seals in place
 * (64 KiB + 16); the reader opens out of place (the sealed chunk and its
 * 64 KiB of plaintext), plus the header (at most AGE_HEADER_MAX) while it
 * is read.  The reader releases a chunk only after its tag verified, but
 * before it has seen the rest: only ager_finish() returning LSC_OK says
 * the whole object was good.
 *
 * Errors: LSC_ECORRUPT for anything wrong with the bytes ("age header:",
 * "age payload:" messages), LSC_ECONFIG when no identity opens the object
 * (a wrong key is a configuration problem, not corruption).  Secret keys
 * never appear in messages.
 */
#ifndef LSC_AGE_H
#define LSC_AGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/lz4frame.h"	/* lsc_sink_fn */

#define AGE_KEY_LEN		32		/* X25519 keys */
#define AGE_FILE_KEY_LEN	16
#define AGE_CHUNK_LEN		(64 * 1024)	/* plaintext per chunk */
#define AGE_TAG_LEN		16
#define AGE_HEADER_MAX		(64 * 1024)	/* we refuse longer headers */
/* "age1" + 52 data + 6 checksum characters, and the identity's form. */
#define AGE_RECIPIENT_STRLEN	62
#define AGE_IDENTITY_STRLEN	74
/* The header starts with this, whatever the version. */
#define AGE_MAGIC		"age-encryption.org/"
/* "age:" + 32 hex digits: names a recipient set (age_fingerprint). */
#define AGE_FINGERPRINT_LEN	36

struct age_identity {
	unsigned char	secret[AGE_KEY_LEN];
	unsigned char	public[AGE_KEY_LEN];	/* X25519(secret, basepoint) */
};

struct age_identities {
	struct age_identity *v;
	size_t		 n;
};

/* Parse an X25519 recipient "age1..." (lower case) into its public key.
 * LSC_ECONFIG naming the string when it is not one. */
int	age_recipient_parse(const char *s, unsigned char pk[AGE_KEY_LEN],
	    struct lsc_err *err);
/* Write the "age1..." form of `pk` into `out` (AGE_RECIPIENT_STRLEN + 1). */
void	age_recipient_format(const unsigned char pk[AGE_KEY_LEN], char *out);
/* Parse "AGE-SECRET-KEY-1..." (upper case) and derive its public key.
 * LSC_ECONFIG; the message never quotes the string. */
int	age_identity_parse(const char *s, struct age_identity *id,
	    struct lsc_err *err);
/*
 * Load an identity file as age-keygen writes it: '#' comment lines, blank
 * lines, and one AGE-SECRET-KEY-1... per line (several allowed; trailing
 * blanks and CR are ignored).  The file must be a regular file of at most
 * 64 KiB that neither group nor others can read (LSC_ECONFIG, "chmod 600
 * it"), holding at least one key.  Errors name the file and line, never a
 * key.  On success `out` owns the keys (age_identities_release wipes them).
 */
int	age_identity_file_load(const char *path, struct age_identities *out,
	    struct lsc_err *err);
void	age_identities_release(struct age_identities *ids);

/*
 * A name for a set of recipients, the same whatever their order: "age:"
 * and the first 16 bytes of SHA-256 over the sorted keys, in hex, into
 * `out` (AGE_FINGERPRINT_LEN + 1).  It says whether two configurations
 * encrypt for the same keys without storing the keys themselves.
 */
void	age_fingerprint(const unsigned char (*pks)[AGE_KEY_LEN], size_t n,
	    char *out);

/* 1 if `data` (len bytes, the start of an object) begins like an age file;
 * decides on the first byte, since an LZ4 frame starts with 0x04. */
int	age_looks_encrypted(const void *data, size_t len);

struct agew;
struct ager;

/*
 * Encrypt to the `n` (>= 1) recipients in `pks` into `sink`: the header
 * and nonce are written at once.  Returns NULL and fills `err` on failure.
 */
struct agew *agew_new(const unsigned char (*pks)[AGE_KEY_LEN], size_t n,
	    lsc_sink_fn sink, void *ctx, struct lsc_err *err);
int	agew_write(struct agew *w, const void *data, size_t len,
	    struct lsc_err *err);
/* Seal and write the last chunk; nothing may be written afterwards. */
int	agew_finish(struct agew *w, struct lsc_err *err);
/* Bytes of ciphertext written to the sink so far. */
uint64_t agew_total_out(const struct agew *w);
void	agew_free(struct agew *w);

/*
 * Decrypt with any of `ids` (borrowed: they must outlive the reader; may
 * be empty, and then every object fails with "no identity") into `sink`.
 */
struct ager *ager_new(const struct age_identities *ids, lsc_sink_fn sink,
	    void *ctx, struct lsc_err *err);
int	ager_feed(struct ager *r, const void *data, size_t len,
	    struct lsc_err *err);
/* Open the last chunk.  LSC_ECORRUPT unless exactly one whole, verified
 * age file was fed (no truncation, no missing last chunk, nothing after). */
int	ager_finish(struct ager *r, struct lsc_err *err);
/* Plaintext bytes released to the sink so far. */
uint64_t ager_total_out(const struct ager *r);
void	ager_free(struct ager *r);

#endif
