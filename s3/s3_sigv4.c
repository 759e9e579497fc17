/* SPDX-License-Identifier: MIT */
/*
 * AWS Signature Version 4 for S3, header form.  Pure code: no I/O, no
 * clock (the caller passes x-amz-date).
 *
 *	CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n
 *	                   (lower(name) ":" trimall(value) \n)* \n
 *	                   SignedHeaders \n PayloadHash
 *	StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n
 *	                   hex(SHA256(CanonicalRequest))
 *	Scope            = YYYYMMDD/region/service/aws4_request
 *	SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
 *	                   service), "aws4_request")
 *
 * S3 differs from other services: the URI is not normalised (no dot
 * segment removal, no '//' collapsing) and each byte is encoded once.
 * The signing key depends only on secret, day, region and service, so it
 * is cached per day and region (service is always s3 in the client).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/xmalloc.h"
#include "s3/s3_int.h"

static const char hexu[] = "0123456789ABCDEF";
static const char hexl[] = "0123456789abcdef";

void
s3_sigv4_init(struct s3_sigv4 *sv, const char *akid, const char *secret,
    const char *token)
{
	memset(sv, 0, sizeof(*sv));
	sv->access_key_id = xstrdup(akid ? akid : "");
	sv->secret = xstrdup(secret ? secret : "");
	sv->token = token && token[0] ? xstrdup(token) : NULL;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
s3_sigv4_release(struct s3_sigv4 *sv)
{
	free(sv->access_key_id);
	wipe_free(sv->secret);
	wipe_free(sv->token);
	explicit_bzero(sv, sizeof(*sv));
}

static int
unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
	    ch == '~';
}

void
s3_uri_encode(struct buf *out, const char *s, size_t n, int keep_slash)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char e[3];

		if (unreserved(ch) || (keep_slash && ch == '/')) {
			buf_append(out, &ch, 1, NULL);
			continue;
		}
		e[0] = '%';
		e[1] = hexu[ch >> 4];
		e[2] = hexu[ch & 15];
		buf_append(out, e, 3, NULL);
	}
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
s3_uri_decode(char *s, int plus_is_space)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r == '%') {
			int hi = hexval((unsigned char)r[1]), lo;

			if (hi < 0 || (lo = hexval((unsigned char)r[2])) < 0)
				return -1;
			if (hi == 0 && lo == 0)
				return -1;	/* a NUL would cut the string */
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else if (*r == '+' && plus_is_space) {
			*w++ = ' ';
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return 0;
}

struct qpair {
	char	*k;
	char	*v;
};

static int
cmp_qpair(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c != 0 ? c : strcmp(x->v, y->v);
}

static char *
encode_dup(const char *s, int keep_slash)
{
	struct buf b;

	buf_init(&b, (size_t)-1 / 4);
	buf_append(&b, "", 0, NULL);
	s3_uri_encode(&b, s, strlen(s), keep_slash);
	return (char *)buf_detach(&b, NULL);
}

void
s3_canonical_query(struct buf *out, const struct s3_param *p, size_t n)
{
	struct qpair *q = xcalloc(n ? n : 1, sizeof(*q));

	/* Sort by encoded name, then encoded value (byte order). */
	for (size_t i = 0; i < n; i++) {
		q[i].k = encode_dup(p[i].name, 0);
		q[i].v = encode_dup(p[i].value ? p[i].value : "", 0);
	}
	qsort(q, n, sizeof(*q), cmp_qpair);
	for (size_t i = 0; i < n; i++) {
		buf_appendf(out, NULL, "%s%s=%s", i ? "&" : "", q[i].k, q[i].v);
		free(q[i].k);
		free(q[i].v);
	}
	free(q);
}

static void
to_hex(const unsigned char *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexl[d[i] >> 4];
		out[2 * i + 1] = hexl[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void
s3_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	to_hex(md, 32, out);
}

void
s3_md5_base64(const void *data, size_t len, char out[25])
{
	unsigned char md[16];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, 16);
}

void
s3_amz_date(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

struct chdr {
	char	*name;		/* lower-cased */
	char	*value;		/* trimmed, inner runs of spaces collapsed */
};

static int
cmp_chdr(const void *a, const void *b)
{
	return strcmp(((const struct chdr *)a)->name,
	    ((const struct chdr *)b)->name);
}

static char *
trimall(const char *v)
{
	char *out = xmalloc(strlen(v) + 1), *w = out;
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space && w != out)
			*w++ = ' ';
		space = 0;
		*w++ = *v;
	}
	*w = '\0';
	return out;
}

void
s3_sigv4_canonical_request(struct buf *out, struct buf *signed_out,
    const char *method, const char *uri, const char *query,
    const struct s3_hdr *h, size_t nh, const char *payload_hash)
{
	struct chdr *c = xcalloc(nh ? nh : 1, sizeof(*c));

	for (size_t i = 0; i < nh; i++) {
		c[i].name = xstrdup(h[i].name);
		for (char *p = c[i].name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		c[i].value = trimall(h[i].value);
	}
	qsort(c, nh, sizeof(*c), cmp_chdr);
	buf_appendf(out, NULL, "%s\n%s\n%s\n", method, uri, query);
	for (size_t i = 0; i < nh; i++)
		buf_appendf(out, NULL, "%s:%s\n", c[i].name, c[i].value);
	buf_append(out, "\n", 1, NULL);
	buf_append(signed_out, "", 0, NULL);
	for (size_t i = 0; i < nh; i++) {
		buf_appendf(signed_out, NULL, "%s%s", i ? ";" : "", c[i].name);
		free(c[i].name);
		free(c[i].value);
	}
	free(c);
	buf_appendf(out, NULL, "%s\n%s", (const char *)signed_out->data,
	    payload_hash);
}

static void
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int olen = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    strlen(msg), out, &olen);
}

static void
signing_key(struct s3_sigv4 *sv, const char *date, const char *region,
    const char *service)
{
	unsigned char k1[32], k2[32], k3[32];
	char *k0;

	if (sv->key_ok && strcmp(sv->key_date, date) == 0 &&
	    strcmp(sv->key_region, region) == 0 && strcmp(service, "s3") == 0)
		return;
	k0 = xasprintf("AWS4%s", sv->secret);
	hmac(k0, strlen(k0), date, k1);
	explicit_bzero(k0, strlen(k0));
	free(k0);
	hmac(k1, 32, region, k2);
	hmac(k2, 32, service, k3);
	hmac(k3, 32, "aws4_request", sv->key);
	explicit_bzero(k1, 32);
	explicit_bzero(k2, 32);
	explicit_bzero(k3, 32);
	/* Only the S3 key is worth keeping: other services are for tests. */
	sv->key_ok = strcmp(service, "s3") == 0 &&
	    strlen(region) < sizeof(sv->key_region);
	if (sv->key_ok) {
		memcpy(sv->key_date, date, 8);
		sv->key_date[8] = '\0';
		/* Fits: checked against sizeof above. */
		memcpy(sv->key_region, region, strlen(region) + 1);
	}
	sv->key_derivations++;
}

void
s3_sigv4_sign(struct s3_sigv4 *sv, const char *region, const char *service,
    const char *amz_date, const char *method, const char *uri,
    const char *query, const struct s3_hdr *h, size_t nh,
    const char *payload_hash, struct buf *authz, struct buf *creq_out,
    struct buf *sts_out)
{
	struct buf creq, sts, sh;
	char date[9], crhash[65], sighex[65];
	unsigned char sig[32];

	buf_init(&creq, (size_t)-1 / 4);
	buf_init(&sts, (size_t)-1 / 4);
	buf_init(&sh, (size_t)-1 / 4);
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	s3_sigv4_canonical_request(&creq, &sh, method, uri, query, h, nh,
	    payload_hash);
	s3_sha256_hex(creq.data, creq.len, crhash);
	buf_appendf(&sts, NULL, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
	    amz_date, date, region, service, crhash);
	signing_key(sv, date, region, service);
	hmac(sv->key, 32, (const char *)sts.data, sig);
	to_hex(sig, 32, sighex);
	if (!sv->key_ok)
		explicit_bzero(sv->key, sizeof(sv->key));
	buf_appendf(authz, NULL,
	    "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
	    "SignedHeaders=%s, Signature=%s", sv->access_key_id, date, region,
	    service, (const char *)sh.data, sighex);
	if (creq_out != NULL)
		buf_append(creq_out, creq.data, creq.len, NULL);
	if (sts_out != NULL)
		buf_append(sts_out, sts.data, sts.len, NULL);
	buf_release(&creq);
	buf_release(&sts);
	buf_release(&sh);
}
