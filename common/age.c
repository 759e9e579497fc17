/* SPDX-License-Identifier: MIT */
/*
 * The age stream filter (see age.h): the writer assembles header, nonce
 * and sealed chunks; the reader collects the header line by line, opens
 * the file key with an identity, checks the header MAC, then opens one
 * chunk at a time.
 *
 * The STREAM construction hinges on the last-chunk flag: a chunk sealed as
 * "last" cannot pass as a middle one or the other way round, and chunk i
 * cannot pass as chunk j.  The writer therefore holds a full chunk back
 * until it knows whether more plaintext follows (agew_write) or not
 * (agew_finish).  The reader opens a full chunk as soon as it has it, as
 * a middle chunk or else as the last one (r_full), and then refuses any
 * byte after a last chunk and an end of data without one.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/age_int.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/xmalloc.h"

#define SEALED_LEN	(AGE_CHUNK_LEN + AGE_TAG_LEN)

/* Chunk nonce: 11-byte big-endian counter, then the last-chunk flag. */
static void
chunk_nonce(uint64_t counter, int last, unsigned char nonce[12])
{
	memset(nonce, 0, 12);
	for (int i = 10; i >= 3; i--, counter >>= 8)
		nonce[i] = (unsigned char)(counter & 0xff);
	nonce[11] = last ? 1 : 0;
}

struct agew {
	lsc_sink_fn	 sink;
	void		*ctx;
	EVP_CIPHER_CTX	*cctx;
	unsigned char	 key[32];	/* payload key */
	unsigned char	*chunk;		/* SEALED_LEN: plaintext, sealed in place */
	size_t		 have;		/* plaintext bytes in `chunk` */
	uint64_t	 counter;	/* chunks written */
	uint64_t	 total_out;
	int		 finished;
};

static int
w_emit(struct agew *w, const void *data, size_t len, struct lsc_err *err)
{
	w->total_out += len;
	return w->sink(w->ctx, data, len, err);
}

/* Header and nonce for a new file key; derives the payload key. */
static int
w_header(struct agew *w, const unsigned char (*pks)[AGE_KEY_LEN], size_t n,
    struct lsc_err *err)
{
	unsigned char file_key[AGE_FILE_KEY_LEN], hmac_key[32];
	unsigned char mac[AGE_MAC_LEN], nonce[AGE_NONCE_LEN];
	char b64[B64_ENCODED_LEN(AGE_MAC_LEN) + 1];
	struct age_header h = { 0 };
	struct buf out;
	int rc = LSC_OK;

	buf_init(&out, AGE_HEADER_MAX);
	if (RAND_bytes(file_key, sizeof(file_key)) != 1 ||
	    RAND_bytes(nonce, sizeof(nonce)) != 1)
		rc = lsc_seterr(err, LSC_EIO, 0, "OpenSSL RAND_bytes failed");
	h.v = xcalloc(n, sizeof(*h.v));
	for (size_t i = 0; rc == LSC_OK && i < n; i++, h.n++)
		rc = age_x25519_wrap(pks[i], file_key, &h.v[i], err);
	if (rc == LSC_OK)
		rc = age_header_format(&h, &out, err);
	if (rc == LSC_OK)
		rc = age_hkdf(file_key, sizeof(file_key), NULL, 0, "header",
		    hmac_key, err);
	if (rc == LSC_OK)
		rc = age_hmac(hmac_key, out.data, out.len, mac, err);
	if (rc == LSC_OK) {
		b64_encode(mac, sizeof(mac), b64);
		rc = buf_appendf(&out, err, " %s\n", b64);
	}
	if (rc == LSC_OK)
		rc = buf_append(&out, nonce, sizeof(nonce), err);
	if (rc == LSC_OK)
		rc = age_hkdf(file_key, sizeof(file_key), nonce, sizeof(nonce),
		    "payload", w->key, err);
	if (rc == LSC_OK)
		rc = w_emit(w, out.data, out.len, err);
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
	age_header_release(&h);
	buf_release(&out);
	return rc;
}

struct agew *
agew_new(const unsigned char (*pks)[AGE_KEY_LEN], size_t n, lsc_sink_fn sink,
    void *ctx, struct lsc_err *err)
{
	struct agew *w;

	if (n == 0) {
		lsc_seterr(err, LSC_ECONFIG, 0, "age: no recipient to encrypt to");
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->sink = sink;
	w->ctx = ctx;
	w->chunk = xmalloc(SEALED_LEN);
	if ((w->cctx = EVP_CIPHER_CTX_new()) == NULL) {
		lsc_seterr(err, LSC_EIO, 0, "cannot allocate a cipher");
		agew_free(w);
		return NULL;
	}
	if (w_header(w, pks, n, err) != LSC_OK) {
		agew_free(w);
		return NULL;
	}
	return w;
}

/* Seal the chunk in `w->chunk` in place and write it. */
static int
w_seal(struct agew *w, int last, struct lsc_err *err)
{
	unsigned char nonce[12];
	int rc;

	chunk_nonce(w->counter, last, nonce);
	rc = age_aead_seal(w->cctx, w->key, nonce, w->chunk, w->have, w->chunk,
	    err);
	if (rc == LSC_OK)
		rc = w_emit(w, w->chunk, w->have + AGE_TAG_LEN, err);
	w->counter++;
	w->have = 0;
	return rc;
}

int
agew_write(struct agew *w, const void *data, size_t len, struct lsc_err *err)
{
	const unsigned char *p = data;
	int rc;

	if (w->finished)
		return lsc_seterr(err, LSC_EIO, 0, "age: write after finish");
	while (len > 0) {
		size_t n;

		/* A full chunk with more to come is not the last one. */
		if (w->have == AGE_CHUNK_LEN &&
		    (rc = w_seal(w, 0, err)) != LSC_OK)
			return rc;
		n = AGE_CHUNK_LEN - w->have < len ? AGE_CHUNK_LEN - w->have : len;
		memcpy(w->chunk + w->have, p, n);
		w->have += n;
		p += n;
		len -= n;
	}
	return LSC_OK;
}

int
agew_finish(struct agew *w, struct lsc_err *err)
{
	if (w->finished)
		return lsc_seterr(err, LSC_EIO, 0, "age: finished twice");
	w->finished = 1;
	/* Empty only when the whole plaintext is: one empty last chunk. */
	return w_seal(w, 1, err);
}

uint64_t
agew_total_out(const struct agew *w)
{
	return w->total_out;
}

void
agew_free(struct agew *w)
{
	if (w == NULL)
		return;
	EVP_CIPHER_CTX_free(w->cctx);
	if (w->chunk != NULL) {
		OPENSSL_cleanse(w->chunk, SEALED_LEN);
		free(w->chunk);
	}
	OPENSSL_cleanse(w->key, sizeof(w->key));
	free(w);
}

enum r_state { R_HEADER, R_NONCE, R_PAYLOAD, R_DONE, R_FAILED };

struct ager {
	const struct age_identities *ids;
	lsc_sink_fn	 sink;
	void		*ctx;
	enum r_state	 state;
	struct buf	 hdr;		/* header text so far */
	size_t		 line_start;	/* of the line being collected */
	unsigned char	 nonce[AGE_NONCE_LEN];
	size_t		 nonce_have;
	unsigned char	 file_key[AGE_FILE_KEY_LEN];
	unsigned char	 key[32];	/* payload key */
	EVP_CIPHER_CTX	*cctx;
	unsigned char	*chunk;		/* SEALED_LEN: one sealed chunk */
	unsigned char	*plain;		/* AGE_CHUNK_LEN: its plaintext */
	size_t		 have;
	uint64_t	 counter;	/* chunks opened */
	int		 last_seen;	/* a chunk opened as the last one */
	uint64_t	 total_out;
};

struct ager *
ager_new(const struct age_identities *ids, lsc_sink_fn sink, void *ctx,
    struct lsc_err *err)
{
	struct ager *r = xcalloc(1, sizeof(*r));

	r->ids = ids;
	r->sink = sink;
	r->ctx = ctx;
	buf_init(&r->hdr, AGE_HEADER_MAX);
	if ((r->cctx = EVP_CIPHER_CTX_new()) == NULL) {
		lsc_seterr(err, LSC_EIO, 0, "cannot allocate a cipher");
		ager_free(r);
		return NULL;
	}
	return r;
}

/* Find the file key among the X25519 stanzas, then check the MAC. */
static int
r_open_header(struct ager *r, struct lsc_err *err)
{
	struct age_header h = { 0 };
	unsigned char hmac_key[32], mac[AGE_MAC_LEN];
	int rc, matched = 0;

	rc = age_header_parse((const char *)r->hdr.data, r->hdr.len, &h, err);
	/* Check every X25519 stanza's shape, whoever it is for. */
	for (size_t i = 0; rc == LSC_OK && i < h.n; i++) {
		const struct age_stanza *s = &h.v[i];

		if (age_stanza_is_x25519(s) && (s->nargs != 2 || s->body_len !=
		    AGE_FILE_KEY_LEN + AGE_TAG_LEN))
			rc = lsc_seterr(err, LSC_ECORRUPT, 0, "age header: a "
			    "malformed X25519 stanza");
	}
	for (size_t k = 0; rc == LSC_OK && !matched && r->ids != NULL &&
	    k < r->ids->n; k++)
		for (size_t i = 0; rc == LSC_OK && !matched && i < h.n; i++)
			if (age_stanza_is_x25519(&h.v[i]))
				rc = age_x25519_unwrap(&r->ids->v[k], &h.v[i],
				    r->file_key, &matched, err);
	if (rc == LSC_OK && !matched)
		rc = lsc_seterr(err, LSC_ECONFIG, 0, "no age identity opens it "
		    "(encrypted for other recipients: wrong age-identity-file?)");
	if (rc == LSC_OK)
		rc = age_hkdf(r->file_key, sizeof(r->file_key), NULL, 0, "header",
		    hmac_key, err);
	if (rc == LSC_OK)
		rc = age_hmac(hmac_key, r->hdr.data, h.mac_covers, mac, err);
	if (rc == LSC_OK && CRYPTO_memcmp(mac, h.mac, sizeof(mac)) != 0)
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, "age header: the MAC does "
		    "not match (the header was altered)");
	OPENSSL_cleanse(hmac_key, sizeof(hmac_key));
	age_header_release(&h);
	return rc;
}

/*
 * Collect header text up to the end of the "---" line.  Only visible
 * ASCII, spaces and LFs belong in it: binary data (a plain LZ4 object)
 * is refused at its first byte rather than buffered.
 */
static int
r_header(struct ager *r, const unsigned char **p, size_t *len,
    struct lsc_err *err)
{
	static const size_t magic_len = sizeof(AGE_MAGIC) - 1;

	while (*len > 0) {
		const unsigned char *lf = memchr(*p, '\n', *len);
		size_t n = lf != NULL ? (size_t)(lf - *p) + 1 : *len;
		const char *line;
		int rc;

		for (size_t i = 0; i < n; i++) {
			unsigned char c = (*p)[i];
			size_t at = r->hdr.len + i;

			if ((c < 0x20 || c > 0x7e) && c != '\n')
				return lsc_seterr(err, LSC_ECORRUPT, 0, at <
				    magic_len ? "age header: not an age file" :
				    "age header: a byte that is not text");
			if (at < magic_len && c != (unsigned char)AGE_MAGIC[at])
				return lsc_seterr(err, LSC_ECORRUPT, 0,
				    "age header: not an age file");
		}
		if (buf_append(&r->hdr, *p, n, NULL) != LSC_OK)
			return lsc_seterr(err, LSC_ECORRUPT, 0, "age header: "
			    "longer than %d bytes", AGE_HEADER_MAX);
		*p += n;
		*len -= n;
		if (lf == NULL)
			break;
		line = (const char *)r->hdr.data + r->line_start;
		if (r->hdr.len - r->line_start >= 3 && memcmp(line, "---", 3) == 0) {
			if ((rc = r_open_header(r, err)) != LSC_OK)
				return rc;
			buf_release(&r->hdr);
			r->state = R_NONCE;
			break;
		}
		r->line_start = r->hdr.len;
	}
	return LSC_OK;
}

/*
 * Open the `r->have` sealed bytes in `r->chunk` as chunk number r->counter,
 * the last one if `last`, into `r->plain`.  LSC_ECORRUPT (and nothing
 * released) when the tag does not verify.  Out of place, so that a full
 * chunk can be tried both ways (r_full).
 */
static int
r_try(struct ager *r, int last, size_t *n, struct lsc_err *err)
{
	unsigned char nonce[12];

	chunk_nonce(r->counter, last, nonce);
	*n = r->have - AGE_TAG_LEN;
	return age_aead_open(r->cctx, r->key, nonce, r->chunk, r->have, r->plain,
	    err);
}

/* Release the chunk just opened. */
static int
r_release(struct ager *r, size_t n, struct lsc_err *err)
{
	r->counter++;
	r->have = 0;
	r->total_out += n;
	return n > 0 ? r->sink(r->ctx, r->plain, n, err) : LSC_OK;
}

static int
r_fail(struct ager *r, const char *what, struct lsc_err *err)
{
	return lsc_seterr(err, LSC_ECORRUPT, 0, "age payload: chunk %llu fails "
	    "authentication (%s)", (unsigned long long)r->counter, what);
}

/*
 * A full sealed chunk: a middle chunk, or a full last one.  As age's
 * reference reader does, try it as a middle chunk first and as the last
 * one second, and release it at once either way; anything after a last
 * chunk is then an error (r_feed), and so is the end of the data after a
 * middle one (ager_finish).  The two keys differ, so a chunk opens at most
 * one way.
 */
static int
r_full(struct ager *r, struct lsc_err *err)
{
	struct lsc_err e = { 0 };
	size_t n;
	int rc = r_try(r, 0, &n, &e);

	if (rc == LSC_ECORRUPT) {
		lsc_err_clear(&e);
		if ((rc = r_try(r, 1, &n, &e)) == LSC_OK)
			r->last_seen = 1;
	}
	if (rc == LSC_ECORRUPT)
		return r_fail(r, "altered, reordered or from another file", err);
	if (rc != LSC_OK)
		return lsc_seterr(err, rc, e.sys, "%s", e.msg);
	return r_release(r, n, err);
}

/* At the end of the data: what is left must be a short last chunk. */
static int
r_last(struct ager *r, struct lsc_err *err)
{
	struct lsc_err e = { 0 };
	size_t n;
	int rc;

	if (r->last_seen)
		return LSC_OK;
	if (r->have == 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0, r->counter == 0 ?
		    "age payload: it has no chunk" : "age payload: truncated "
		    "(no last chunk after chunk %llu)",
		    (unsigned long long)r->counter - 1);
	if (r->have < AGE_TAG_LEN)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "age payload: truncated "
		    "(chunk %llu is shorter than its tag)",
		    (unsigned long long)r->counter);
	rc = r_try(r, 1, &n, &e);
	if (rc == LSC_ECORRUPT)
		return r_fail(r, "altered, truncated or not the last chunk", err);
	if (rc != LSC_OK)
		return lsc_seterr(err, rc, e.sys, "%s", e.msg);
	/* Empty only when the whole payload is. */
	if (n == 0 && r->counter > 0)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "age payload: the last "
		    "chunk is empty");
	r->last_seen = 1;
	return r_release(r, n, err);
}

static int
r_feed(struct ager *r, const unsigned char *p, size_t len, struct lsc_err *err)
{
	int rc;

	if (r->state == R_HEADER && (rc = r_header(r, &p, &len, err)) != LSC_OK)
		return rc;
	if (r->state == R_NONCE && len > 0) {
		size_t n = AGE_NONCE_LEN - r->nonce_have < len ?
		    AGE_NONCE_LEN - r->nonce_have : len;

		memcpy(r->nonce + r->nonce_have, p, n);
		r->nonce_have += n;
		p += n;
		len -= n;
		if (r->nonce_have == AGE_NONCE_LEN) {
			rc = age_hkdf(r->file_key, sizeof(r->file_key), r->nonce,
			    sizeof(r->nonce), "payload", r->key, err);
			OPENSSL_cleanse(r->file_key, sizeof(r->file_key));
			if (rc != LSC_OK)
				return rc;
			r->chunk = xmalloc(SEALED_LEN);
			r->plain = xmalloc(AGE_CHUNK_LEN);
			r->state = R_PAYLOAD;
		}
	}
	while (r->state == R_PAYLOAD && len > 0) {
		size_t n = SEALED_LEN - r->have < len ? SEALED_LEN - r->have : len;

		if (r->last_seen)
			return lsc_seterr(err, LSC_ECORRUPT, 0, "age payload: "
			    "data after the last chunk");
		memcpy(r->chunk + r->have, p, n);
		r->have += n;
		p += n;
		len -= n;
		if (r->have == SEALED_LEN && (rc = r_full(r, err)) != LSC_OK)
			return rc;
	}
	return LSC_OK;
}

int
ager_feed(struct ager *r, const void *data, size_t len, struct lsc_err *err)
{
	int rc;

	if (r->state == R_FAILED)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "age: stream already "
		    "failed");
	if (r->state == R_DONE)
		return lsc_seterr(err, LSC_EIO, 0, "age: feed after finish");
	if ((rc = r_feed(r, data, len, err)) != LSC_OK)
		r->state = R_FAILED;
	return rc;
}

int
ager_finish(struct ager *r, struct lsc_err *err)
{
	int rc;

	switch (r->state) {
	case R_HEADER:
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, r->hdr.len == 0 ?
		    "age header: empty object" : "age header: truncated");
		break;
	case R_NONCE:
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, "age header: the object "
		    "ends before its payload nonce");
		break;
	case R_PAYLOAD:
		rc = r_last(r, err);
		break;
	default:
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, "age: stream already "
		    "failed or finished");
		break;
	}
	r->state = rc == LSC_OK ? R_DONE : R_FAILED;
	return rc;
}

uint64_t
ager_total_out(const struct ager *r)
{
	return r->total_out;
}

void
ager_free(struct ager *r)
{
	if (r == NULL)
		return;
	buf_release(&r->hdr);
	EVP_CIPHER_CTX_free(r->cctx);
	free(r->chunk);		/* ciphertext: no secret */
	if (r->plain != NULL) {
		OPENSSL_cleanse(r->plain, AGE_CHUNK_LEN);
		free(r->plain);
	}
	OPENSSL_cleanse(r->file_key, sizeof(r->file_key));
	OPENSSL_cleanse(r->key, sizeof(r->key));
	free(r);
}
