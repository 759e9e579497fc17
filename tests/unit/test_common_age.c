/* SPDX-License-Identifier: MIT */
/*
 * The age filter beyond the spec's vectors (test_common_age_vectors.c):
 * canonical base64 (RFC 4648's examples, unpadded, and what a canonical
 * decoder refuses); Bech32 (BIP 173's valid and invalid strings, without
 * its length limit); the spec's example key pair; round trips across the
 * chunk boundaries fed whole, byte by byte and in odd pieces, with the
 * exact ciphertext size; and refusals: every single-bit flip and every
 * truncation of a small object, flips and cuts across a three-chunk one,
 * dropped, swapped, repeated and appended chunks, a wrong key, several
 * recipients and identities, and identity files (comments, CRLF, modes,
 * bad lines that must not be echoed).  A refused small object releases
 * nothing; a refused big one releases at most a true prefix.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "common/age.h"
#include "common/base64.h"
#include "common/bech32.h"
#include "common/buf.h"
#include "common/xmalloc.h"

/* The spec's example identity and its recipient (C2SP age). */
static const char spec_id[] =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
static const char spec_rcpt[] =
    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

static int
buf_sink(void *ctx, const void *data, size_t len, struct lsc_err *err)
{
	return buf_append(ctx, data, len, err);
}

static void
test_base64(void)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy" }, { "\xff\xfe\xfd", "//79" },
		{ "\xfb\xff", "+/8" },
	};
	static const char *bad[] = {
		"Zh", "Zm9=", "Zg==", "Z", "Zm9vY", "Zm 9", "Zm9\r", "Zm-v",
		"Zm9v\n", "Zm9vYh", "Zm9vYmF",
	};
	unsigned char out[64];
	char enc[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t n = strlen(ok[i].in);

		T_EQ_INT(b64_encode(ok[i].in, n, enc), strlen(ok[i].out));
		T_EQ_STR(enc, ok[i].out);
		T_EQ_INT(b64_decode(ok[i].out, strlen(ok[i].out), out,
		    sizeof(out)), n);
		T_CHECK(memcmp(out, ok[i].in, n) == 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (b64_decode(bad[i], strlen(bad[i]), out, sizeof(out)) != -1)
			printf("FAIL base64 accepted '%s'\n", bad[i]);
		T_EQ_INT(b64_decode(bad[i], strlen(bad[i]), out, sizeof(out)), -1);
	}
	/* Output that does not fit is refused. */
	T_EQ_INT(b64_decode("Zm9vYmFy", 8, out, 5), -1);
	T_EQ_INT(B64_ENCODED_LEN(32), 43);
}

static void
test_bech32(void)
{
	static const char *valid[] = {
		"A12UEL5L", "a12uel5l",
		"an83characterlonghumanreadablepartthatcontainsthenumber1andthe"
		"excludedcharactersbio1tt5tgs",
		"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
		"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
		/* Over BIP 173's 90 characters: age sets no limit. */
		"an84characterslonghumanreadablepartthatcontainsthenumber1andthe"
		"excludedcharactersbio1569pvx",
		/* one byte, 2 zero padding bits */
		"a1lu9cgf6y",
	};
	static const char *invalid[] = {
		"pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3",
		"A1G7SGD8", "10a06t8", "1qzzfhee", "A12uEL5L", "a12uel5m",
		"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx",
		/* valid checksums, bad padding: 2 non-zero bits; 7 bits */
		"a1lacwuu8k", "a1llqm6ww2r",
	};
	unsigned char data[128], back[128];
	char hrp[128], enc[256];
	size_t n;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		int rc = bech32_decode(valid[i], hrp, sizeof(hrp), data,
		    sizeof(data), &n);

		if (rc != 0)
			printf("FAIL bech32 refused '%s'\n", valid[i]);
		T_EQ_INT(rc, 0);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		int rc = bech32_decode(invalid[i], hrp, sizeof(hrp), data,
		    sizeof(data), &n);

		if (rc == 0)
			printf("FAIL bech32 accepted '%s'\n", invalid[i]);
		T_EQ_INT(rc, -1);
	}
	T_EQ_INT(bech32_decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	    hrp, sizeof(hrp), data, sizeof(data), &n), 0);
	T_EQ_STR(hrp, "abcdef");
	T_EQ_INT(n, 20);
	T_EQ_INT(bech32_encode("abcdef", data, n, enc, sizeof(enc)), 0);
	T_EQ_STR(enc, "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
	/* Upper case HRP: upper-case result, same checksum. */
	for (size_t i = 0; i < sizeof(back); i++)
		back[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= 40; len++) {
		T_EQ_INT(bech32_encode("TEST-HRP-", back, len, enc, sizeof(enc)), 0);
		T_EQ_INT(bech32_decode(enc, hrp, sizeof(hrp), data, sizeof(data),
		    &n), 0);
		T_EQ_STR(hrp, "TEST-HRP-");
		T_CHECK(n == len && memcmp(data, back, len) == 0);
	}
	T_EQ_INT(bech32_encode("age", back, 32, enc, 10), -1);
}

static void
test_keys(void)
{
	struct age_identity id;
	unsigned char pk[AGE_KEY_LEN];
	char s[AGE_RECIPIENT_STRLEN + 1], up[128];
	struct lsc_err err = { 0 };

	T_EQ_INT(age_identity_parse(spec_id, &id, &err), LSC_OK);
	age_recipient_format(id.public, s);
	T_EQ_STR(s, spec_rcpt);
	T_EQ_INT(strlen(spec_rcpt), AGE_RECIPIENT_STRLEN);
	T_EQ_INT(strlen(spec_id), AGE_IDENTITY_STRLEN);
	T_EQ_INT(age_recipient_parse(spec_rcpt, pk, &err), LSC_OK);
	T_CHECK(memcmp(pk, id.public, AGE_KEY_LEN) == 0);
	/* Recipients are lower case, identities upper case. */
	for (size_t i = 0; i <= strlen(spec_rcpt); i++)
		up[i] = (char)(spec_rcpt[i] >= 'a' && spec_rcpt[i] <= 'z' ?
		    spec_rcpt[i] - 32 : spec_rcpt[i]);
	T_EQ_INT(age_recipient_parse(up, pk, NULL), LSC_ECONFIG);
	for (size_t i = 0; i <= strlen(spec_id); i++)
		up[i] = (char)(spec_id[i] >= 'A' && spec_id[i] <= 'Z' ?
		    spec_id[i] + 32 : spec_id[i]);
	T_EQ_INT(age_identity_parse(up, &id, NULL), LSC_ECONFIG);
	/* The wrong kind of key, a bad checksum, a short key. */
	T_EQ_INT(age_recipient_parse(spec_id, pk, NULL), LSC_ECONFIG);
	lsc_err_clear(&err);
	T_EQ_INT(age_identity_parse(spec_rcpt, &id, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, spec_rcpt) == NULL);
	snprintf(up, sizeof(up), "%s", spec_rcpt);
	up[10] = up[10] == 'q' ? 'p' : 'q';
	T_EQ_INT(age_recipient_parse(up, pk, NULL), LSC_ECONFIG);
	T_EQ_INT(bech32_encode("age", pk, 31, up, sizeof(up)), 0);
	T_EQ_INT(age_recipient_parse(up, pk, NULL), LSC_ECONFIG);
	T_EQ_INT(age_recipient_parse("", pk, NULL), LSC_ECONFIG);
	/* A secret key never reaches the message. */
	snprintf(up, sizeof(up), "%s", spec_id);
	up[20] = up[20] == 'Q' ? 'P' : 'Q';
	lsc_err_clear(&err);
	T_EQ_INT(age_identity_parse(up, &id, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, "GFPYYSJZ") == NULL);
}

/* A fresh key pair from a counter (deterministic, distinct). */
static void
make_id(int k, struct age_identity *id)
{
	unsigned char secret[AGE_KEY_LEN];
	char s[128];

	for (int i = 0; i < AGE_KEY_LEN; i++)
		secret[i] = (unsigned char)(k * 31 + i * 7 + 1);
	T_EQ_INT(bech32_encode("AGE-SECRET-KEY-", secret, AGE_KEY_LEN, s,
	    sizeof(s)), 0);
	T_EQ_INT(age_identity_parse(s, id, NULL), LSC_OK);
}

static unsigned char *
pattern(size_t n)
{
	unsigned char *p = xmalloc(n ? n : 1);
	uint32_t x = 2463534242u;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)(i % 3 == 0 ? x : 'a' + i % 26);
	}
	return p;
}

static int
encrypt(const unsigned char (*pks)[AGE_KEY_LEN], size_t npk,
    const unsigned char *data, size_t len, size_t step, struct buf *out)
{
	struct lsc_err err = { 0 };
	struct agew *w = agew_new(pks, npk, buf_sink, out, &err);
	int rc = w == NULL ? err.code : LSC_OK;

	for (size_t off = 0; rc == LSC_OK && off < len;) {
		size_t n = step == 0 || len - off < step ? len - off : step;

		rc = agew_write(w, data + off, n, &err);
		off += n;
	}
	if (rc == LSC_OK)
		rc = agew_finish(w, &err);
	if (rc == LSC_OK)
		T_EQ_INT(agew_total_out(w), out->len);
	agew_free(w);
	return rc;
}

static int
decrypt(const struct age_identities *ids, const unsigned char *data,
    size_t len, size_t step, struct buf *out, struct lsc_err *err)
{
	struct ager *r = ager_new(ids, buf_sink, out, err);
	int rc = LSC_OK;

	for (size_t off = 0; rc == LSC_OK && off < len;) {
		size_t n = step == 0 || len - off < step ? len - off : step;

		rc = ager_feed(r, data + off, n, err);
		off += n;
	}
	if (rc == LSC_OK)
		rc = ager_finish(r, err);
	if (rc == LSC_OK)
		T_EQ_INT(ager_total_out(r), out->len);
	ager_free(r);
	return rc;
}

/* Header length of an object for one recipient: version line, stanza
 * (args line, one body line), MAC line; then the 16-byte nonce. */
#define HDR1	(22 + 3 + 7 + 43 + 1 + 43 + 1 + 4 + 43 + 1)

static void
test_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 100, 65535, 65536, 65537,
	    131072, 200000 };
	static const size_t steps[] = { 0, 1, 4099, 65552 };
	struct age_identity id;
	struct age_identities ids = { &id, 1 };
	unsigned char pk[1][AGE_KEY_LEN];

	make_id(1, &id);
	memcpy(pk[0], id.public, AGE_KEY_LEN);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i], chunks = len == 0 ? 1 :
		    (len + AGE_CHUNK_LEN - 1) / AGE_CHUNK_LEN;
		unsigned char *data = pattern(len);
		struct buf ct;

		buf_init(&ct, 1 << 24);
		T_EQ_INT(encrypt(pk, 1, data, len, 777, &ct), LSC_OK);
		T_EQ_INT(ct.len, HDR1 + 16 + len + 16 * chunks);
		T_CHECK(age_looks_encrypted(ct.data, ct.len));
		T_CHECK(memcmp(ct.data, "age-encryption.org/v1\n-> X25519 ",
		    32) == 0);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct lsc_err err = { 0 };
			struct buf pt;

			if (steps[s] == 1 && len > 70000)
				continue;
			buf_init(&pt, 1 << 24);
			T_EQ_INT(decrypt(&ids, ct.data, ct.len, steps[s], &pt, &err),
			    LSC_OK);
			T_CHECK(pt.len == len && (len == 0 ||
			    memcmp(pt.data, data, len) == 0));
			buf_release(&pt);
		}
		buf_release(&ct);
		free(data);
	}
}

/* Decrypting `ct` must fail; `got` is what was released. */
static int
refused(const struct age_identities *ids, const unsigned char *ct, size_t len,
    struct buf *got, struct lsc_err *err)
{
	return decrypt(ids, ct, len, 0, got, err) != LSC_OK;
}

static void
test_tamper_small(void)
{
	struct age_identity id;
	struct age_identities ids = { &id, 1 };
	unsigned char pk[1][AGE_KEY_LEN], *data = pattern(100);
	struct buf ct;
	int all = 1, silent = 1;

	make_id(2, &id);
	memcpy(pk[0], id.public, AGE_KEY_LEN);
	buf_init(&ct, 1 << 20);
	T_EQ_INT(encrypt(pk, 1, data, 100, 0, &ct), LSC_OK);
	/* Every bit of every byte. */
	for (size_t i = 0; i < ct.len; i++)
		for (int b = 0; b < 8; b++) {
			struct lsc_err err = { 0 };
			struct buf got;

			buf_init(&got, 1 << 20);
			ct.data[i] ^= (unsigned char)(1 << b);
			all &= refused(&ids, ct.data, ct.len, &got, &err);
			silent &= got.len == 0;
			ct.data[i] ^= (unsigned char)(1 << b);
			buf_release(&got);
		}
	T_CHECK(all);
	T_CHECK(silent);
	/* Every truncation, and one byte more. */
	all = silent = 1;
	for (size_t n = 0; n < ct.len; n++) {
		struct lsc_err err = { 0 };
		struct buf got;

		buf_init(&got, 1 << 20);
		all &= refused(&ids, ct.data, n, &got, &err);
		silent &= got.len == 0;
		buf_release(&got);
	}
	T_CHECK(all);
	T_CHECK(silent);
	buf_append(&ct, "x", 1, NULL);
	{
		struct lsc_err err = { 0 };
		struct buf got;

		buf_init(&got, 1 << 20);
		T_CHECK(refused(&ids, ct.data, ct.len, &got, &err));
		T_CHECK(strstr(err.msg, "age payload") != NULL);
		buf_release(&got);
	}
	buf_release(&ct);
	free(data);
}

/* Released bytes must be a true prefix of the plaintext. */
static int
is_prefix(const struct buf *got, const unsigned char *data, size_t len)
{
	return got->len <= len && (got->len == 0 ||
	    memcmp(got->data, data, got->len) == 0);
}

static void
test_tamper_chunks(void)
{
	const size_t len = 2 * AGE_CHUNK_LEN + 5000, sealed = AGE_CHUNK_LEN + 16;
	struct age_identity id;
	struct age_identities ids = { &id, 1 };
	unsigned char pk[1][AGE_KEY_LEN], *data = pattern(len);
	struct buf ct, mod;
	size_t p0;
	int all = 1, prefix = 1;

	make_id(3, &id);
	memcpy(pk[0], id.public, AGE_KEY_LEN);
	buf_init(&ct, 1 << 24);
	buf_init(&mod, 1 << 24);
	T_EQ_INT(encrypt(pk, 1, data, len, 0, &ct), LSC_OK);
	p0 = HDR1 + 16;		/* the first chunk */
	T_EQ_INT(ct.len, p0 + len + 3 * 16);
	/* Flips across the object, and at each chunk's edges. */
	for (size_t i = 0; i < ct.len; i += i < p0 ? 1 : 4093) {
		struct lsc_err err = { 0 };
		struct buf got;

		buf_init(&got, 1 << 24);
		ct.data[i] ^= 0x20;
		all &= refused(&ids, ct.data, ct.len, &got, &err);
		prefix &= is_prefix(&got, data, len);
		ct.data[i] ^= 0x20;
		buf_release(&got);
	}
	for (size_t c = 0; c < 3; c++)
		for (size_t d = 0; d < 2; d++) {
			size_t i = p0 + c * sealed + (d ? sealed - 1 : 0);
			struct lsc_err err = { 0 };
			struct buf got;

			if (i >= ct.len)
				i = ct.len - 1;
			buf_init(&got, 1 << 24);
			ct.data[i] ^= 1;
			all &= refused(&ids, ct.data, ct.len, &got, &err);
			prefix &= is_prefix(&got, data, len);
			ct.data[i] ^= 1;
			buf_release(&got);
		}
	/* Cuts at and around the chunk boundaries. */
	for (size_t c = 0; c <= 3; c++)
		for (int d = -1; d <= 1; d++) {
			size_t n = p0 + c * sealed + (size_t)(long)d;
			struct lsc_err err = { 0 };
			struct buf got;

			if (n >= ct.len)
				continue;
			buf_init(&got, 1 << 24);
			all &= refused(&ids, ct.data, n, &got, &err);
			prefix &= is_prefix(&got, data, len);
			buf_release(&got);
		}
	T_CHECK(all);
	T_CHECK(prefix);
	/* Drop chunk 1; swap chunks 0 and 1; repeat chunk 0. */
	{
		struct lsc_err err = { 0 };
		struct buf got;

		buf_reset(&mod);
		buf_append(&mod, ct.data, p0 + sealed, NULL);
		buf_append(&mod, ct.data + p0 + 2 * sealed, ct.len - p0 - 2 * sealed,
		    NULL);
		buf_init(&got, 1 << 24);
		T_CHECK(refused(&ids, mod.data, mod.len, &got, &err));
		T_CHECK(strstr(err.msg, "chunk 1") != NULL);
		T_EQ_INT(got.len, AGE_CHUNK_LEN);
		buf_release(&got);

		buf_reset(&mod);
		buf_append(&mod, ct.data, p0, NULL);
		buf_append(&mod, ct.data + p0 + sealed, sealed, NULL);
		buf_append(&mod, ct.data + p0, sealed, NULL);
		buf_append(&mod, ct.data + p0 + 2 * sealed, ct.len - p0 - 2 * sealed,
		    NULL);
		T_EQ_INT(mod.len, ct.len);
		buf_init(&got, 1 << 24);
		T_CHECK(refused(&ids, mod.data, mod.len, &got, &err));
		T_EQ_INT(got.len, 0);
		buf_release(&got);

		buf_reset(&mod);
		buf_append(&mod, ct.data, p0 + sealed, NULL);
		buf_append(&mod, ct.data + p0, ct.len - p0, NULL);
		buf_init(&got, 1 << 24);
		T_CHECK(refused(&ids, mod.data, mod.len, &got, &err));
		T_EQ_INT(got.len, AGE_CHUNK_LEN);
		buf_release(&got);
		/* Only the last chunk removed: no last chunk. */
		buf_reset(&mod);
		buf_append(&mod, ct.data, p0 + 2 * sealed, NULL);
		buf_init(&got, 1 << 24);
		lsc_err_clear(&err);
		T_CHECK(refused(&ids, mod.data, mod.len, &got, &err));
		T_CHECK(strstr(err.msg, "no last chunk") != NULL);
		buf_release(&got);
	}
	buf_release(&mod);
	buf_release(&ct);
	free(data);
}

static void
test_recipients(void)
{
	struct age_identity a, b, c;
	struct age_identities only_a = { &a, 1 }, only_b = { &b, 1 };
	struct age_identities only_c = { &c, 1 };
	struct age_identity cb[2];
	struct age_identities ids_cb = { cb, 2 };
	unsigned char pk[2][AGE_KEY_LEN];
	char fa[AGE_FINGERPRINT_LEN + 1], fb[AGE_FINGERPRINT_LEN + 1];
	char f1[AGE_FINGERPRINT_LEN + 1];
	unsigned char swapped[2][AGE_KEY_LEN];
	struct lsc_err err = { 0 };
	struct buf ct, pt;

	make_id(4, &a);
	make_id(5, &b);
	make_id(6, &c);
	cb[0] = c;
	cb[1] = b;
	memcpy(pk[0], a.public, AGE_KEY_LEN);
	memcpy(pk[1], b.public, AGE_KEY_LEN);
	buf_init(&ct, 1 << 20);
	buf_init(&pt, 1 << 20);
	T_EQ_INT(encrypt(pk, 2, (const unsigned char *)"hello", 5, 0, &ct),
	    LSC_OK);
	T_EQ_INT(decrypt(&only_a, ct.data, ct.len, 0, &pt, &err), LSC_OK);
	T_CHECK(pt.len == 5 && memcmp(pt.data, "hello", 5) == 0);
	buf_reset(&pt);
	T_EQ_INT(decrypt(&only_b, ct.data, ct.len, 0, &pt, &err), LSC_OK);
	buf_reset(&pt);
	T_EQ_INT(decrypt(&ids_cb, ct.data, ct.len, 0, &pt, &err), LSC_OK);
	buf_reset(&pt);
	T_EQ_INT(decrypt(&only_c, ct.data, ct.len, 0, &pt, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, "no age identity") != NULL);
	T_EQ_INT(pt.len, 0);
	/* No recipient: refused. */
	lsc_err_clear(&err);
	T_CHECK(agew_new(pk, 0, buf_sink, &ct, &err) == NULL);
	/* Fingerprints: order does not matter, the set does. */
	memcpy(swapped[0], pk[1], AGE_KEY_LEN);
	memcpy(swapped[1], pk[0], AGE_KEY_LEN);
	age_fingerprint(pk, 2, fa);
	age_fingerprint(swapped, 2, fb);
	age_fingerprint(pk, 1, f1);
	T_EQ_STR(fa, fb);
	T_CHECK(strcmp(fa, f1) != 0);
	T_EQ_INT(strlen(fa), AGE_FINGERPRINT_LEN);
	T_CHECK(strncmp(fa, "age:", 4) == 0);
	/* A plain LZ4 frame is not mistaken for age, nor fed as text. */
	T_CHECK(!age_looks_encrypted("\x04\x22\x4d\x18", 4));
	{
		struct ager *r = ager_new(&only_a, buf_sink, &pt, &err);

		lsc_err_clear(&err);
		T_EQ_INT(ager_feed(r, "\x04\x22\x4d\x18", 4, &err), LSC_ECORRUPT);
		T_CHECK(strstr(err.msg, "not an age file") != NULL);
		ager_free(r);
	}
	buf_release(&ct);
	buf_release(&pt);
}

static char *
write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	T_CHECK(fd >= 0 && write(fd, text, strlen(text)) ==
	    (ssize_t)strlen(text));
	close(fd);
	chmod(path, mode);
	return path;
}

static void
test_identity_file(void)
{
	char dir[] = "/tmp/lsc-age.XXXXXX", *path, *text, id2[128];
	struct age_identities ids = { 0 };
	struct age_identity k;
	struct lsc_err err = { 0 };

	T_CHECK(mkdtemp(dir) != NULL);
	make_id(7, &k);
	T_EQ_INT(bech32_encode("AGE-SECRET-KEY-", k.secret, AGE_KEY_LEN, id2,
	    sizeof(id2)), 0);
	text = xasprintf("# created: 2026-01-01T00:00:00Z\n# public key: %s\n"
	    "%s\n\n# a second key\r\n%s  \r\n", spec_rcpt, spec_id, id2);
	path = write_file(dir, "key.txt", text, 0600);
	T_EQ_INT(age_identity_file_load(path, &ids, &err), LSC_OK);
	T_EQ_INT(ids.n, 2);
	if (ids.n == 2)
		T_CHECK(memcmp(ids.v[1].public, k.public, AGE_KEY_LEN) == 0);
	age_identities_release(&ids);
	T_CHECK(ids.v == NULL && ids.n == 0);
	/* Readable by others: refused, saying what to do. */
	chmod(path, 0644);
	lsc_err_clear(&err);
	T_EQ_INT(age_identity_file_load(path, &ids, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, "chmod 600") != NULL);
	chmod(path, 0640);
	T_EQ_INT(age_identity_file_load(path, &ids, NULL), LSC_ECONFIG);
	chmod(path, 0400);
	T_EQ_INT(age_identity_file_load(path, &ids, NULL), LSC_OK);
	age_identities_release(&ids);
	free(path);
	free(text);
	/* A bad line: FILE:LINE, and no key material in the message. */
	text = xasprintf("# ok\n%s\n%.40sXYZ\n", spec_id, spec_id);
	path = write_file(dir, "bad.txt", text, 0600);
	lsc_err_clear(&err);
	T_EQ_INT(age_identity_file_load(path, &ids, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, "bad.txt:3:") != NULL);
	T_CHECK(strstr(err.msg, "GFPYYSJZ") == NULL);
	free(path);
	free(text);
	/* Comments only; missing; a directory. */
	path = write_file(dir, "empty.txt", "# nothing\n\n", 0600);
	lsc_err_clear(&err);
	T_EQ_INT(age_identity_file_load(path, &ids, &err), LSC_ECONFIG);
	T_CHECK(strstr(err.msg, "no AGE-SECRET-KEY") != NULL);
	unlink(path);
	T_EQ_INT(age_identity_file_load(path, &ids, NULL), LSC_ECONFIG);
	T_EQ_INT(age_identity_file_load(dir, &ids, NULL) == LSC_OK, 0);
	free(path);
	unlink(path = xasprintf("%s/key.txt", dir));
	free(path);
	unlink(path = xasprintf("%s/bad.txt", dir));
	free(path);
	rmdir(dir);
}

int
main(void)
{
	test_base64();
	test_bech32();
	test_keys();
	test_roundtrip();
	test_tamper_small();
	test_tamper_chunks();
	test_recipients();
	test_identity_file();
	return t_done();
}
