/* SPDX-License-Identifier: MIT */
/*
 * The cryptography of age v1, as calls into OpenSSL 3 (see age_int.h):
 * HKDF-SHA-256, HMAC-SHA-256, ChaCha20-Poly1305 and X25519, and the X25519
 * recipient stanza built from them (C2SP age, "The X25519 recipient type"):
 *
 *	share     = X25519(ephemeral secret, basepoint)
 *	shared    = X25519(ephemeral secret, recipient)   refused if all zero
 *	wrap key  = HKDF(ikm = shared, salt = share || recipient,
 *	                 info = "age-encryption.org/v1/X25519")
 *	body      = ChaCha20-Poly1305(wrap key, nonce = 12 zero bytes, file key)
 *
 * Every secret on our stack is wiped with OPENSSL_cleanse before return.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "common/age_int.h"
#include "common/base64.h"
#include "common/xmalloc.h"

#define X25519_INFO	"age-encryption.org/v1/X25519"

int
age_hkdf(const unsigned char *ikm, size_t ikm_len, const unsigned char *salt,
    size_t salt_len, const char *info, unsigned char out[32],
    struct lsc_err *err)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int ok;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikm_len);
	/* No salt parameter is HKDF's empty salt (RFC 5869: zeros). */
	if (salt_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	ok = kctx != NULL && EVP_KDF_derive(kctx, out, 32, params) > 0;
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	if (!ok)
		return lsc_seterr(err, LSC_EIO, 0, "OpenSSL HKDF-SHA-256 failed");
	return LSC_OK;
}

int
age_hmac(const unsigned char key[32], const void *data, size_t len,
    unsigned char out[AGE_MAC_LEN], struct lsc_err *err)
{
	size_t n = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, data, len,
	    out, AGE_MAC_LEN, &n) == NULL || n != AGE_MAC_LEN)
		return lsc_seterr(err, LSC_EIO, 0, "OpenSSL HMAC-SHA-256 failed");
	return LSC_OK;
}

/* One ChaCha20-Poly1305 operation; `enc` 1 seals, 0 opens. */
static int
aead(void *vctx, const unsigned char key[32], const unsigned char nonce[12],
    const unsigned char *in, size_t len, unsigned char *out, int enc,
    struct lsc_err *err)
{
	EVP_CIPHER_CTX *ctx = vctx != NULL ? vctx : EVP_CIPHER_CTX_new();
	unsigned char tag[AGE_TAG_LEN];
	size_t n = enc ? len : len - AGE_TAG_LEN;
	int outl = 0, fin = 0, ok = 0;

	if (!enc && len < AGE_TAG_LEN)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "sealed data shorter "
		    "than its tag");
	if (ctx == NULL)
		return lsc_seterr(err, LSC_EIO, 0, "cannot allocate a cipher");
	/* The tag first: `in` and `out` may be one buffer. */
	if (!enc)
		memcpy(tag, in + n, AGE_TAG_LEN);
	if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce,
	    enc) != 1)
		goto out;
	if (n > 0 && (EVP_CipherUpdate(ctx, out, &outl, in, (int)n) != 1 ||
	    (size_t)outl != n))
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AGE_TAG_LEN,
	    tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1) {
		if (!enc) {
			OPENSSL_cleanse(out, n);
			ok = -1;
		}
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AGE_TAG_LEN,
	    out + n) != 1)
		goto out;
	ok = 1;
out:
	if (vctx == NULL)
		EVP_CIPHER_CTX_free(ctx);
	if (ok == -1)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "authentication failed");
	if (ok == 0)
		return lsc_seterr(err, LSC_EIO, 0, "OpenSSL ChaCha20-Poly1305 "
		    "failed");
	return LSC_OK;
}

int
age_aead_seal(void *ctx, const unsigned char key[32],
    const unsigned char nonce[12], const unsigned char *in, size_t len,
    unsigned char *out, struct lsc_err *err)
{
	return aead(ctx, key, nonce, in, len, out, 1, err);
}

int
age_aead_open(void *ctx, const unsigned char key[32],
    const unsigned char nonce[12], const unsigned char *in, size_t len,
    unsigned char *out, struct lsc_err *err)
{
	return aead(ctx, key, nonce, in, len, out, 0, err);
}

int
age_x25519_public(const unsigned char secret[AGE_KEY_LEN],
    unsigned char pub[AGE_KEY_LEN], struct lsc_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret,
	    AGE_KEY_LEN);
	size_t n = AGE_KEY_LEN;
	int ok = k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 &&
	    n == AGE_KEY_LEN;

	EVP_PKEY_free(k);
	if (!ok)
		return lsc_seterr(err, LSC_EIO, 0, "OpenSSL X25519 failed");
	return LSC_OK;
}

/*
 * shared = X25519(secret, peer).  LSC_ECORRUPT when it is all zero: the
 * peer is a low-order point, and the spec says to abort.  (OpenSSL's own
 * derive refuses that case too; we check rather than rely on it.)
 */
static int
x25519(const unsigned char secret[AGE_KEY_LEN],
    const unsigned char peer[AGE_KEY_LEN], unsigned char shared[AGE_KEY_LEN],
    struct lsc_err *err)
{
	static const unsigned char zero[AGE_KEY_LEN];
	EVP_PKEY *sk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret,
	    AGE_KEY_LEN);
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
	    AGE_KEY_LEN);
	EVP_PKEY_CTX *ctx = sk != NULL ? EVP_PKEY_CTX_new(sk, NULL) : NULL;
	size_t n = AGE_KEY_LEN;
	int rc = LSC_OK;

	if (ctx == NULL || pk == NULL || EVP_PKEY_derive_init(ctx) != 1) {
		rc = lsc_seterr(err, LSC_EIO, 0, "OpenSSL X25519 failed");
	} else if (EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &n) != 1 || n != AGE_KEY_LEN ||
	    CRYPTO_memcmp(shared, zero, AGE_KEY_LEN) == 0) {
		OPENSSL_cleanse(shared, AGE_KEY_LEN);
		rc = lsc_seterr(err, LSC_ECORRUPT, 0, "age header: an X25519 "
		    "share is a low-order point (all-zero shared secret)");
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(pk);
	return rc;
}

/* wrap key = HKDF(shared, share || recipient, X25519_INFO) */
static int
wrap_key(const unsigned char shared[AGE_KEY_LEN],
    const unsigned char share[AGE_KEY_LEN],
    const unsigned char recipient[AGE_KEY_LEN], unsigned char key[32],
    struct lsc_err *err)
{
	unsigned char salt[2 * AGE_KEY_LEN];

	memcpy(salt, share, AGE_KEY_LEN);
	memcpy(salt + AGE_KEY_LEN, recipient, AGE_KEY_LEN);
	return age_hkdf(shared, AGE_KEY_LEN, salt, sizeof(salt), X25519_INFO, key,
	    err);
}

int
age_stanza_is_x25519(const struct age_stanza *s)
{
	return s->nargs >= 1 && strcmp(s->args[0], "X25519") == 0;
}

int
age_x25519_wrap(const unsigned char recipient[AGE_KEY_LEN],
    const unsigned char file_key[AGE_FILE_KEY_LEN], struct age_stanza *s,
    struct lsc_err *err)
{
	static const unsigned char nonce[12];
	unsigned char eph[AGE_KEY_LEN], share[AGE_KEY_LEN], shared[AGE_KEY_LEN];
	unsigned char key[32], body[AGE_FILE_KEY_LEN + AGE_TAG_LEN];
	char b64[B64_ENCODED_LEN(AGE_KEY_LEN) + 1];
	int rc;

	if (RAND_bytes(eph, sizeof(eph)) != 1)
		return lsc_seterr(err, LSC_EIO, 0, "OpenSSL RAND_bytes failed");
	rc = age_x25519_public(eph, share, err);
	if (rc == LSC_OK)
		rc = x25519(eph, recipient, shared, err);
	if (rc == LSC_OK)
		rc = wrap_key(shared, share, recipient, key, err);
	if (rc == LSC_OK)
		rc = age_aead_seal(NULL, key, nonce, file_key, AGE_FILE_KEY_LEN,
		    body, err);
	OPENSSL_cleanse(eph, sizeof(eph));
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != LSC_OK)
		return rc;
	b64_encode(share, AGE_KEY_LEN, b64);
	memset(s, 0, sizeof(*s));
	s->nargs = 2;
	s->args = xcalloc(2, sizeof(*s->args));
	s->args[0] = xstrdup("X25519");
	s->args[1] = xstrdup(b64);
	s->body_len = sizeof(body);
	s->body = xmalloc(sizeof(body));
	memcpy(s->body, body, sizeof(body));
	return LSC_OK;
}

int
age_x25519_unwrap(const struct age_identity *id, const struct age_stanza *s,
    unsigned char file_key[AGE_FILE_KEY_LEN], int *matched,
    struct lsc_err *err)
{
	static const unsigned char nonce[12];
	unsigned char share[AGE_KEY_LEN], shared[AGE_KEY_LEN], key[32];
	unsigned char out[AGE_FILE_KEY_LEN];
	struct lsc_err e = { 0 };
	int rc;

	*matched = 0;
	if (s->nargs != 2)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "age header: an X25519 "
		    "stanza has %zu arguments, not 2", s->nargs);
	if (b64_decode(s->args[1], strlen(s->args[1]), share, sizeof(share)) !=
	    AGE_KEY_LEN)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "age header: an X25519 "
		    "share is not the canonical base64 of 32 bytes");
	/* Checked before any decryption (partitioning oracles, per spec). */
	if (s->body_len != AGE_FILE_KEY_LEN + AGE_TAG_LEN)
		return lsc_seterr(err, LSC_ECORRUPT, 0, "age header: an X25519 "
		    "stanza body is %zu bytes, not 32", s->body_len);
	if ((rc = x25519(id->secret, share, shared, err)) != LSC_OK)
		return rc;
	rc = wrap_key(shared, share, id->public, key, err);
	OPENSSL_cleanse(shared, sizeof(shared));
	if (rc != LSC_OK)
		return rc;
	rc = age_aead_open(NULL, key, nonce, s->body, s->body_len, out, &e);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc == LSC_ECORRUPT)
		return LSC_OK;		/* another recipient's stanza */
	if (rc != LSC_OK)
		return lsc_seterr(err, rc, e.sys, "%s", e.msg);
	memcpy(file_key, out, AGE_FILE_KEY_LEN);
	OPENSSL_cleanse(out, sizeof(out));
	*matched = 1;
	return LSC_OK;
}
