/* SPDX-License-Identifier: MIT */
/*
 * Fuzz the age reader (common/age*.c): the header parser, the X25519
 * stanza unwrapping, the header MAC and the STREAM chunks.
 *
 * Input, by its first byte (the mode):
 *   even: the rest is an age file from a hostile bucket, fed to a reader
 *         holding a fixed identity, in pieces whose sizes come from the
 *         second byte.  Property: no crash; plaintext is released only
 *         for a file that then finishes cleanly or fails, never past
 *         ager_finish's verdict (nothing is checked about the bytes
 *         themselves: an attacker without our key cannot make a file
 *         that opens, and one with it can make any plaintext).
 *   odd:  bytes 1..2 pick a position and an XOR mask; the rest is a
 *         plaintext.  It is encrypted to our recipient, one byte of the
 *         ciphertext is flipped at that position (modulo its length; mask
 *         0 flips nothing), and decrypted.  Property: an unflipped file
 *         opens to exactly the plaintext; a flipped one fails (the header
 *         MAC or a chunk's Poly1305 tag covers every byte) - except a flip
 *         in the header's base64 padding-free text that decodes to the
 *         same bytes, which cannot happen: age's base64 is canonical.
 * Also: the identity and recipient parsers on the same bytes as text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/age.h"
#include "common/err.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fixed key pair (age-keygen output, used for nothing else; public key
 * age15fq084lrp7kwd9mmd2qa0jtfy0sg8k6zr5fg3w43pdcvmkzttewqqxy8ma). */
static const char IDENTITY[] =
    "AGE-SECRET-KEY-1L8HEDUUMJJF8LR94WXM453L480QJRPSVPSRKXUJNPL6QCD5TMNMQAHD927";

struct buf {
	uint8_t	*p;
	size_t	 len, cap;
};

static int
to_buf(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	struct buf *b = ctx;

	(void)err;
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return LSC_OK;
}

static int
load(struct age_identities *ids)
{
	static struct age_identity id;
	static int done;

	if (!done) {
		if (age_identity_parse(IDENTITY, &id, NULL) != LSC_OK)
			abort();
		done = 1;
	}
	ids->v = &id;
	ids->n = 1;
	return 0;
}

/* Feed `in` to a reader in pieces of `step` bytes; LSC_OK if it opens. */
static int
open_file(const struct age_identities *ids, const uint8_t *in, size_t len,
    size_t step, struct buf *out)
{
	struct lsc_err e = { 0 };
	struct ager *r = ager_new(ids, to_buf, out, &e);
	int rc = LSC_OK;

	if (r == NULL)
		abort();
	for (size_t at = 0; rc == LSC_OK && at < len; at += step)
		rc = ager_feed(r, in + at, len - at < step ? len - at : step, &e);
	if (rc == LSC_OK)
		rc = ager_finish(r, &e);
	if (ager_total_out(r) != out->len)
		abort();
	ager_free(r);
	return rc;
}

static void
parsers(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	unsigned char pk[AGE_KEY_LEN];
	struct age_identity id;
	char back[AGE_RECIPIENT_STRLEN + 1];

	memcpy(s, data, size);
	s[size] = '\0';
	if (age_recipient_parse(s, pk, NULL) == LSC_OK) {
		/* Lower case only, so it formats back to itself. */
		age_recipient_format(pk, back);
		if (strcmp(back, s) != 0)
			abort();
	}
	(void)age_identity_parse(s, &id, NULL);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct age_identities ids;
	struct buf out = { 0 }, ct = { 0 };

	if (size < 3 || size > 256 * 1024)
		return 0;
	load(&ids);
	if (size <= 128)
		parsers(data, size);
	if ((data[0] & 1) == 0) {
		(void)open_file(&ids, data + 2, size - 2, 1 + data[1] % 97 * 41,
		    &out);
	} else {
		struct lsc_err e = { 0 };
		const struct age_identity *id = &ids.v[0];
		const uint8_t *plain = data + 3;
		size_t plen = size - 3, at;
		struct agew *w = agew_new((const unsigned char (*)[AGE_KEY_LEN])
		    id->public, 1, to_buf, &ct, &e);
		int rc;

		if (w == NULL || agew_write(w, plain, plen, &e) != LSC_OK ||
		    agew_finish(w, &e) != LSC_OK)
			abort();
		agew_free(w);
		at = ((size_t)data[1] * 7919u) % ct.len;
		ct.p[at] ^= data[2];
		rc = open_file(&ids, ct.p, ct.len, 4096, &out);
		if (data[2] == 0) {
			if (rc != LSC_OK || out.len != plen ||
			    (plen > 0 && memcmp(out.p, plain, plen) != 0))
				abort();
		} else if (rc == LSC_OK) {
			abort();	/* a flipped byte went unnoticed */
		}
	}
	free(out.p);
	free(ct.p);
	return 0;
}
