/* SPDX-License-Identifier: MIT */
/*
 * SigV4: the four worked examples of the S3 API reference, pgBackRest's
 * vectors (incl. key caching and a session token), aws-sig-v4-test-suite
 * get-vanilla, and canonicalisation edge cases.  Vectors and sources are
 * listed in /work/shared/S3-AND-TESTING.md section 2.
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "s3/s3_int.h"
#include "t.h"

#define E_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define AWS_AK "AKIAIOSFODNN7EXAMPLE"
#define AWS_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EX_HOST "examplebucket.s3.amazonaws.com"
#define EX_DATE "20130524T000000Z"

static char *
sig_of(const struct buf *authz)
{
	const char *s = strstr((const char *)authz->data, "Signature=");

	return s ? xstrdup(s + 10) : NULL;
}

static void
sign_check(struct s3_sigv4 *sv, const char *region, const char *service,
    const char *date, const char *method, const char *uri, const char *query,
    const struct s3_hdr *h, size_t nh, const char *payload,
    const char *want_sts_hash, const char *want_sig)
{
	struct buf authz, creq, sts;
	char hash[65];
	char *sig;

	buf_init(&authz, 1 << 20);
	buf_init(&creq, 1 << 20);
	buf_init(&sts, 1 << 20);
	s3_sigv4_sign(sv, region, service, date, method, uri, query, h, nh,
	    payload, &authz, &creq, &sts);
	if (want_sts_hash != NULL) {
		s3_sha256_hex(creq.data, creq.len, hash);
		T_EQ_STR(hash, want_sts_hash);
	}
	sig = sig_of(&authz);
	T_EQ_STR(sig, want_sig);
	free(sig);
	buf_release(&authz);
	buf_release(&creq);
	buf_release(&sts);
}

static void
test_aws_examples(void)
{
	struct s3_sigv4 sv;
	struct buf uri;
	const char *put_hash =
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
	struct s3_hdr get_h[] = {
		{ "Host", EX_HOST }, { "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", E_HASH }, { "x-amz-date", EX_DATE },
	};
	struct s3_hdr put_h[] = {
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" }, { "Host", EX_HOST },
		{ "x-amz-date", EX_DATE }, { "x-amz-storage-class",
		"REDUCED_REDUNDANCY" }, { "x-amz-content-sha256", put_hash },
	};
	struct s3_hdr bkt_h[] = {
		{ "Host", EX_HOST }, { "x-amz-content-sha256", E_HASH },
		{ "x-amz-date", EX_DATE },
	};
	struct s3_param lc[] = { { "lifecycle", NULL } };
	struct s3_param ls[] = { { "prefix", "J" }, { "max-keys", "2" } };
	struct buf q;
	char body_hash[65];

	s3_sigv4_init(&sv, AWS_AK, AWS_SK, NULL);
	sign_check(&sv, "us-east-1", "s3", EX_DATE, "GET", "/test.txt", "",
	    get_h, 4, E_HASH,
	    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
	    "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

	/* PUT: the key is encoded by our encoder, the body hashed by us. */
	s3_sha256_hex("Welcome to Amazon S3.", 21, body_hash);
	T_EQ_STR(body_hash, put_hash);
	buf_init(&uri, 4096);
	buf_append(&uri, "/", 1, NULL);
	s3_uri_encode(&uri, "test$file.text", 14, 1);
	T_EQ_STR((const char *)uri.data, "/test%24file.text");
	sign_check(&sv, "us-east-1", "s3", EX_DATE, "PUT",
	    (const char *)uri.data, "", put_h, 5, put_hash,
	    "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
	    "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	buf_release(&uri);

	buf_init(&q, 4096);
	s3_canonical_query(&q, lc, 1);
	T_EQ_STR((const char *)q.data, "lifecycle=");
	sign_check(&sv, "us-east-1", "s3", EX_DATE, "GET", "/",
	    (const char *)q.data, bkt_h, 3, E_HASH,
	    "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
	    "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
	buf_release(&q);

	buf_init(&q, 4096);
	s3_canonical_query(&q, ls, 2);
	T_EQ_STR((const char *)q.data, "max-keys=2&prefix=J");
	sign_check(&sv, "us-east-1", "s3", EX_DATE, "GET", "/",
	    (const char *)q.data, bkt_h, 3, E_HASH,
	    "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
	    "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	buf_release(&q);
	/* Four signatures on one day and region: one key derivation. */
	T_EQ_INT(sv.key_derivations, 1);
	s3_sigv4_release(&sv);
}

/* pgBackRest test/src/module/storage/s3Test.c: key cache and a token. */
static void
test_pgbackrest(void)
{
	const char *token =
	    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"
	    "LWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGd"
	    "QrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU"
	    "9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz"
	    "+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
	struct s3_sigv4 sv;
	struct s3_hdr h[4] = {
		{ "host", "bucket.s3.amazonaws.com" },
		{ "x-amz-content-sha256", E_HASH },
		{ "x-amz-date", "20170606T121212Z" },
		{ "x-amz-security-token", token },
	};

	s3_sigv4_init(&sv, AWS_AK, AWS_SK, NULL);
	sign_check(&sv, "us-east-1", "s3", "20170606T121212Z", "GET", "/",
	    "list-type=2", h, 3, E_HASH, NULL,
	    "cb03bf1d575c1f8904dabf0e573990375340ab293ef7ad18d049fc1338fd89b3");
	sign_check(&sv, "us-east-1", "s3", "20170606T121212Z", "GET", "/",
	    "list-type=2", h, 3, E_HASH, NULL,
	    "cb03bf1d575c1f8904dabf0e573990375340ab293ef7ad18d049fc1338fd89b3");
	T_EQ_INT(sv.key_derivations, 1);	/* reused */
	h[2].value = "20180814T080808Z";
	sign_check(&sv, "us-east-1", "s3", "20180814T080808Z", "GET", "/",
	    "list-type=2", h, 3, E_HASH, NULL,
	    "d0fa9c36426eb94cdbaf287a7872c7a3b6c913f523163d0d7debba0758e36f49");
	T_EQ_INT(sv.key_derivations, 2);	/* a new day, a new key */
	s3_sigv4_release(&sv);

	s3_sigv4_init(&sv, AWS_AK, AWS_SK, token);
	h[2].value = "20170606T121212Z";
	sign_check(&sv, "us-east-1", "s3", "20170606T121212Z", "GET", "/",
	    "list-type=2", h, 4, E_HASH, NULL,
	    "c12565bf5d7e0ef623f76d66e09e5431aebef803f6a25a01c586525f17e474a3");
	s3_sigv4_release(&sv);
}

/* aws-sig-v4-test-suite get-vanilla (service "service"). */
static void
test_get_vanilla(void)
{
	struct s3_sigv4 sv;
	struct s3_hdr h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct buf authz;

	s3_sigv4_init(&sv, "AKIDEXAMPLE",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL);
	sign_check(&sv, "us-east-1", "service", "20150830T123600Z", "GET", "/",
	    "", h, 2, E_HASH, NULL,
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	buf_init(&authz, 4096);
	s3_sigv4_sign(&sv, "us-east-1", "service", "20150830T123600Z", "GET",
	    "/", "", h, 2, E_HASH, &authz, NULL, NULL);
	T_EQ_STR((const char *)authz.data,
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
	    "aws4_request, SignedHeaders=host;x-amz-date, Signature="
	    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	buf_release(&authz);
	s3_sigv4_release(&sv);
}

static void
enc_check(const char *in, int keep_slash, const char *want)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	buf_append(&b, "", 0, NULL);
	s3_uri_encode(&b, in, strlen(in), keep_slash);
	T_EQ_STR((const char *)b.data, want);
	buf_release(&b);
}

static void
test_canonical(void)
{
	struct buf q, creq, sh;
	char dec[64];
	struct s3_param ct[] = {
		{ "prefix", "db/gen 1/" }, { "list-type", "2" },
		{ "continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vb=" },
		{ "encoding-type", "url" },
	};
	struct s3_param dup[] = { { "b", "2" }, { "a", "2" }, { "a", "1" },
	    { "A", "3" } };
	struct s3_hdr h[] = {
		{ "X-Amz-Date", "20130524T000000Z" },
		{ "HOST", "  h.example:9000  " },
		{ "x-amz-meta-a", "a   b \t c" },
	};

	/* Every byte but A-Za-z0-9-_.~ encoded once, upper-case hex. */
	enc_check("a b+c@d$e~f%g!h'i(j)k*l", 1,
	    "a%20b%2Bc%40d%24e~f%25g%21h%27i%28j%29k%2Al");
	enc_check("AZaz09-_.~", 0, "AZaz09-_.~");
	enc_check("d\xc3\xa9j\xc3\xa0/vu", 1, "d%C3%A9j%C3%A0/vu");
	enc_check("a/b//c/", 1, "a/b//c/");	/* no normalisation */
	enc_check("a/b", 0, "a%2Fb");
	enc_check("./../x", 1, "./../x");
	enc_check("=&?#:", 0, "%3D%26%3F%23%3A");
	enc_check("%20", 1, "%2520");		/* never decoded first */
	enc_check("\x7f\x01", 0, "%7F%01");

	strcpy(dec, "a%20b%2Fc%c3%A9");
	T_EQ_INT(s3_uri_decode(dec, 0), 0);
	T_EQ_STR(dec, "a b/c\xc3\xa9");
	strcpy(dec, "bad%2");
	T_EQ_INT(s3_uri_decode(dec, 0), -1);
	strcpy(dec, "nul%00x");
	T_EQ_INT(s3_uri_decode(dec, 1), -1);
	/* Form encoding (S3 listings): '+' is a space, %2B a plus. */
	strcpy(dec, "my+dir/a+b%2Bc=%3D%25");
	T_EQ_INT(s3_uri_decode(dec, 1), 0);
	T_EQ_STR(dec, "my dir/a b+c==%");
	strcpy(dec, "my+dir");
	T_EQ_INT(s3_uri_decode(dec, 0), 0);
	T_EQ_STR(dec, "my+dir");

	buf_init(&q, 4096);
	buf_append(&q, "", 0, NULL);
	s3_canonical_query(&q, ct, 4);
	T_EQ_STR((const char *)q.data,
	    "continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vb%3D"
	    "&encoding-type=url&list-type=2&prefix=db%2Fgen%201%2F");
	buf_reset(&q);
	/* Sorted by name then value, byte order (upper case first). */
	s3_canonical_query(&q, dup, 4);
	T_EQ_STR((const char *)q.data, "A=3&a=1&a=2&b=2");
	buf_release(&q);

	buf_init(&creq, 4096);
	buf_init(&sh, 4096);
	s3_sigv4_canonical_request(&creq, &sh, "PUT", "/k", "", h, 3, E_HASH);
	T_EQ_STR((const char *)creq.data,
	    "PUT\n/k\n\nhost:h.example:9000\nx-amz-date:20130524T000000Z\n"
	    "x-amz-meta-a:a b c\n\nhost;x-amz-date;x-amz-meta-a\n" E_HASH);
	T_EQ_STR((const char *)sh.data, "host;x-amz-date;x-amz-meta-a");
	buf_release(&creq);
	buf_release(&sh);
}

static void
test_hashes(void)
{
	char md5[25], date[17];

	s3_md5_base64("", 0, md5);
	T_EQ_STR(md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
	s3_md5_base64("ABCD", 4, md5);
	T_EQ_STR(md5, "ywjKSnu1+Wg8GRM6hIcspw==");
	s3_amz_date(1491267845, date);
	T_EQ_STR(date, "20170404T010405Z");
}

int
main(void)
{
	test_aws_examples();
	test_pgbackrest();
	test_get_vanilla();
	test_canonical();
	test_hashes();
	return t_done();
}
