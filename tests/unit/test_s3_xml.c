/* SPDX-License-Identifier: MIT */
/*
 * S3 reply parsers (ListBucketResult v2 with encoding-type=url, Error,
 * InitiateMultipartUploadResult, CompleteMultipartUploadResult incl. 200
 * carrying <Error>, DeleteResult with per-key errors), dates, the retry
 * classification and back-off, and request building (addressing).
 */
#include <stdlib.h>
#include <string.h>

#include "common/xmalloc.h"
#include "s3/s3_int.h"
#include "t.h"

#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

struct seen {
	char	*keys[16];
	uint64_t sizes[16];
	int64_t	 mtimes[16];
	int	 n;
};

static int
on_obj(void *ctx, const char *key, uint64_t size, int64_t mtime_ns,
    struct lsc_err *err)
{
	struct seen *s = ctx;

	(void)err;
	if (s->n < 16) {
		s->keys[s->n] = xstrdup(key);
		s->sizes[s->n] = size;
		s->mtimes[s->n] = mtime_ns;
		s->n++;
	}
	return LSC_OK;
}

static void
seen_free(struct seen *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->keys[i]);
	memset(s, 0, sizeof(*s));
}

static void
test_list(void)
{
	const char *page1 =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<ListBucketResult " NS "><Name>bkt</Name><Prefix>db%2F</Prefix>"
	    "<KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys>"
	    "<IsTruncated>true</IsTruncated>"
	    "<Contents><Key>db/a+b%2Bc</Key>"
	    "<LastModified>2009-10-12T17:50:30.000Z</LastModified>"
	    "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>"
	    "<Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>"
	    "<Contents><Key>db/%C3%A9t%C3%A9%01x</Key>"
	    "<LastModified>2024-02-29T23:59:59Z</LastModified>"
	    "<Size>0</Size></Contents>"
	    "<Contents><Key>db/100%25</Key>"
	    "<LastModified>2024-01-01T00:00:00.5Z</LastModified>"
	    "<Size>18446744073709551615</Size></Contents>"
	    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
	    "</NextContinuationToken><EncodingType>url</EncodingType>"
	    "</ListBucketResult>";
	const char *plain =
	    "<ListBucketResult " NS "><IsTruncated>false</IsTruncated>"
	    "<Contents><Key>db/a%20b</Key><Size>1</Size>"
	    "<LastModified>1970-01-01T00:00:01.000Z</LastModified></Contents>"
	    "<Contents><Key>a &amp; b &lt;c&gt;</Key><Size>2</Size></Contents>"
	    "</ListBucketResult>";
	struct s3_list_page pg;
	struct seen s;
	struct lsc_err err = { 0 };

	memset(&s, 0, sizeof(s));
	T_EQ_INT(s3_xml_list(page1, strlen(page1), on_obj, &s, &pg, &err), LSC_OK);
	T_EQ_INT(s.n, 3);
	T_EQ_STR(s.keys[0], "db/a b+c");
	T_EQ_INT(s.sizes[0], 434234);
	T_EQ_INT(s.mtimes[0], 1255369830LL * 1000000000);
	T_EQ_STR(s.keys[1], "db/\xc3\xa9t\xc3\xa9\x01x");
	T_EQ_INT(s.mtimes[1], 1709251199LL * 1000000000);
	T_EQ_STR(s.keys[2], "db/100%");
	T_CHECK(s.sizes[2] == UINT64_MAX);
	T_EQ_INT(s.mtimes[2], 1704067200LL * 1000000000 + 500000000);
	T_EQ_INT(pg.truncated, 1);
	T_EQ_INT(pg.url_encoded, 1);
	T_EQ_STR(pg.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	free(pg.next_token);
	seen_free(&s);

	/* Without <EncodingType> (s3rver ignores the parameter): as is. */
	T_EQ_INT(s3_xml_list(plain, strlen(plain), on_obj, &s, &pg, &err), LSC_OK);
	T_EQ_INT(s.n, 2);
	T_EQ_STR(s.keys[0], "db/a%20b");
	T_EQ_STR(s.keys[1], "a & b <c>");
	T_EQ_INT(pg.truncated, 0);
	T_CHECK(pg.next_token == NULL);
	seen_free(&s);

	/* A key that does not decode (%00 would cut it, %zz is no escape)
	 * comes through as listed: never one of ours, skipped by the caller,
	 * and the listing's other keys still count. */
	{
		const char *odd = "<ListBucketResult><EncodingType>url</EncodingType>"
		    "<Contents><Key>a%00b</Key><Size>1</Size></Contents>"
		    "<Contents><Key>x%zz</Key><Size>1</Size></Contents>"
		    "<Contents><Key>%2e%2e/%01</Key><Size>1</Size></Contents>"
		    "</ListBucketResult>";

		lsc_err_clear(&err);
		T_EQ_INT(s3_xml_list(odd, strlen(odd), on_obj, &s, &pg, &err),
		    LSC_OK);
		T_EQ_INT(s.n, 3);
		T_EQ_STR(s.keys[0], "a%00b");
		T_EQ_STR(s.keys[1], "x%zz");
		T_EQ_STR(s.keys[2], "../\x01");
		seen_free(&s);
	}

	/* Refused: not a listing, bad size, truncated without token, not
	 * XML, too deep. */
	{
		const char *bad[] = {
			"<Error><Code>x</Code></Error>",
			"<ListBucketResult><Contents><Key>k</Key><Size>-1</Size>"
			"</Contents></ListBucketResult>",
			"<ListBucketResult><IsTruncated>true</IsTruncated>"
			"</ListBucketResult>",
			"<ListBucketResult><Contents><Size>1</Size></Contents>"
			"</ListBucketResult>",
			"not xml at all",
			"<ListBucketResult><a><b><c><d><e><f><g><h><i><j><k><l><m><n>"
			"<o><p><q></q></p></o></n></m></l></k></j></i></h></g></f></e>"
			"</d></c></b></a></ListBucketResult>",
			"",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			lsc_err_clear(&err);
			T_EQ_INT(s3_xml_list(bad[i], strlen(bad[i]), on_obj, &s, &pg,
			    &err), LSC_ECORRUPT);
			T_CHECK(err.msg[0] != '\0');
			seen_free(&s);
		}
	}
}

static void
test_error(void)
{
	const char *skew =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>"
	    "<Code>RequestTimeTooSkewed</Code><Message>The difference between "
	    "the request time and the current time is too large.</Message>"
	    "<RequestTime>20190726T221748Z</RequestTime>"
	    "<ServerTime>2019-07-26T22:33:27Z</ServerTime>"
	    "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>"
	    "<RequestId>601AA1A7F7E37AE9</RequestId></Error>";
	const char *region =
	    "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region "
	    "'us-east-1' is wrong; expecting 'eu-west-1'</Message>"
	    "<Region>eu-west-1</Region></Error>";
	struct s3_error_info e;
	int64_t ns;

	T_EQ_INT(s3_xml_error(skew, strlen(skew), &e), 1);
	T_EQ_STR(e.code, "RequestTimeTooSkewed");
	T_EQ_STR(e.server_time, "2019-07-26T22:33:27Z");
	T_EQ_STR(e.request_time, "20190726T221748Z");
	T_EQ_INT(s3_parse_iso8601(e.server_time, &ns), 0);
	T_EQ_INT(ns, 1564180407LL * 1000000000);
	T_EQ_INT(s3_xml_error(region, strlen(region), &e), 1);
	T_EQ_STR(e.code, "AuthorizationHeaderMalformed");
	T_EQ_STR(e.region, "eu-west-1");
	T_EQ_INT(s3_xml_error("<Foo/>", 6, &e), 0);
	T_EQ_INT(s3_xml_error("<html>oops", 10, &e), -1);
	T_EQ_INT(s3_xml_error("", 0, &e), -1);
	/* A message longer than the field is cut, not overflowed. */
	{
		char big[2048];

		snprintf(big, sizeof(big), "<Error><Code>X</Code><Message>%0*d"
		    "</Message></Error>", 1500, 7);
		T_EQ_INT(s3_xml_error(big, strlen(big), &e), 1);
		T_EQ_INT(strlen(e.message), sizeof(e.message) - 1);
	}
}

static void
test_multipart(void)
{
	const char *init =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	    "<InitiateMultipartUploadResult " NS "><Bucket>b</Bucket>"
	    "<Key>k</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5t"
	    "MnRzIHVwbG9hZA</UploadId></InitiateMultipartUploadResult>";
	const char *done =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n\n"
	    "<CompleteMultipartUploadResult " NS "><Location>http://x/b/k"
	    "</Location><Bucket>b</Bucket><Key>k</Key><ETag>\"3858f62230ac3c915f"
	    "300c664312c11f-9\"</ETag></CompleteMultipartUploadResult>";
	const char *fail200 =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n\n<Error>"
	    "<Code>InternalError</Code><Message>We encountered an internal "
	    "error. Please try again.</Message></Error>";
	struct s3_error_info e;
	struct lsc_err err = { 0 };
	char *id = NULL;

	T_EQ_INT(s3_xml_initiate(init, strlen(init), &id, &err), LSC_OK);
	T_EQ_STR(id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
	free(id);
	T_EQ_INT(s3_xml_initiate("<InitiateMultipartUploadResult/>", 32, &id,
	    &err), LSC_ECORRUPT);
	T_EQ_INT(s3_xml_complete(done, strlen(done), &e, &err), LSC_OK);
	lsc_err_clear(&err);
	T_EQ_INT(s3_xml_complete(fail200, strlen(fail200), &e, &err), LSC_ES3);
	T_EQ_STR(e.code, "InternalError");
	T_CHECK(strstr(err.msg, "InternalError") != NULL);
	T_EQ_INT(err.sys, 200);
	/* A 200 cut short before the body is complete: retryable. */
	lsc_err_clear(&err);
	T_EQ_INT(s3_xml_complete("<CompleteMultipartUploadResult>", 31, &e,
	    &err), LSC_ENET);
	lsc_err_clear(&err);
	T_EQ_INT(s3_xml_complete("<Other/>", 8, &e, &err), LSC_ECORRUPT);
}

struct delerrs {
	char	 log[1024];
	int	 n;
};

static void
on_delerr(void *ctx, const char *key, const char *code, const char *msg)
{
	struct delerrs *d = ctx;
	size_t l = strlen(d->log);

	snprintf(d->log + l, sizeof(d->log) - l, "%s=%s(%s);", key, code, msg);
	d->n++;
}

static void
test_delete(void)
{
	const char *res =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DeleteResult " NS ">"
	    "<Deleted><Key>ok1</Key></Deleted>"
	    "<Error><Key>a&amp;b</Key><Code>InternalError</Code>"
	    "<Message>try again</Message></Error>"
	    "<Deleted><Key>ok2</Key></Deleted>"
	    "<Error><Key>gone</Key><Code>AccessDenied</Code>"
	    "<Message>Access Denied</Message></Error>"
	    "</DeleteResult>";
	struct delerrs d;
	struct lsc_err err = { 0 };
	struct buf b;

	memset(&d, 0, sizeof(d));
	T_EQ_INT(s3_xml_delete_result(res, strlen(res), on_delerr, &d, &err),
	    LSC_OK);
	T_EQ_INT(d.n, 2);
	T_EQ_STR(d.log, "a&b=InternalError(try again);gone=AccessDenied(Access "
	    "Denied);");
	T_EQ_INT(s3_xml_delete_result("<DeleteResult " NS "/>",
	    strlen("<DeleteResult " NS "/>"), on_delerr, &d, &err), LSC_OK);
	T_EQ_INT(s3_xml_delete_result("<Error><Code>x</Code></Error>", 29,
	    on_delerr, &d, &err), LSC_ECORRUPT);

	buf_init(&b, 4096);
	s3_xml_escape(&b, "a&b<c>\"d'e");
	T_EQ_STR((const char *)b.data, "a&amp;b&lt;c&gt;&quot;d&apos;e");
	buf_release(&b);
}

static void
test_dates(void)
{
	int64_t v;

	T_EQ_INT(s3_parse_iso8601("1970-01-01T00:00:00Z", &v), 0);
	T_EQ_INT(v, 0);
	T_EQ_INT(s3_parse_iso8601("2038-01-19T03:14:08.123456789Z", &v), 0);
	T_EQ_INT(v, 2147483648LL * 1000000000 + 123456789);
	T_EQ_INT(s3_parse_iso8601("2024-01-01T00:00:00", &v), -1);
	T_EQ_INT(s3_parse_iso8601("2024-01-01T00:00:00.Z", &v), -1);
	T_EQ_INT(s3_parse_iso8601("yesterday", &v), -1);
	/* Beyond int64_t nanoseconds: refused, not overflowed (UBSan). */
	T_EQ_INT(s3_parse_iso8601("2261-12-31T23:59:59.999Z", &v), 0);
	T_EQ_INT(s3_parse_iso8601("4601-01-02T03:04:05.123456789Z", &v), -1);
	T_EQ_INT(s3_parse_iso8601("0001-01-01T00:00:00Z", &v), -1);
	T_EQ_INT(s3_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &v), 0);
	T_EQ_INT(v, 784111777);
	T_EQ_INT(s3_parse_http_date("06 Nov 1994", &v), -1);
}

static void
test_retry(void)
{
	/* Retried. */
	T_EQ_INT(s3_retryable(LSC_ENET, 0, NULL), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 500, "InternalError"), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 503, "SlowDown"), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 502, ""), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 504, NULL), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 408, ""), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 429, ""), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 400, "RequestTimeout"), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 409, "OperationAborted"), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 200, "InternalError"), 1);
	T_EQ_INT(s3_retryable(LSC_ES3, 499, ""), 1);
	/* Not retried. */
	T_EQ_INT(s3_retryable(LSC_ES3, 403, "SignatureDoesNotMatch"), 0);
	T_EQ_INT(s3_retryable(LSC_ES3, 403, "AccessDenied"), 0);
	T_EQ_INT(s3_retryable(LSC_ES3, 403, "InvalidAccessKeyId"), 0);
	T_EQ_INT(s3_retryable(LSC_ES3, 404, "NoSuchBucket"), 0);
	T_EQ_INT(s3_retryable(LSC_ES3, 403, "RequestTimeTooSkewed"), 0);
	T_EQ_INT(s3_retryable(LSC_ES3, 400, "AuthorizationHeaderMalformed"), 0);
	T_EQ_INT(s3_retryable(LSC_ES3, 301, "PermanentRedirect"), 0);
	T_EQ_INT(s3_retryable(LSC_ES3, 400, "BadDigest"), 0);
	T_EQ_INT(s3_retryable(LSC_ENOTFOUND, 404, "NoSuchKey"), 0);
	T_EQ_INT(s3_retryable(LSC_ECORRUPT, 0, NULL), 0);
	T_EQ_INT(s3_retryable(LSC_ESTOP, 0, NULL), 0);
	/* Full jitter within [0, min(cap, base * 2^n)]. */
	{
		int64_t mx[3] = { 0, 0, 0 };
		uint64_t r = 1;

		for (int i = 0; i < 10000; i++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			int64_t a = s3_backoff_ms(0, r >> 11);
			int64_t b = s3_backoff_ms(3, r >> 11);
			int64_t c = s3_backoff_ms(40, r >> 11);

			if (a > mx[0]) mx[0] = a;
			if (b > mx[1]) mx[1] = b;
			if (c > mx[2]) mx[2] = c;
			if (a < 0 || b < 0 || c < 0)
				mx[0] = 1000000;
		}
		T_CHECK(mx[0] <= 100 && mx[0] >= 90);
		T_CHECK(mx[1] <= 800 && mx[1] >= 700);
		T_CHECK(mx[2] <= 30000 && mx[2] >= 29000);
	}
	T_EQ_INT(s3_backoff_ms(1000000, UINT64_MAX), UINT64_MAX % 30001);
}

static void
prep_check(const char *endpoint, int path_style, const char *bucket,
    const char *region, const char *key, const char *want_url,
    const char *want_host)
{
	struct s3_config cfg;
	struct s3_client *c;
	struct s3_prepared p;
	struct s3_reqspec spec;
	struct s3_param q[1] = { { "prefix", "a b/" } };
	struct lsc_err err = { 0 };
	char host[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.endpoint = endpoint;
	cfg.path_style = path_style;
	cfg.bucket = bucket;
	cfg.region = region;
	cfg.access_key_id = "AK";
	cfg.secret_access_key = "SK";
	cfg.session_token = "TOKEN";
	c = s3_client_new(&cfg, &err);
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	memset(&spec, 0, sizeof(spec));
	spec.method = "GET";
	spec.key = key;
	spec.params = key ? NULL : q;
	spec.nparams = key ? 0 : 1;
	spec.payload_hash = "UNSIGNED-PAYLOAD";
	s3_prepare(c, &spec, 1369353600, &p);
	T_EQ_STR(p.url, want_url);
	snprintf(host, sizeof(host), "host: %s", want_host);
	T_EQ_STR(p.headers[0], host);
	T_EQ_STR(p.headers[1], "x-amz-date: 20130524T000000Z");
	T_EQ_STR(p.headers[3], "x-amz-security-token: TOKEN");
	T_EQ_STR(p.signed_headers,
	    "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
	T_CHECK(strncmp(p.headers[p.nheaders - 1], "Authorization: AWS4-HMAC-"
	    "SHA256 Credential=AK/20130524/", 45) == 0);
	s3_prepared_release(&p);
	s3_client_free(c);
}

static void
test_prepare(void)
{
	struct s3_config cfg;
	struct lsc_err err = { 0 };

	prep_check(NULL, 0, "bkt", "eu-west-1", "db/a b",
	    "https://bkt.s3.eu-west-1.amazonaws.com/db/a%20b",
	    "bkt.s3.eu-west-1.amazonaws.com");
	prep_check(NULL, 1, "bkt", NULL, NULL,
	    "https://s3.us-east-1.amazonaws.com/bkt?prefix=a%20b%2F",
	    "s3.us-east-1.amazonaws.com");
	prep_check("http://127.0.0.1:9000", 0, "bkt", "auto", "k",
	    "http://127.0.0.1:9000/bkt/k", "127.0.0.1:9000");
	prep_check("https://MinIO.local:443/", 1, "bkt", NULL, "x/y",
	    "https://minio.local/bkt/x/y", "minio.local");
	prep_check("http://minio.local:80", 0, "bkt", NULL, "x",
	    "http://bkt.minio.local/x", "bkt.minio.local");
	prep_check("https://r2.example:8443", 0, "my.bkt", "auto", "x",
	    "https://r2.example:8443/my.bkt/x", "r2.example:8443");
	prep_check("s3.example.com", 0, "b", NULL, "k",
	    "https://b.s3.example.com/k", "b.s3.example.com");

	/* Bad configurations, each with a message. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.bucket = "b";
	cfg.access_key_id = "AK";
	cfg.secret_access_key = "SK";
	cfg.endpoint = "ftp://x";
	T_CHECK(s3_client_new(&cfg, &err) == NULL);
	T_EQ_INT(err.code, LSC_ECONFIG);
	lsc_err_clear(&err);
	cfg.endpoint = "http://user:pw@host";
	T_CHECK(s3_client_new(&cfg, &err) == NULL);
	lsc_err_clear(&err);
	cfg.endpoint = "http://host/path";
	T_CHECK(s3_client_new(&cfg, &err) == NULL);
	lsc_err_clear(&err);
	cfg.endpoint = "http://host\r\nX: y";
	T_CHECK(s3_client_new(&cfg, &err) == NULL);
	lsc_err_clear(&err);
	cfg.endpoint = NULL;
	cfg.secret_access_key = NULL;
	T_CHECK(s3_client_new(&cfg, &err) == NULL);
	T_CHECK(strstr(err.msg, "AWS_SECRET_ACCESS_KEY") != NULL);
	lsc_err_clear(&err);
	cfg.secret_access_key = "SK";
	cfg.bucket = "bad/bucket";
	T_CHECK(s3_client_new(&cfg, &err) == NULL);
	lsc_err_clear(&err);
	cfg.bucket = "b";
	cfg.region = "us east";
	T_CHECK(s3_client_new(&cfg, &err) == NULL);
}

int
main(void)
{
	test_list();
	test_error();
	test_multipart();
	test_delete();
	test_dates();
	test_retry();
	test_prepare();
	return t_done();
}
